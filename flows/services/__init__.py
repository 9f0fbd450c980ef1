"""The use cases, one function each; the CLI, the review app and the Prefect tasks call these.

- `ingesting`: ingest_media (probe, transcribe, flag, propose, review proxy) and its steps,
  with the one table of steps (`STEPS`) and the one done-ness rule (`needs`).
- `exporting`: export_candidate (gate, hash re-check, subtitle tracks, consent to protection,
  render, record) and exports_due.
- `timelines`: export_timelines (approved clips as an OTIO / FCP 7 / FCPXML / EDL sequence) and
  import_timeline (an edited timeline back as a new version in review).
- `publishing`: the distribution log (record_publication, mark_taken_down, open_takedowns) and
  consent withdrawal or narrowing (withdraw_consent, narrow_consent) with the takedown list.
- decide and edit live in `review/service.py` (`ReviewService.act`, `.edit`), where the review
  app, which may not import `flows`, calls them directly.

Services take the store and workspace they work on, raise named errors, print nothing.
"""
