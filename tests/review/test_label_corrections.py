"""Reviewers correcting flags (issue 15): `review label` on the CLI, the page's dismiss/add forms,
the append-only audit table of revision 0006, and the rule that a dismissed risk still counts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from clips_metadata.corrections_repo import CorrectionsRepo
from flows.cli import main
from review.app import create_app
from review.labelling import LabelCorrectionError, correct_labels
from review.rules import required_approvals
from review.service import ReviewService

from .test_review_app import login


def test_models_of_0006_match_the_migration(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from clips_metadata.tables import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diff if "label_corrections" in repr(d) or "model_version" in repr(d)]
    assert mine == []
    assert store.current_revision() == store.head_revision()


def _pw(tmp_path):
    from .conftest import PASSWORD

    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return str(path)


def test_review_label_from_the_cli_is_audited(workspace, store, seeded, capsys, tmp_path):
    ws = str(workspace.root)
    pw = ["--password-file", _pw(tmp_path)]
    assert main(["review", "label", str(seeded.risky), "--sentence", "0", "--remove", "justifies_violence",
                 "--add", "disillusionment_exit", "--reason", "she is quoting them, not agreeing",
                 "--as", "rita", *pw, "--workspace", ws]) == 0
    assert "+disillusionment_exit -justifies_violence" in capsys.readouterr().out
    (c,) = CorrectionsRepo(store).all()
    assert (c.actor, c.sentence_index, c.added, c.removed) == ("rita", 0, ("disillusionment_exit",),
                                                                ("justifies_violence",))
    assert c.text.startswith("Some of what they did") and c.language == "ar" and c.source == "review"
    # refused: an editor, an unknown label, no reason, a sentence outside the transcript, a ghost
    bad = [
        ["--remove", "justifies_violence", "--reason", "x", "--as", "eddie"],
        ["--add", "no_such_label", "--reason", "x", "--as", "rita"],
        ["--add", "martyrdom_glorification", "--reason", " ", "--as", "rita"],
        ["--add", "martyrdom_glorification", "--reason", "x", "--as", "ghost"],
    ]
    for extra in bad:
        assert main(["review", "label", str(seeded.risky), "--sentence", "0", *extra, *pw,
                     "--workspace", ws]) == 1
    assert main(["review", "label", str(seeded.risky), "--sentence", "99", "--add", "disillusionment_exit",
                 "--reason", "x", "--as", "rita", *pw, "--workspace", ws]) == 1
    err = capsys.readouterr().err
    assert "may not correct" in err and "unknown label" in err and "reason" in err and "no sentence 99" in err
    assert "wrong name or password" in err
    assert len(CorrectionsRepo(store).all()) == 1


def test_corrections_are_append_only(store, seeded):
    from review.labelling import taxonomy_labels

    correct_labels(CorrectionsRepo(store), seeded.clean, 1, remove=["witnessed_brutality"], reason="r",
                   actor="rita", role="reviewer", labels=taxonomy_labels())
    with pytest.raises(sa.exc.DatabaseError), store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE label_corrections SET reason = 'changed'"))
    with pytest.raises(sa.exc.DatabaseError), store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM label_corrections"))


def test_dismissing_a_risk_never_lowers_the_reviewers_needed(store, users, seeded):
    svc = ReviewService(users)
    before = svc.facts(seeded.risky)
    assert required_approvals(before.risks) == 2
    correct_labels(CorrectionsRepo(store), seeded.risky, 0, remove=["justifies_violence"],
                   reason="not her view", actor="rita", role="reviewer")
    after = svc.facts(seeded.risky)
    assert set(after.risks) == set(before.risks)
    assert required_approvals(after.risks) == 2
    assert "justifies_violence" in store.get_candidate(seeded.risky).risks
    with pytest.raises(LabelCorrectionError):
        correct_labels(CorrectionsRepo(store), seeded.risky, 0, add=["x"], remove=[], reason="r",
                       actor="eddie", role="editor")


@pytest.fixture
def rita(workspace, store, seeded):
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as client:
        client.csrf = login(client, "rita")
        yield client


def test_every_shown_sentence_links_to_its_corrections_page_flagged_or_not(rita, seeded):
    page = rita.get(f"/candidates/{seeded.clean}").text
    # sentence 0 carries no flag and lies outside the clip (sentences 1-2): a missed risk there
    # can still be added from the page, not only from the command line
    assert f'href="/candidates/{seeded.clean}/labels?sentence=0"' in page
    assert f'href="/candidates/{seeded.clean}/labels?sentence=3"' in page


def test_page_dismisses_a_flag_and_adds_a_missed_label(rita, seeded, store):
    page = rita.get(f"/candidates/{seeded.risky}").text
    assert f'href="/candidates/{seeded.risky}/labels?sentence=0"' in page  # each flagged sentence links
    form = rita.get(f"/candidates/{seeded.risky}/labels?sentence=0").text
    assert f'action="/candidates/{seeded.risky}/labels"' in form
    assert "Dismiss Justifies violence" in form or re.search(r"Dismiss [^<]*[Jj]ustif", form)
    base = {"csrf_token": rita.csrf, "sentence": 0}
    r = rita.post(f"/candidates/{seeded.risky}/labels",
                  data={**base, "action": "dismiss", "label": "justifies_violence", "reason": "quoting them"})
    assert r.status_code == 303 and r.headers["location"].endswith("#s0")
    r = rita.post(f"/candidates/{seeded.risky}/labels",
                  data={**base, "sentence": 1, "action": "add", "label": "warning_to_others",
                        "reason": "a warning"})
    assert r.status_code == 303
    page = rita.get(f"/candidates/{seeded.risky}").text
    corrections = page[page.index('id="corrections-s0"'):]
    assert "dismissed by rita: quoting them" in corrections[:600]
    assert "dismissed by rita: quoting them" in rita.get(f"/candidates/{seeded.risky}/labels?sentence=0").text
    assert "added by rita: a warning" in page
    # the flag stays on the page, marked dismissed; the candidate keeps its risk
    assert "justifies_violence" in store.get_candidate(seeded.risky).risks
    # a broken correction goes back to the sentence's page, its error next to the forms; nothing stored
    r = rita.post(f"/candidates/{seeded.risky}/labels",
                  data={**base, "action": "add", "label": "no_such_label", "reason": "x"})
    assert r.status_code == 303 and r.headers["location"].endswith("/labels?sentence=0")
    form = rita.get(r.headers["location"]).text
    assert re.search(r'id="label-error-0">[^<]*unknown label', form)
    assert form.index('id="label-error-0"') < form.index('class="add-label"')
    assert len(CorrectionsRepo(store).all()) == 2
    # the page of a sentence that does not exist: an error page
    missing = rita.get(f"/candidates/{seeded.risky}/labels?sentence=999")
    assert missing.status_code == 404 and "<html" in missing.text.lower()
    # without the CSRF token: refused
    r = rita.post(f"/candidates/{seeded.risky}/labels",
                  data={**base, "csrf_token": "forged", "action": "dismiss", "label": "justifies_violence",
                        "reason": "x"})
    assert r.status_code == 403


def test_an_editor_gets_no_correction_forms(workspace, store, seeded):
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as eddie:
        login(eddie, "eddie")
        assert "/labels?sentence=" not in eddie.get(f"/candidates/{seeded.risky}").text
        refused = eddie.get(f"/candidates/{seeded.risky}/labels?sentence=0")
        assert refused.status_code == 403 and "<html" in refused.text.lower()


def test_flags_keep_their_model_version_and_corrections_record_it(store, seeded):
    from dataclasses import replace

    from review.labelling import taxonomy_labels

    tid = store.get_candidate(seeded.clean).transcript_id
    flags = [replace(f, model_version="usem3-test-v1") for f in store.get_flags(tid)]
    store.save_flags(tid, flags, [])
    assert {f.model_version for f in store.get_flags(tid)} == {"usem3-test-v1"}
    c = correct_labels(CorrectionsRepo(store), seeded.clean, 1, remove=["witnessed_brutality"], reason="r",
                       actor="rita", role="reviewer", labels=taxonomy_labels())
    assert c.model_version == "usem3-test-v1"
