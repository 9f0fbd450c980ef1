"""What each queue row shows beyond the candidate: approvals of its current version and a text
snippet. Two small queries over the page's ids only (the queue itself stays in review_store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from clips_metadata.engine import plain_rows
from clips_metadata.review_store import ApprovalRow
from clips_metadata.tables import CandidateRow, CandidateVersionRow

# Built once (every queue page runs both); the ids are one expanding parameter.
_IDS = sa.bindparam("ids", expanding=True)
_APPROVAL_COUNTS = (
    sa.select(ApprovalRow.candidate_id, sa.func.count(sa.distinct(ApprovalRow.reviewer)))
    .join(CandidateRow, sa.and_(CandidateRow.id == ApprovalRow.candidate_id,
                                CandidateRow.version == ApprovalRow.version,
                                CandidateRow.content_hash == ApprovalRow.version_hash))
    .where(ApprovalRow.candidate_id.in_(_IDS)).group_by(ApprovalRow.candidate_id))
_SNIPPETS = (
    sa.select(CandidateVersionRow.candidate_id, CandidateVersionRow.subtitles)
    .join(CandidateRow, sa.and_(CandidateRow.id == CandidateVersionRow.candidate_id,
                                CandidateRow.version == CandidateVersionRow.version))
    .where(CandidateVersionRow.candidate_id.in_(_IDS)))


def approval_counts(store: Any, ids: Sequence[int]) -> dict[int, int]:
    """Reviewers who approved each candidate's current version."""
    if not ids:
        return {}
    with store.read() as s:
        return {int(k): int(n) for k, n in plain_rows(s, _APPROVAL_COUNTS, {"ids": list(ids)})}


def snippets(store: Any, ids: Sequence[int], limit: int = 90) -> dict[int, str]:
    """The first words of each candidate's current subtitle text."""
    if not ids:
        return {}
    out: dict[int, str] = {}
    with store.read() as s:
        for cid, subs in plain_rows(s, _SNIPPETS, {"ids": list(ids)}):
            text = " ".join(next(iter((subs or {}).values()), "").split())
            out[int(cid)] = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return out
