"""The stages of counterclips: pure functions over plain records, plus four small I/O edges
(media, models, ffmpeg, and the store, which lives in clips_metadata)."""
