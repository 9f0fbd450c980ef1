"""Approved candidates on the bundled demo interview (real media, seeded transcript) for the
timeline, distribution-log and withdrawal tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from clips_metadata.stored_records import Consent
from tests.review.conftest import PASSWORD

DEMO = Path(__file__).resolve().parents[2] / "flows" / "data" / "demo" / "demo_interview.mp4"
PSEUDONYM = "Witness K"
CONSENT = Consent(face=True, voice=False, name=False, languages=("*",), platforms=("*",),
                  expires=date(2099, 1, 1))
TEXTS = ("They promised us a just state.", "I saw them punish people in the square.",
         "The leaders lived in big houses.", "Leaving was the hardest thing I did.")


def seed_demo(store: Any, tmp: Path, approve: int = 3) -> tuple[list[int], Path]:
    """Users (ada admin, rita and rolf reviewers, eddie editor), the demo interview and one
    candidate per sentence, the first `approve` approved by rita. Returns (ids, password file)."""
    from pipeline.atomic import file_sha256
    from review.service import ReviewService
    from tests.review.conftest import make_users
    from tests.review.seed import add_candidate, add_interview

    make_users(store)
    _, tid, sents = add_interview(store, pseudonym=PSEUDONYM, texts=TEXTS,
                                  labels={0: ("false_promises",), 1: ("witnessed_brutality",),
                                          2: ("hypocrisy_corruption",), 3: ("disillusionment_exit",)},
                                  sha256=file_sha256(DEMO), path=str(DEMO), duration=175.08, consent=CONSENT)
    themes = ("false_promises", "witnessed_brutality", "hypocrisy_corruption", "disillusionment_exit")
    ids = [add_candidate(store, tid, sents, [i], themes=(themes[i],)) for i in range(len(TEXTS))]
    from clips_metadata.workspace import resolve_workspace

    # Approvals bind the publication plan (issue 13): the planner keys it by the workspace.
    svc = ReviewService.over(store, resolve_workspace(None))
    for cid in ids[:approve]:
        svc.act(cid, "approve", actor="rita", role="reviewer")
    password = tmp / "pw.txt"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    return ids, password
