"""Render approved candidates: one ffmpeg graph per output (see plan.py), run once (run.py).

Modules: profiles (shapes, subtitle look, RenderOptions), plan (graph as data), run (the one
place ffmpeg runs), loudness (EBU R128), faces (detect, track, blur regions), voice (rubberband),
redaction (names to pseudonym, bleeps), subs and timing (cues, ASS/SRT/VTT), cards (moviepy
stills), manifest (provenance), files (atomic outputs, verification), proxy_encode (whole-interview
review proxies), render_export (`render_export`).
"""
