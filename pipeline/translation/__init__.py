"""Subtitle translation: per-script limits, translated tracks, translation memory, file formats
(TMX, XLIFF 1.2/2.0, SRT) and optional machine-translation engines.

Modules (import them directly; nothing heavy loads at import time):
- `limits`: `limits_for(language)`, `is_rtl_language`, `check_cue(...) -> tuple[Problem, ...]`,
  `wrap_text` (the package's own per-language table; `pipeline.cues` keeps the source defaults).
- `track`: `TranslatedCue`, `TranslationTrack`, draft/edit/confirm, draft -> translated ->
  checked with `can_check`, `reconcile` after source changes, `summarise`/`language_report`,
  `track_to_dict`/`track_from_dict`.
- `memory`: `MemoryEntry`, `TranslationMemory` (exact and fuzzy matches), `approved_pairs`.
- `tmx`, `track_files`: TMX 1.4b; XLIFF 1.2/2.0 and SRT per track, validated on import.
- `engines`: `Engine` protocol, apertium, argos, libretranslate, `available_engines`.

Storing (phase 2): a table `translation_tracks` keyed by (version id, language) holding
status, source_language, translators (JSON list), checker and updated_at, plus
`translated_cues` rows keyed by (track id, source_id) with start, end, lines (JSON list),
origin, confirmed, needs_look, look_reason, engine, position; or the whole
`track_to_dict(track)` as one JSON column. `translation_memory` rows hold the `MemoryEntry`
fields with a unique index on `MemoryEntry.key` (normalised texts, base languages).
"""
