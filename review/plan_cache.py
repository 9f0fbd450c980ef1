"""Plans reviewers watch, remembered across requests in this process (issue 19: the page and
the approval each built and hashed the plan, 15-20 ms a request).

A plan is a pure function of its inputs (`review.plans.plan_for`): the candidate's version, its
interview, the interviewee's registry entry and consent, the transcript's words, the version's
cue tracks, the candidate's translation tracks, the target and the export key. The cache key is
a digest of all of them, so any change to any of them is a new key, never a stale plan:

- candidate, interview and interviewee: the records themselves (read once per request anyway);
- words, cue tracks, translation tracks: their stored JSON text, read raw (not decoded), and the
  words of a miss are decoded from that same text, so the key and the plan share one snapshot;
- a build may itself store the version's first cue track or reconcile a translation track:
  then the rows are read again and the plan is kept only when they did not change. Otherwise a
  change meanwhile is another request's write, after which no read gives the old key again (cue
  tracks are only ever inserted; a translation row carries its `updated_at`, which every save
  renews), so the plan kept under it is at worst one state newer than its key, never older;
- the database, the key's digest and `PLAN_CODE` (bump it when `plan_for` changes meaning).

Bounded LRU (`clips_metadata.digest_cache`), one per process; thread-safe.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clips_metadata.digest_cache import DigestLRU, digest

PLAN_CODE = "review-plan-1"
MAX_PLANS = 2048

T = TypeVar("T")


PLANS = DigestLRU(MAX_PLANS)
# Decoded words per transcript body (many candidates share an interview's transcript), bounded by
# words, not interviews: ~230 bytes a word, so ~45 MB a process whatever the interviews' lengths.
WORDS = DigestLRU(4096, budget=200_000)


@dataclass(frozen=True, slots=True)
class StoredInputs:
    """The stored JSON text a plan reads beyond the records, as the database holds it."""

    body: str | None  # the transcript's body (None: kept by path only)
    body_digest: str
    cue_tracks: tuple[tuple[Any, ...], ...]  # (language, hashed, track JSON) of the version
    translations: tuple[tuple[Any, ...], ...]  # (language, version, status, updated_at, track, source)


@functools.cache
def _statements() -> tuple[Any, Any, Any]:
    """stored_inputs' three statements, built once (every page view and approval runs them)."""
    import sqlalchemy as sa

    from clips_metadata.tables import CueTrackRow, TranscriptRow, TranslationTrackRow

    text, tr = sa.Text(), TranslationTrackRow
    body = sa.select(sa.cast(TranscriptRow.body, text)).where(TranscriptRow.id == sa.bindparam("tid"))
    cues = (sa.select(CueTrackRow.language, CueTrackRow.hashed, sa.cast(CueTrackRow.track, text))
            .where(CueTrackRow.candidate_id == sa.bindparam("cid"), CueTrackRow.version == sa.bindparam("v"))
            .order_by(CueTrackRow.language))
    trs = (sa.select(tr.language, tr.version, tr.status, tr.updated_at, sa.cast(tr.track, text),
                     sa.cast(tr.source, text))
           .where(tr.candidate_id == sa.bindparam("cid")).order_by(tr.language, tr.version))
    return body, cues, trs


def stored_inputs(store: Any, cand: Any, *, with_body: bool = True) -> StoredInputs:
    """One read of the raw text behind the candidate's words and tracks (nothing decoded)."""
    body_q, cues_q, trs_q = _statements()
    with store.read() as s:
        body = s.scalar(body_q, {"tid": cand.transcript_id}) if with_body else None
        cues = s.execute(cues_q, {"cid": cand.id, "v": cand.version}).all()
        trs = s.execute(trs_q, {"cid": cand.id}).all()
    body_digest = hashlib.blake2b((body or "").encode(), digest_size=32).hexdigest()
    return StoredInputs(body, body_digest, tuple(tuple(r) for r in cues), tuple(tuple(r) for r in trs))


def words_of(stored: StoredInputs) -> tuple[Any, ...]:
    """The words of the transcript body in `stored`, decoded once per distinct body."""
    import json

    from clips_metadata.serialize import transcript_from_json

    words = WORDS.get(stored.body_digest)
    if words is None:
        words = tuple(transcript_from_json(json.loads(stored.body or "null")).words)
        WORDS.put(stored.body_digest, words)
    return words


def build_may_write(stored: StoredInputs, language: str) -> bool:
    """Whether building the plan from `stored` may write: it stores the version's first cue track
    in `language` when there is none, and reconciles translation tracks when there are some."""
    return bool(stored.translations) or language not in {row[0] for row in stored.cue_tracks}


def fingerprint(store: Any, key: bytes, cand: Any, interview: Any, person: Any, target: Any,
                stored: StoredInputs) -> str:
    """The digest of every input of the candidate's review plan."""
    url = store.engine.url.render_as_string(hide_password=True)
    candidate = (cand.id, cand.interview_id, cand.transcript_id, cand.version, cand.content_hash,
                 cand.language, cand.source_sha256, cand.start, cand.end, sorted(cand.subtitles.items()),
                 sorted(cand.translations.items()), cand.redactions, sorted(cand.render_options.items()))
    parts = (PLAN_CODE, url, hashlib.sha256(key).hexdigest(), candidate, repr(interview), repr(person),
             target, stored.body is None, stored.body_digest, stored.cue_tracks, stored.translations)
    return digest(parts)


def remembered_plan(lookup: str, build: Callable[[], T], unchanged: Callable[[], bool],
                    cache: DigestLRU = PLANS) -> T:
    """The value under `lookup`, or `build()`'s, kept when `unchanged()` says its inputs held."""
    hit = cache.get(lookup)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = build()
    if unchanged():
        cache.put(lookup, value)
    return value
