"""The one source of the labels that several packages share: candidate statuses, reviewer roles,
the "credibility" risk, and the theme and risk ids (read from the loaded taxonomy at run time).

The store's CHECK constraints and filters, the review rules, the CLI's choices and the review
app's templates all derive from these; nothing else spells them out.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache


class CandidateStatus(StrEnum):
    PROPOSED = "proposed"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class Role(StrEnum):
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    TRANSLATOR = "translator"  # writes and checks subtitle translations (issue 17)


CANDIDATE_STATUSES: tuple[str, ...] = tuple(s.value for s in CandidateStatus)
ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Not a taxonomy label: a candidate carries it when its interview has a credibility warning.
CREDIBILITY = "credibility"


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text allowing exactly `values` in `column`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


@cache
def taxonomy_ids() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(theme ids, risk ids) of the shipped taxonomy, loaded once, in taxonomy order."""
    from pipeline.themes.taxonomy import load_taxonomy

    tax = load_taxonomy()
    return tax.theme_ids, tax.risk_ids


def theme_ids() -> tuple[str, ...]:
    return taxonomy_ids()[0]


def risk_ids() -> tuple[str, ...]:
    """The taxonomy's risk ids (without "credibility", which no sentence is flagged with)."""
    return taxonomy_ids()[1]
