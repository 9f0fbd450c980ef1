"""Translation workflow over the store (issue 17; the review app and the CLI both use it): the
source cue track of a candidate version, translation tracks per language (drafted by memory or
an engine, edited, confirmed, marked translated, checked by a second person who reads the
language), track files, translation memory, the per-language publish gate and the per-clip
language report.

Every read of a candidate's tracks first brings them onto the current version's source cue track
(`pipeline.translation.track.reconcile`), so a trim or an edit marks the affected translated cues
as needing a look before anyone sees or publishes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clips_metadata.review_store import ReviewStore
from clips_metadata.store import Store
from clips_metadata.translations_repo import TranslationsRepo
from pipeline.records import Cue
from pipeline.translation.errors import TranslationError
from pipeline.translation.limits import base_language
from pipeline.translation.track import TranslationTrack

# Who may write translations and who may check them (checks also need the language, four eyes).
TRANSLATE_ROLES = frozenset({"translator", "editor", "reviewer", "admin"})
CHECK_ROLES = frozenset({"translator", "reviewer", "admin"})


@dataclass(frozen=True, slots=True)
class ClipTracks:
    """A candidate's current source cue track and its translation tracks, reconciled onto it."""

    candidate: Any
    source: Any  # pipeline.cue_track.CueTrack
    tracks: dict[str, TranslationTrack]
    exported: dict[str, bool]


def source_track(store: Store, cand: Any) -> Any:
    """The source-language cue track of the candidate's current version.

    The version's stored track (what the editor page shows and edits, and what the plan burns
    in), so translations follow the editor's cues; built from the transcript's words when the
    version stores none in that language."""
    from clips_metadata.cue_tracks_repo import CueTracksRepo
    from pipeline.cue_track import build_track

    interview = store.get_interview(cand.interview_id)
    language = interview.language or cand.language
    stored = CueTracksRepo(store).tracks(cand.id, cand.version).get(language)
    if stored is not None:
        return stored
    words = store.load_transcript(cand.transcript_id).words
    return build_track(words, cand.start, cand.end, source_fps(interview), language)


def source_fps(interview: Any) -> float:
    """The rate plans cut on (kept equal to `flows.services.exporting.source_fps`, which the review
    package may not import): the source video stream's own rate (`pipeline.frames.media_fps`;
    the stored media record has no top-level fps)."""
    from pipeline.frames import media_fps

    return float(media_fps(interview.media))


def _source_dict(source: Any) -> dict[str, Any]:
    from pipeline.cue_track_io import track_to_dict

    return track_to_dict(source)


def clip_tracks(store: Store, candidate_id: int, *, by: str = "system") -> ClipTracks:
    """Load the candidate's tracks, reconciling (and storing under the current version) every
    track whose version or source cue track differs from the current one."""
    from pipeline.cue_track_io import track_from_dict
    from pipeline.translation.track import reconcile

    cand = store.get_candidate(candidate_id)
    source = source_track(store, cand)
    now = _source_dict(source)
    repo = TranslationsRepo(store)
    tracks: dict[str, TranslationTrack] = {}
    exported: dict[str, bool] = {}
    for lang, stored in repo.latest_tracks(candidate_id).items():
        track = stored.track
        if stored.version != cand.version or stored.source != now:
            track = reconcile(track_from_dict(stored.source), source, track)
            stored = repo.save_track(candidate_id, cand.version, track, now, by)
        tracks[lang] = track
        exported[lang] = stored.exported_at is not None and stored.version == cand.version
    return ClipTracks(cand, source, tracks, exported)


def reconcile_candidate(store: Store, candidate_id: int, *,
                        by: str = "system") -> dict[str, TranslationTrack]:
    """Call after a version's source track changes (trim, edit): returns the reconciled tracks."""
    if not TranslationsRepo(store).latest_tracks(candidate_id):
        return {}  # nothing translated yet: no need to build the source track
    return clip_tracks(store, candidate_id, by=by).tracks


