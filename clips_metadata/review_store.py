"""The review side of the store as one facade over an open `Store`: users, the audit log,
approvals and exports (`review_repo.ReviewRepo`) and the review queue (`queue_repo.QueueRepo`).
The records live in `review_records.py` and the tables in `tables.py`; both are re-exported
here for the callers that import them from this module."""

from __future__ import annotations

from clips_metadata.facade import forward
from clips_metadata.queue_repo import QueueRepo
from clips_metadata.review_records import (
    CandidatePage,
    ExportRecord,
    InterviewContext,
    QueueFilter,
    QueueItem,
    QueuePage,
    ReviewChange,
    ReviewEvent,
    SentenceView,
    User,
)
from clips_metadata.review_repo import ReviewRepo
from clips_metadata.store import Store
from clips_metadata.tables import ApprovalRow, Base, ExportRow, ReviewEventRow, UserRow

__all__ = [
    "ApprovalRow",
    "CandidatePage",
    "Base",
    "ExportRecord",
    "ExportRow",
    "InterviewContext",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "ReviewChange",
    "ReviewEvent",
    "ReviewEventRow",
    "ReviewStore",
    "SentenceView",
    "User",
    "UserRow",
]


class ReviewStore:
    """Review operations over an open `clips_metadata.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.reviews: ReviewRepo = store.reviews
        self.review_queue: QueueRepo = store.review_queue

    # users
    add_user = forward("reviews", ReviewRepo.add_user)
    get_user = forward("reviews", ReviewRepo.get_user)
    credentials = forward("reviews", ReviewRepo.credentials)
    list_users = forward("reviews", ReviewRepo.list_users)
    count_admins = forward("reviews", ReviewRepo.count_admins)
    # review state and decisions
    review_state = forward("reviews", ReviewRepo.review_state)
    approvals = forward("reviews", ReviewRepo.approvals)
    apply_review = forward("reviews", ReviewRepo.apply_review)
    edit_candidate = forward("reviews", ReviewRepo.edit_candidate)
    # audit log and exports
    history = forward("reviews", ReviewRepo.history)
    audit_for_manifest = forward("reviews", ReviewRepo.audit_for_manifest)
    record_export = forward("reviews", ReviewRepo.record_export)
    exports = forward("reviews", ReviewRepo.exports)
    # what the candidate page and the export gate read
    interview_context = forward("reviews", ReviewRepo.interview_context)
    candidate_page = forward("reviews", ReviewRepo.candidate_page)
    interviewee_of = forward("reviews", ReviewRepo.interviewee_of)
    text_languages = forward("reviews", ReviewRepo.text_languages)
    # the queue
    queue = forward("review_queue", QueueRepo.queue)
    queue_ids = forward("review_queue", QueueRepo.queue_ids)
    facets = forward("review_queue", QueueRepo.facets)
