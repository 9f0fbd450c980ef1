"""What each queue row shows beyond the candidate: approvals of its current version and a text
snippet. Two small queries over the page's ids only (the queue itself stays in review_store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from clips_metadata.review_store import ApprovalRow
from clips_metadata.tables import CandidateRow, CandidateVersionRow


def approval_counts(store: Any, ids: Sequence[int]) -> dict[int, int]:
    """Reviewers who approved each candidate's current version."""
    if not ids:
        return {}
    a, c = ApprovalRow, CandidateRow
    q = (sa.select(a.candidate_id, sa.func.count(sa.distinct(a.reviewer)))
         .join(c, sa.and_(c.id == a.candidate_id, c.version == a.version, c.content_hash == a.version_hash))
         .where(a.candidate_id.in_(list(ids))).group_by(a.candidate_id))
    with store.read() as s:
        return {int(k): int(n) for k, n in s.execute(q)}


def snippets(store: Any, ids: Sequence[int], limit: int = 90) -> dict[int, str]:
    """The first words of each candidate's current subtitle text."""
    if not ids:
        return {}
    v, c = CandidateVersionRow, CandidateRow
    q = (sa.select(v.candidate_id, v.subtitles)
         .join(c, sa.and_(c.id == v.candidate_id, c.version == v.version))
         .where(v.candidate_id.in_(list(ids))))
    out: dict[int, str] = {}
    with store.read() as s:
        for cid, subs in s.execute(q):
            text = " ".join(next(iter((subs or {}).values()), "").split())
            out[int(cid)] = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return out
