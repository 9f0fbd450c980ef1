"""The export plan takes its subtitles from the version's stored cue track, on the source's own
frame grid (a 30 fps source gives multiples of 1/30 s), and never outside [in, out]."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from pipeline.cue_track import build_track
from pipeline.records import Word


def _words(n: int = 30, step: float = 0.31) -> tuple[Word, ...]:
    return tuple(Word(0.137 + k * step, 0.137 + k * step + 0.25, f"word{k}{'.' if k % 6 == 5 else ''}", 0.9)
                 for k in range(n))


def _plan_for(fps_text: str, start: float, end: float):
    from flows.services.exporting import _plan
    from pipeline.publication import Target

    words = _words()
    track = build_track(words, start, end, fps_text, "en")
    cand = SimpleNamespace(id=7, version=3, start=start, end=end, language="en",
                           subtitles={"en": "x"}, translations={})
    interview = SimpleNamespace(sha256="a" * 64, place="", recorded="2020",
                                media={"streams": [{"kind": "video", "fps": float(fps_text)},
                                                   {"kind": "audio"}]})
    consent = SimpleNamespace(face=True, voice=True, name=False, languages=("*",), platforms=("*",),
                              expires=date(2099, 1, 1))
    person = SimpleNamespace(id=1, pseudonym="Amal", real_names=("Zed Qux",), identifying_words=(),
                             consent=consent)
    plan = _plan(cand, interview, person, words, {}, (), (), Target("master", "en", "any"), None,
                 b"k" * 32, {"en": track})
    return plan, track


def test_thirty_fps_export_puts_cues_on_the_thirty_fps_grid():
    plan, track = _plan_for("30", 1.01, 6.5)
    (t,) = plan.tracks
    assert t.cues
    for c in t.cues:
        for x in (c.start, c.end):  # the plan keeps milliseconds, as SRT does
            assert abs(x - round(x * 30) / 30) <= 0.0005 + 1e-9, x
    # the cut itself sits on the grid too
    assert abs(plan.start - round(plan.start * 30) / 30) <= 0.0005 + 1e-9


def test_cues_stay_inside_the_cut_and_come_from_the_track():
    plan, track = _plan_for("25", 2.0, 5.0)
    (t,) = plan.tracks
    length = plan.end - plan.start
    assert all(0 <= c.start < c.end <= length + 1e-9 for c in t.cues)
    assert [c.lines for c in t.cues] == [c.lines for c in track.cues]
    assert all(a.end <= b.start for a, b in zip(t.cues, t.cues[1:], strict=False))
