"""Reviewers correcting a sentence's flags (issue 15): dismiss a false flag, add a missed label.

Shared by the page (`review/app/routes_labels.py`) and the CLI (`counterclips review label`). A
correction is stored append-only with who and why; it never changes the candidate's risks, so a
dismissed risk still counts toward the number of reviewers a version needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from clips_metadata.corrections_repo import CorrectionsRepo, StoredCorrection
from pipeline.errors import CounterclipsError

CORRECTING_ROLES = ("reviewer", "admin")
MAX_REASON = 1000


class LabelCorrectionError(CounterclipsError):
    """A label correction is not allowed or names unknown labels."""


@lru_cache(maxsize=1)
def taxonomy_labels() -> tuple[str, ...]:
    """The packaged taxonomy's label ids (themes, then risks, in taxonomy order)."""
    from pipeline.themes.taxonomy import load_taxonomy

    return load_taxonomy().ids


def correct_labels(
    repo: CorrectionsRepo,
    candidate_id: int,
    sentence_index: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    reason: str,
    actor: str,
    role: str,
    labels: Sequence[str] | None = None,
) -> StoredCorrection:
    """Store one correction of sentence `sentence_index` of candidate `candidate_id`'s transcript.
    `labels` are the known label ids (default: the packaged taxonomy's)."""
    if role not in CORRECTING_ROLES:
        raise LabelCorrectionError(f"a {role} may not correct labels (reviewers and admins may)")
    known = set(labels if labels is not None else taxonomy_labels())
    add, remove = tuple(dict.fromkeys(add)), tuple(dict.fromkeys(remove))
    if not add and not remove:
        raise LabelCorrectionError("name a label to add or to remove")
    unknown = sorted((set(add) | set(remove)) - known)
    if unknown:
        raise LabelCorrectionError(f"unknown label(s): {', '.join(unknown)}")
    both = sorted(set(add) & set(remove))
    if both:
        raise LabelCorrectionError(f"a label both added and removed: {', '.join(both)}")
    reason = reason.strip()
    if not reason:
        raise LabelCorrectionError("give a reason for the correction")
    if len(reason) > MAX_REASON:
        raise LabelCorrectionError(f"the reason is longer than {MAX_REASON} characters")
    return repo.add_for_sentence(candidate_id, sentence_index, added=add, removed=remove, reason=reason,
                                 actor=actor)