def _user(store: Store, name: str, roles: frozenset[str], what: str) -> Any:
    user = ReviewStore(store).get_user(name)
    if user is None or not user.active:
        raise TranslationError(f"no active user {name!r}")
    if user.role not in roles:
        raise TranslationError(f"{name} ({user.role}) may not {what}")
    return user


def _save(store: Store, ct: ClipTracks, track: TranslationTrack, by: str) -> TranslationTrack:
    cand = ct.candidate
    TranslationsRepo(store).save_track(cand.id, cand.version, track, _source_dict(ct.source), by)
    return track


def get_track(store: Store, candidate_id: int, language: str) -> TranslationTrack | None:
    return clip_tracks(store, candidate_id).tracks.get(language)


def memory(store: Store) -> Any:
    """The stored translation memory (`pipeline.translation.memory.TranslationMemory`)."""
    from pipeline.translation.memory import TranslationMemory

    return TranslationMemory(TranslationsRepo(store).memory_entries())


def start_track(store: Store, candidate_id: int, language: str, *, user: str, engine: Any = None,
                use_memory: bool = True) -> TranslationTrack:
    """Create (or redraft the empty cues of) the `language` track: exact memory matches, then the
    engine for the rest; every drafted cue stays machine-made until a person confirms it."""
    from dataclasses import replace

    from pipeline.translation.track import draft_track

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    drafted = draft_track(ct.source, language, engine=engine, memory=memory(store) if use_memory else None)
    old = ct.tracks.get(language)
    if old is not None:  # keep every cue a person has already written
        fresh = {c.source_id: c for c in drafted.cues}
        cues = tuple(fresh.get(c.source_id, c) if c.is_empty else c for c in old.cues)
        drafted = replace(old, cues=cues, status="draft", checker="")
    return _save(store, ct, drafted, user)


def edit_cue(store: Store, candidate_id: int, language: str, source_id: str, text: str, *,
             user: str) -> TranslationTrack:
    from pipeline.translation.track import edit_cue as edit

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    track = _existing(ct, language)
    return _save(store, ct, edit(track, source_id, text.splitlines(), user), user)


def confirm_cue(store: Store, candidate_id: int, language: str, source_id: str, *,
                user: str) -> TranslationTrack:
    from pipeline.translation.track import confirm_cue as confirm

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    return _save(store, ct, confirm(_existing(ct, language), source_id, user), user)


def confirm_all(store: Store, candidate_id: int, language: str, *, user: str) -> TranslationTrack:
    """Confirm every non-empty cue as it stands (machine, memory or re-timed text)."""
    from pipeline.translation.track import confirm_cue as confirm

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    track = _existing(ct, language)
    for c in track.cues:
        if not c.is_empty and (not c.confirmed or c.needs_look):
            track = confirm(track, c.source_id, user)
    return _save(store, ct, track, user)


def mark_translated(store: Store, candidate_id: int, language: str, *, user: str) -> TranslationTrack:
    from pipeline.translation.track import mark_translated as mark

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    return _save(store, ct, mark(ct.source, _existing(ct, language), user), user)


def check_track(store: Store, candidate_id: int, language: str, *, user: str) -> TranslationTrack:
    """translated -> checked by `user` (a translator or reviewer who reads the language and wrote
    none of it); the checked pairs go into the translation memory."""
    from pipeline.translation.memory import approved_pairs
    from pipeline.translation.track import mark_checked

    _user(store, user, CHECK_ROLES, "check translations")
    repo = TranslationsRepo(store)
    ct = clip_tracks(store, candidate_id, by=user)
    track = mark_checked(ct.source, _existing(ct, language), user, repo.languages_of(user))
    _save(store, ct, track, user)
    cand = ct.candidate
    repo.add_memory(approved_pairs(ct.source, track, created_by=user,
                                   origin=f"candidate {cand.id} v{cand.version}"))
    return track


