"""Must-show of issue 15 end to end: reviewers correct a false flag and a missed label on a few
sentences with `review label`; `flagger learn` refits, prints before/after figures on a sealed
split and installs the heads into the workspace; flags on paraphrases change, and the model
version moves. The recall guard refuses a model that would miss a risk the old one caught.
Corrections move between teams as JSONL with registry terms redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clips_metadata.corrections_repo import CorrectionsRepo
from flows.cli import main
from flows.services.flagger_model import load_flagger
from pipeline.themes.heads import installed_version, workspace_heads_dir
from tests.review.conftest import PASSWORD, make_users
from tests.review.seed import add_candidate, add_interview

MISSED = "self_incrimination"
FALSE = "pro_group_advocacy"
DISMISSED = "witnessed_brutality"
# The first three: plain admissions with no violent word (missed); the last three: ordinary sights
# of the fighters around town (wrongly taken for witnessed brutality).
TEXTS = [
    "I kept the accounts of their office, every dollar passed through me.",
    "It was me who did their bookkeeping for two years.",
    "I managed the money for the emir's office in Mosul.",
    "I watched the fighters walk past our house every morning.",
    "Every day we saw their trucks drive through the square.",
    "From the window I could see the fighters going to the mosque.",
]
PARAPHRASE_MISSED = "I was the one who kept the books of their finance office."
PARAPHRASE_FALSE = "Each morning I saw the fighters walking by our house."
SEALED = [
    {"text": "My husband died a martyr and I thank God for it, he is in paradise.",
     "labels": ["martyrdom_glorification"], "language": "en"},
    {"text": "I still believe the caliphate was the only just state, and I would go back tomorrow.",
     "labels": ["pro_group_advocacy", "intent_to_return"], "language": "en"},
    {"text": "We had lunch at my aunt's house.", "labels": [], "language": "en"},
]


@pytest.fixture
def seeded_ws(workspace, store):
    make_users(store)
    _, tid, sents = add_interview(
        store, pseudonym="Karim", texts=TEXTS,
        labels={3: (DISMISSED,), 4: (DISMISSED,), 5: (DISMISSED,)}, path="/footage/karim.mp4",
    )
    cand = add_candidate(store, tid, sents, list(range(len(TEXTS))), themes=[DISMISSED], risks=[])
    return workspace, cand


def _pw(tmp_path: Path) -> list[str]:
    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return ["--password-file", str(path)]


def _sealed(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / "sealed.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return path


@pytest.mark.slow
def test_corrections_then_learn_change_flags_on_paraphrases(seeded_ws, store, tmp_path, capsys):
    workspace, cand = seeded_ws
    ws = str(workspace.root)
    pw = _pw(tmp_path)
    base = load_flagger(workspace)
    before = base.flag_texts([PARAPHRASE_MISSED, PARAPHRASE_FALSE], language="en")
    assert DISMISSED in before[1].labels  # a real false flag before the corrections
    for i in range(3):
        assert main(["review", "label", str(cand), "--sentence", str(i), "--add", MISSED,
                     "--reason", "admits running their money", "--as", "rita", *pw,
                     "--workspace", ws]) == 0
    for i in range(3, 6):
        assert main(["review", "label", str(cand), "--sentence", str(i), "--remove", DISMISSED,
                     "--reason", "fighters passing by, no violence seen", "--as", "rolf", *pw,
                     "--workspace", ws]) == 0
    capsys.readouterr()
    assert main(["flagger", "learn", "--sealed", str(_sealed(tmp_path, SEALED)), "--as", "ada", *pw,
                 "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert "before (" in out and "after  (" in out and "any-risk recall" in out and "installed model" in out
    version = installed_version(workspace_heads_dir(workspace.root))
    assert version and version != base.model_version and version in out

    learned = load_flagger(workspace)
    assert learned.model_version == version
    after = learned.flag_texts([PARAPHRASE_MISSED, PARAPHRASE_FALSE], language="en")
    assert after[0].scores[MISSED] > before[0].scores[MISSED]
    assert MISSED in after[0].labels
    assert after[1].scores[DISMISSED] < before[1].scores[DISMISSED]
    assert DISMISSED not in after[1].labels
    assert after[0].model_version == version


@pytest.mark.slow
def test_learn_refuses_a_model_that_misses_a_risk_it_caught(workspace, store, tmp_path, capsys):
    make_users(store)
    pw = _pw(tmp_path)
    # Reviewers (wrongly) dismiss advocacy on sentences that praise the group's rule: the refitted
    # model would no longer catch the sealed split's (cue-less) advocacy, so nothing is installed.
    texts = [
        "Honestly what they built there was fair, it was the only real justice I ever saw.",
        "The state they built was just, nobody stole and everybody was equal.",
        "Under them the courts were honest and the poor were fed.",
        "Their rule was clean, no bribes, no thieves, real justice.",
        "They were the only ones who governed by justice and fed the poor.",
        "It was a just state, everyone was equal there, rich and poor.",
    ]
    _, tid, sents = add_interview(store, pseudonym="Nadia", texts=texts,
                                  labels={i: (FALSE,) for i in range(len(texts))}, path="/footage/nadia.mp4")
    cand = add_candidate(store, tid, sents, list(range(len(texts))), themes=[], risks=[FALSE])
    repo = CorrectionsRepo(store)
    for i in range(len(texts)):
        for _ in range(3):
            repo.add_for_sentence(cand, i, added=(), removed=(FALSE,), reason="test: a wrong dismissal",
                                  actor="rita")
    sealed = _sealed(tmp_path, [
        {"text": "What they built was a fair state where nobody stole and the poor were equal.",
         "labels": [FALSE], "language": "en"},
        {"text": "We had lunch at my aunt's house.", "labels": [], "language": "en"},
    ])
    capsys.readouterr()
    assert main(["flagger", "learn", "--sealed", str(sealed), "--as", "ada", *pw,
                 "--workspace", str(workspace.root)]) == 1
    assert "refused" in capsys.readouterr().err
    assert installed_version(workspace_heads_dir(workspace.root)) is None


def test_export_redacts_registry_terms_and_import_stores(seeded_ws, store, tmp_path, capsys):
    workspace, cand = seeded_ws
    ws = str(workspace.root)
    pw = _pw(tmp_path)
    store.update_interviewee("Karim", real_names=["Karim Haddad"], identifying_words=["Mosul=a city"])
    assert main(["review", "label", str(cand), "--sentence", "2", "--add", MISSED,
                 "--reason", "Haddad ran the money in Mosul", "--as", "rita", *pw,
                     "--workspace", ws]) == 0
    target = tmp_path / "out.jsonl"
    assert main(["flagger", "export-corrections", str(target), "--workspace", ws]) == 0
    text = target.read_text(encoding="utf-8")
    assert "Mosul" not in text and "Haddad" not in text and "[REDACTED]" in text
    assert json.loads(text.splitlines()[0])["add"] == [MISSED]
    assert main(["flagger", "import-corrections", str(target), "--as", "ada", *pw,
                 "--workspace", ws]) == 0
    stored = CorrectionsRepo(store).all()
    assert len(stored) == 2 and stored[-1].source == "import" and stored[-1].actor == "ada"
    assert main(["flagger", "import-corrections", str(target), "--as", "eddie", *pw,
                 "--workspace", ws]) == 1
