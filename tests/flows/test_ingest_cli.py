"""`counterclips interviewee ...` and `counterclips candidates` in-process (fast)."""

from __future__ import annotations

import json

from clips_metadata.store import Store
from flows.cli import main
from tests.clips_metadata.helpers import Proposal, Warning_, flags, media, sentences, transcript


def test_interviewee_add_list_set_and_errors(workspace, capsys):
    w = ["--workspace", str(workspace.root)]
    assert (
        main(
            [
                "interviewee",
                "add",
                "Abu Layla",
                "--real-name",
                "Jamal K",
                "--real-name",
                "J. Karim",
                "--identifying-word",
                "Raqqa bakery",
                "--public",
                "--consent-face",
                "yes",
                "--consent-voice",
                "no",
                "--consent-language",
                "en",
                "--consent-language",
                "ar",
                "--consent-platform",
                "*",
                "--consent-expires",
                "2027-06-30",
                *w,
            ]
        )
        == 0
    )
    assert main(["interviewee", "add", "Abu Layla", *w]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["interviewee", "add", "X", "--consent-face", "maybe", *w]) == 1
    assert "--consent-face takes yes or no" in capsys.readouterr().err
    assert main(["interviewee", "add", "Y", "--consent-expires", "next year", *w]) == 1
    capsys.readouterr()
    assert main(["interviewee", "set", "Abu Layla", "--consent-voice", "yes", *w]) == 0
    assert main(["interviewee", "list", "--json", *w]) == 0
    (p,) = json.loads(capsys.readouterr().out.split("\n", 1)[1])  # after the `set` line
    assert p["pseudonym"] == "Abu Layla" and p["real_names"] == ["Jamal K", "J. Karim"] and p["is_public"]
    assert p["consent"] == {
        "face": True,
        "voice": True,
        "name": False,
        "languages": ["en", "ar"],
        "platforms": ["*"],
        "expires": "2027-06-30",
    }
    assert main(["interviewee", "list", *w]) == 0
    assert "Abu Layla public" in capsys.readouterr().out


def test_candidates_json_and_filters(workspace, capsys):
    store = Store.for_workspace(workspace)
    store.add_interviewee("Abu")
    iv, _ = store.register_interview(media(), None)  # unassigned footage
    sents = sentences(6)
    tr = store.add_transcript(iv.id, transcript(sents), sents)
    store.save_flags(
        tr.id, flags(sents, {0: ("false_promises",)}), [Warning_("intent_to_return", 5, 45.0, 50.0, "...")]
    )
    a, b = store.add_candidates(
        tr.id,
        [
            Proposal(0.4, 18.0, (0, 1), ("false_promises",), (), 0.9),
            Proposal(27.0, 45.0, (3, 4), ("coercion_fear",), ("self_incrimination",), 0.5),
        ],
    )
    store.set_candidate_status(b.id, "approved", expected_version=1, by="rev")
    store.close()
    w = ["--workspace", str(workspace.root)]

    assert main(["candidates", "--json", *w]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in out] == [a.id, b.id]
    first = out[0]
    for key in ("id", "interview", "start", "end", "themes", "risks", "rank", "status"):
        assert key in first
    assert first["interview"] == iv.id and first["themes"] == ["false_promises"]
    assert first["risks"] == ["credibility"] and out[1]["risks"] == ["self_incrimination", "credibility"]
    assert main(["candidates", "--status", "approved", "--json", *w]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)] == [b.id]
    assert main(["candidates", "--risk", "self_incrimination", *w]) == 0
    text = capsys.readouterr().out
    assert f"#{b.id}" in text and "unassigned" in text and f"#{a.id} " not in text

    assert main(["interviewee", "assign", str(iv.id), "Abu", *w]) == 0
    assert "now belongs to 'Abu'" in capsys.readouterr().out
    assert main(["interviewee", "assign", "999", "Abu", *w]) == 1
    assert "no interview with id 999" in capsys.readouterr().err


def test_ingest_of_a_missing_file_is_a_one_line_error(workspace, capsys):
    w = ["--workspace", str(workspace.root)]
    assert main(["interviewee", "add", "Abu", *w]) == 0
    assert main(["ingest", str(workspace.root / "nope.mp4"), "--interviewee", "Abu", *w]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len([e for e in err if e.startswith("counterclips: error:")]) == 1 and "nope.mp4" in err[-1]