def _existing(ct: ClipTracks, language: str) -> TranslationTrack:
    track = ct.tracks.get(language)
    if track is None:
        raise TranslationError(f"candidate {ct.candidate.id} has no {language} track yet")
    return track


# ---- files ----


def export_track_file(store: Store, candidate_id: int, language: str, fmt: str,
                      xliff_version: str = "1.2") -> str:
    """The `language` track as SRT or XLIFF (the source-language track when it has none yet)."""
    from pipeline.translation.track_files import format_track_srt, format_xliff

    ct = clip_tracks(store, candidate_id)
    track = ct.tracks.get(language)
    if fmt == "srt":
        return format_track_srt(ct.source, track)
    if fmt == "xliff":
        return format_xliff(ct.source, track, language=language, version=xliff_version,  # type: ignore[arg-type]
                            original=f"candidate-{candidate_id}-v{ct.candidate.version}")
    raise TranslationError(f"unknown track format {fmt!r} (srt or xliff)")


def import_track_file(store: Store, candidate_id: int, language: str, path: Path, *, user: str) -> Any:
    """Read an SRT or XLIFF file into the `language` track. TrackFileError (every problem with its
    line) leaves the store untouched. Returns `track_files.ImportResult`."""
    from pipeline.translation.track_files import read_track_srt, read_xliff

    _user(store, user, TRANSLATE_ROLES, "translate")
    ct = clip_tracks(store, candidate_id, by=user)
    data = Path(path).read_bytes()
    reader = read_track_srt if Path(path).suffix.lower() == ".srt" else read_xliff
    result = reader(data, ct.source, language, ct.tracks.get(language), user=user, name=Path(path).name)
    _save(store, ct, result.track, user)
    return result


# ---- memory ----


def suggestions(store: Store, candidate_id: int, language: str, source_id: str, *, limit: int = 3) -> tuple:
    """Memory matches (exact and fuzzy, with their percentage) for one source cue."""
    ct = clip_tracks(store, candidate_id)
    cue = next((c for c in ct.source.cues if c.id == source_id), None)
    if cue is None:
        raise TranslationError(f"no source cue {source_id!r}")
    return memory(store).lookup(ct.source.language, " ".join(cue.lines), language, limit=limit)


def import_memory(store: Store, path: Path) -> int:
    from pipeline.translation.tmx import read_tmx

    entries = read_tmx(Path(path).read_bytes(), source=Path(path).name, origin=f"tmx:{Path(path).name}")
    return TranslationsRepo(store).add_memory(entries)


def export_memory(store: Store, path: Path) -> int:
    from pipeline.translation.tmx import write_tmx

    entries = TranslationsRepo(store).memory_entries()
    write_tmx(entries, path)
    return len(entries)


# ---- the per-language gate ----


def approved_languages(cand: Any) -> tuple[str, ...]:
    """Languages the candidate's own approval covers (its source text and stored translations)."""
    texts = {**dict(cand.translations), **dict(cand.subtitles)}
    return tuple(sorted(k for k, v in texts.items() if str(v).strip()))


def checked_cues(store: Store, candidate_id: int) -> dict[str, tuple[Cue, ...]]:
    """Per language, the source-clock cues of every checked translation track of the current
    version: the only translation text a publication plan may carry."""
    from pipeline.translation.track import as_cues

    ct = clip_tracks(store, candidate_id)
    return {lang: as_cues(t) for lang, t in ct.tracks.items() if t.status == "checked"}


def checked_languages(store: Store, candidate_id: int) -> tuple[str, ...]:
    return tuple(sorted(checked_cues(store, candidate_id)))


def publish_refusal(store: Store, candidate_id: int, language: str) -> str:
    """Why the `language` subtitles of the candidate cannot be published ("" when they can, as far
    as translation goes; the review gate still checks the approval and the consent)."""
    from review.gate import _allows

    ct = clip_tracks(store, candidate_id)
    cand = ct.candidate
    person = ReviewStore(store).interviewee_of(candidate_id)
    if person is not None and not _allows(person.consent.languages, language):
        return f"{language}: the consent does not cover this language"
    track = ct.tracks.get(language)
    if track is not None and track.status == "checked":
        return ""
    if language in approved_languages(cand):
        return ""
    if track is None:
        return f"{language}: no translation track"
    who = f"a second translator or a reviewer who reads {language}"
    return f"{language}: the track is {track.status}, not checked by {who}"


