"""Render approved candidates: one ffmpeg graph per output (see plan.py), run once (run.py).

Modules: profiles (shapes, subtitle look, RenderOptions), plan (graph as data), run (the one
place ffmpeg runs), loudness (EBU R128), faces (detect, track, blur regions), voice (rubberband),
redaction (names to pseudonym, bleeps), subs and timing (cues, ASS/SRT/VTT), cards (moviepy
stills), manifest (provenance), files (atomic outputs, verification), proxy (whole-interview
review proxies), export (`render_export`).

Public entry points, imported lazily so that `import pipeline.render` stays light:

- `render_export(plan, authorisation, key, source, out_dir, progress=None, *, provenance=None)
  -> ExportResult` (export.py): only from a `pipeline.publication.PublicationPlan` whose hash the
  authorisation signs
- `render_preview(plan, source, out_path, progress=None, options=PreviewOptions())
  -> PreviewResult` (export.py): the same plan through the same graph, smaller and faster
- `make_proxy(source, out_path, options=ProxyOptions(), progress=None) -> ProxyResult` (proxy.py):
  a verified, atomically written proxy of the whole source (review.proxy names it per interview)
- `RenderOptions`, `PROFILES`, `SubtitleTrack`, `CardText`
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "render_export": "pipeline.render.export",
    "render_preview": "pipeline.render.export",
    "PreviewOptions": "pipeline.render.export",
    "ExportResult": "pipeline.render.export",
    "make_proxy": "pipeline.render.proxy",
    "ProxyResult": "pipeline.render.proxy",
    "ProxyOptions": "pipeline.render.proxy",
    "RenderOptions": "pipeline.render.profiles",
    "PROFILES": "pipeline.render.profiles",
    "SubtitleTrack": "pipeline.render.subs",
    "CardText": "pipeline.render.cards",
    "title_card": "pipeline.render.cards",
    "end_card": "pipeline.render.cards",
    "plan_render": "pipeline.render.plan",
    "run_ffmpeg": "pipeline.render.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pipeline.render' has no attribute {name!r}")
