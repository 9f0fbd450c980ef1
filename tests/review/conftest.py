"""Fixtures of the review tests: a migrated store with users and a few candidates."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.review.seed import Warn, add_candidate, add_interview

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Seeded:
    clean: int  # one theme, no risk
    risky: int  # carries a risk (and credibility, from the interview's warning)
    low: int  # lowest rank, clean
    xss: int  # its transcript holds a script tag
    interview_clean: int
    interview_risky: int


@pytest.fixture
def users(store):
    return make_users(store)


def make_users(store):
    from clips_metadata.review_store import ReviewStore
    from review.passwords import hash_password

    rs = ReviewStore(store)
    h = hash_password(PASSWORD)  # one hash for all: argon2 is deliberately slow
    for name, role in (("ada", "admin"), ("rita", "reviewer"), ("rolf", "reviewer"), ("eddie", "editor")):
        rs.add_user(name, role, h)
    return rs


@pytest.fixture
def seeded(store, users) -> Seeded:
    return make_seeded(store)


def make_seeded(store) -> Seeded:
    texts = [
        "I joined because they promised a just life.",
        "Then I saw them beat a boy in the market.",
        "The leaders had cars and we had nothing.",
        "I decided to run away one night.",
    ]
    iid, tid, sents = add_interview(
        store, pseudonym="Samir", texts=texts,
        labels={1: ("witnessed_brutality",), 2: ("hypocrisy_corruption",), 3: ("disillusionment_exit",)},
        path="/footage/samir.mp4",
    )
    clean = add_candidate(store, tid, sents, [1, 2], themes=["witnessed_brutality", "hypocrisy_corruption"],
                          rank=0.9)
    low = add_candidate(store, tid, sents, [3], themes=["disillusionment_exit"], rank=0.2)
    risky_texts = [
        "Some of what they did was right, I still think so.",
        "But <script>alert('x')</script> I left when they killed civilians.",
        "سأعود يوما ما",
    ]
    iid2, tid2, sents2 = add_interview(
        store, pseudonym="Layla", texts=risky_texts, language="ar",
        labels={0: ("justifies_violence",), 1: ("witnessed_brutality",), 2: ("intent_to_return",)},
        translations=["Some of what they did was right.", "I left when they killed civilians.",
                      "I will return one day."],
        warnings=[Warn("justifies_violence", 0, 0.2, 3.0, risky_texts[0])],
        path="/footage/layla.mp4",
    )
    risky = add_candidate(store, tid2, sents2, [0, 1], themes=["witnessed_brutality"],
                          risks=["justifies_violence"], rank=0.7)
    # the script-tag sentence belongs to the risky interview; reuse it for the XSS check
    return Seeded(clean=clean, risky=risky, low=low, xss=risky, interview_clean=iid, interview_risky=iid2)


def race(act, names) -> list[Exception]:  # noqa: ANN001 - act(name) -> None
    """Run `act(name)` for every name at once, one thread each; the exceptions they raised."""
    import threading

    errors: list[Exception] = []

    def go(name: str) -> None:
        try:
            act(name)
        except Exception as exc:  # noqa: BLE001 - collected for the caller to check
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def migrate(store, command, revision: str) -> None:  # noqa: ANN001 - an alembic command function
    """Run an alembic `command` (upgrade, downgrade) to `revision` on the store's database."""
    cfg = store._alembic_config()
    with store.engine.connect() as conn:
        conn.info["cc_write"] = True
        cfg.attributes["connection"] = conn
        with conn.begin():
            command(cfg, revision)
