"""Subtitle translation: per-script limits, translated tracks, translation memory, file formats
(TMX, XLIFF 1.2/2.0, SRT) and optional machine-translation engines.

Pure records and functions; the store persists them (see `track_to_dict`, `MemoryEntry`). Import
the submodules directly (`pipeline.translation.track`, ...): nothing heavy loads at import time.
"""