def publishable_languages(store: Store, candidate_id: int) -> tuple[tuple[str, ...], dict[str, str]]:
    """(languages to export, {language: one-line refusal}) over every language the candidate has
    text or a track in, and every language its consent names."""
    ct = clip_tracks(store, candidate_id)
    person = ReviewStore(store).interviewee_of(candidate_id)
    wanted = set(approved_languages(ct.candidate)) | set(ct.tracks)
    if person is not None:
        wanted |= {lang for lang in person.consent.languages if lang != "*"}
    ok: list[str] = []
    refused: dict[str, str] = {}
    for lang in sorted(wanted):
        reason = publish_refusal(store, candidate_id, lang)
        if reason:
            refused[lang] = reason
        else:
            ok.append(lang)
    return tuple(ok), refused


def mark_exported(store: Store, candidate_id: int, version: int, language: str) -> None:
    TranslationsRepo(store).mark_exported(candidate_id, version, language)


# ---- the report ----


@dataclass(frozen=True, slots=True)
class LanguageRow:
    """One clip's state in one language: missing, draft, translated, checked or exported."""

    candidate_id: int
    version: int
    language: str
    state: str
    cues: int
    translated: int
    machine_made: int
    needs_look: int

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate_id, "version": self.version, "language": self.language,
                "state": self.state, "cues": self.cues, "translated": self.translated,
                "machine_made": self.machine_made, "needs_look": self.needs_look}


def language_rows(store: Store, candidate_ids: Iterable[int] | None = None) -> tuple[LanguageRow, ...]:
    """Per clip and consented or started language, its translation state (the source language
    itself is left out). Clips: the given ones, else every approved one and every one with a track."""
    from pipeline.translation.track import language_report

    rs = ReviewStore(store)
    if candidate_ids is None:
        ids = {c.id for c in store.list_candidates(status="approved")}
        ids |= set(TranslationsRepo(store).candidates_with_tracks())
        candidate_ids = sorted(ids)
    out: list[LanguageRow] = []
    for cid in candidate_ids:
        ct = clip_tracks(store, cid)
        person = rs.interviewee_of(cid)
        consented = [lang for lang in (person.consent.languages if person else ()) if lang != "*"]
        for s in language_report(ct.source, ct.tracks, consented):
            state = "exported" if s.state == "checked" and ct.exported.get(s.language) else s.state
            out.append(LanguageRow(cid, ct.candidate.version, s.language, state, s.cues, s.translated,
                                   s.machine_made, s.needs_look))
    return tuple(out)


def engine_named(name: str, workspace: Any, libretranslate_url: str = "") -> Any:
    """The machine-translation engine called `name` (apertium, argos, libretranslate)."""
    from pipeline.translation.engines import ApertiumEngine, ArgosEngine, LibreTranslateEngine

    if name == "apertium":
        return ApertiumEngine()
    if name == "argos":
        return ArgosEngine(workspace.root)
    if name == "libretranslate":
        if not libretranslate_url:
            raise TranslationError("libretranslate needs --mt-url (a self-hosted server)")
        return LibreTranslateEngine(libretranslate_url)
    raise TranslationError(f"unknown engine {name!r} (apertium, argos, libretranslate)")


def reads(store: Store, user: str, languages: Sequence[str]) -> tuple[str, ...]:
    """Record the languages `user` reads."""
    if ReviewStore(store).get_user(user) is None:
        raise TranslationError(f"no user {user!r}")
    return TranslationsRepo(store).set_languages(user, languages)


def language_is(a: str, b: str) -> bool:
    return base_language(a) == base_language(b)

