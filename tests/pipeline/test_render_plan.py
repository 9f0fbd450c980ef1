"""Pure parts of the renderer: graph planning, profiles, progress parsing, redaction, face regions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.errors import RenderError
from pipeline.records import Cue, Word
from pipeline.render.loudness import Loudness, normalisation, parse_ebur128_summary, parse_loudnorm_json
from pipeline.render.plan import (
    BlurRegion,
    Card,
    RenderJob,
    blur_tracks,
    plan_audio_analysis,
    plan_render,
)
from pipeline.render.profiles import PROFILES, RenderOptions, output_size
from pipeline.render.redaction import (
    bleep_intervals,
    expand_terms,
    find_redactions,
    redact_cues,
    redact_text,
    wrap_lines,
)
from pipeline.render.run import parse_progress_line, with_progress
from pipeline.render.subs import clip_cues
from pipeline.render.voice import ratio_to_semitones, voice_filter_args

JOB = RenderJob(ffmpeg="ffmpeg", source="/media/in.mp4", start=10.0, end=25.0, src_width=1920,
                src_height=1080, fps=25.0, output="/out/.clip.123.part.mp4")


def _graph(argv: list[str]) -> str:
    return argv[argv.index("-filter_complex") + 1]


def _opt(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_plan_is_one_run_with_the_cut_codecs_and_fast_start():
    argv = plan_render(JOB)
    assert argv[0] == "ffmpeg" and argv.count("-i") == 1 and argv[-1] == JOB.output
    assert (_opt(argv, "-ss"), _opt(argv, "-t")) == ("10.000", "15.000")
    assert argv.index("-ss") < argv.index("-i")  # input seeking: frame-accurate with a re-encode
    assert _opt(argv, "-vcodec") == "libx264" and _opt(argv, "-acodec") == "aac"
    assert _opt(argv, "-movflags") == "+faststart" and _opt(argv, "-f") == "mp4"
    assert _opt(argv, "-map_metadata") == "-1"  # no source metadata (places, devices) leaks
    assert "-y" in argv[:6]  # global options before the inputs, not trailing
    graph = _graph(argv)
    assert "loudnorm=I=-23" in graph  # master is broadcast (single pass without analysis figures)
    assert "ass=" not in graph and "rubberband" not in graph and "overlay" not in graph


def test_plan_is_pure_and_deterministic():
    assert plan_render(JOB) == plan_render(JOB)


@pytest.mark.parametrize(("profile", "src", "size"), [
    ("master", (1920, 1080), (1920, 1080)),
    ("master", (3840, 2160), (1920, 1080)),
    ("master", (1280, 720), (1280, 720)),
    ("master", (700, 700), (700, 700)),
    ("vertical", (1280, 720), (1080, 1920)),
    ("square", (1920, 1080), (1080, 1080)),
    ("square", (640, 360), (360, 360)),
])
def test_output_size_per_profile(profile, src, size):
    assert output_size(PROFILES[profile], *src) == size


def test_vertical_has_blurred_fill_and_speaker_window_centred_on_the_speaker():
    job = replace(JOB, options=RenderOptions(profile="vertical"), speaker_x=1500.0, speaker_y=400.0)
    graph = _graph(plan_render(job))
    assert "split=2" in graph and "boxblur" in graph and "overlay" in graph
    # A 1080x1080 window (aspect 1) around x=1500 in a 1920-wide frame: clamped to the right edge.
    assert "crop=1080:1080:840:0" in graph
    assert "loudnorm=I=-14" in graph  # social


def test_subtitles_burned_with_bundled_fonts():
    job = replace(JOB, ass_file="/tmp/work/burn.ass", fonts_dir="/app/pipeline/fonts")
    graph = _graph(plan_render(job))
    assert "ass=/tmp/work/burn.ass:fontsdir=/app/pipeline/fonts:shaping=complex" in graph
    with pytest.raises(RenderError):
        plan_render(replace(job, ass_file="/tmp/bad:name.ass"))


def test_face_tracks_follow_the_face_and_full_frame_windows_blur_everything():
    regions = (
        BlurRegion(100, 50, 300, 400, 0.0, 1.0), BlurRegion(1500, 60, 200, 200, 0.0, 1.0),
        BlurRegion(120, 50, 300, 400, 1.0, 2.0),
        BlurRegion(0, 0, 1920, 1080, 2.0, 3.0, True),
        BlurRegion(140, 40, 280, 380, 3.0, 16.0),
    )
    tracks = blur_tracks(regions, 1920, 1080)
    assert [(t.width, t.height) for t in tracks] == [(300, 400), (200, 200)]
    assert tracks[0].windows == ((0.0, 1.0, 100, 50), (1.0, 2.0, 120, 50), (3.0, 16.0, 130, 30))
    assert tracks[1].windows == ((0.0, 1.0, 1500, 60),)
    graph = _graph(plan_render(replace(JOB, blur=regions)))
    assert "split=3" in graph and "trim" not in graph  # no branch waits: memory stays flat
    assert "crop=300:400:100*gte(t\\,0.000)*lt(t\\,1.000)+120*gte(t\\,1.000)*lt(t\\,2.000)" in graph
    assert "enable=gte(t\\,2.000)*lt(t\\,3.000)" in graph  # the full-frame window
    assert graph.count("boxblur") == 3 and graph.count("overlay") == 2
    assert graph.index("overlay") < graph.index("setsar")  # blur before any scaling


def test_blur_track_box_stays_inside_the_frame():
    (track,) = blur_tracks((BlurRegion(1800, 1000, 100, 60, 0.0, 1.0),
                            BlurRegion(0, 0, 300, 300, 1.0, 2.0)), 1920, 1080)
    assert (track.width, track.height) == (300, 300)
    assert track.windows == ((0.0, 1.0, 1620, 780), (1.0, 2.0, 0, 0))


def test_bleeps_mute_speech_before_the_voice_change_and_mix_a_tone():
    job = replace(JOB, bleeps=((1.0, 1.5), (3.0, 3.2)), alter_voice=True)
    argv = plan_render(job)
    graph = _graph(argv)
    assert any(a.startswith("sine=frequency=1000") for a in argv)
    mute = "volume=eval=frame:volume=if(between(t\\,1.000\\,1.500)+between(t\\,3.000\\,3.200)\\,0\\,1)"
    assert mute in graph
    assert graph.index(mute) < graph.index("rubberband") < graph.index("amix")
    assert "rubberband=formant=preserved:pitch=0.8400:pitchq=quality" in graph


def test_loudness_linear_when_peaks_allow_else_gain_and_limiter():
    quiet_peaks = Loudness(-30.0, -20.0, 3.0, -40.0, 0.1)
    graph = _graph(plan_render(replace(JOB, loudness=quiet_peaks)))
    assert "volume=7.00dB" in graph and "loudnorm" not in graph  # -30 LUFS to -23: +7 dB
    peaky = Loudness(-20.0, -2.0, 3.0, -30.0, 0.1)
    social = RenderOptions(profile="square")
    assert normalisation(social, peaky) == ("limit", 6.0)
    graph = _graph(plan_render(replace(JOB, options=social, loudness=peaky, loudness_trim=0.4)))
    assert "volume=6.40dB" in graph and "alimiter" in graph and "loudnorm" not in graph
    silent = Loudness(float("-inf"), float("-inf"), 0.0, -70.0, 0.0)
    assert normalisation(social, silent)[0] == "none"
    assert normalisation(social, Loudness(-70.0, -60.0, 0.0, -80.0, 0.0))[0] == "none"
    assert normalisation(social, None)[0] == "dynamic"


def test_audio_analysis_is_audio_only_with_ebur128_summary():
    argv = plan_audio_analysis(JOB)
    assert "-map" in argv and _opt(argv, "-f") == "null" and argv[-1] == "-"
    assert "ebur128=framelog=quiet:peak=true" in _graph(argv) and "[0:v]" not in _graph(argv)
    check = _graph(plan_audio_analysis(replace(JOB, loudness=Loudness(-20.0, -3.0, 2.0, -30.0, 0.0)),
                                       check=True))
    assert check.index("volume=") < check.index("ebur128")


def test_ebur128_summary_parsed():
    lines = ["[Parsed_ebur128_0 @ 0x7f] Summary:", "", "  Integrated loudness:", "    I:         -25.2 LUFS",
             "    Threshold: -35.4 LUFS", "", "  Loudness range:", "    LRA:         1.6 LU",
             "    Threshold: -45.3 LUFS", "    LRA low:   -26.2 LUFS", "    LRA high:  -24.6 LUFS", "",
             "  True peak:", "    Peak:       -9.1 dBFS", "[out#0/null @ 0x55] video:0KiB audio:3433KiB"]
    got = parse_ebur128_summary(lines)
    assert (got.input_i, got.input_thresh, got.input_lra, got.input_tp) == (-25.2, -35.4, 1.6, -9.1)
    with pytest.raises(RenderError):
        parse_ebur128_summary(["no summary"])


def test_loudnorm_report_parsed():
    lines = ["[Parsed_loudnorm_0 @ 0x1] ", "{", '\t"input_i" : "-27.61",', '\t"input_tp" : "-4.47",',
             '\t"input_lra" : "18.06",', '\t"input_thresh" : "-39.20",', '\t"output_i" : "-16.58",',
             '\t"target_offset" : "0.58"', "}", "[out#0/null] done"]
    got = parse_loudnorm_json(lines)
    assert (got.input_i, got.input_tp, got.target_offset) == (-27.61, -4.47, 0.58)
    with pytest.raises(RenderError):
        parse_loudnorm_json(["nothing here"])


def test_cards_join_through_concat():
    job = replace(JOB, title_card=Card("/tmp/w/title.png", 3.0), end_card=Card("/tmp/w/end.png", 2.0))
    argv = plan_render(job)
    assert "concat=a=1:n=3:v=1" in _graph(argv)
    assert argv[argv.index("-t", argv.index("-ss")) + 1] == "15.000"  # the cut
    assert argv[argv.index("-t", argv.index("-map")) + 1] == "20.000"  # the whole output
    assert job.total_duration == 20.0


def test_empty_cut_refused():
    with pytest.raises(RenderError):
        plan_render(replace(JOB, end=10.0))


def test_progress_arguments_and_parsing():
    argv = with_progress(["ffmpeg", "-i", "x"])
    assert argv[:5] == ["ffmpeg", "-nostdin", "-progress", "pipe:1", "-nostats"]
    assert parse_progress_line("out_time_us=1500000\n") == 1.5
    assert parse_progress_line("out_time_ms=2000000") == 2.0
    assert parse_progress_line("out_time_us=N/A") is None
    assert parse_progress_line("progress=continue") is None


def test_voice_filter():
    assert voice_filter_args(0.84)["formant"] == "preserved"
    assert round(ratio_to_semitones(0.84), 1) == -3.0
    with pytest.raises(RenderError):
        voice_filter_args(1.0)


# ---- redaction ----------------------------------------------------------------------------------

WORDS = tuple(Word(s, s + 0.4, t, 0.9) for s, t in [
    (0.0, "My"), (0.4, "name"), (0.8, "is"), (1.2, "Karim"), (1.6, "Haddad."), (2.4, "Haddad's"),
    (2.8, "brother"), (3.2, "karim"), (3.6, "left."),
])


def test_find_redactions_matches_names_and_their_parts():
    hits = find_redactions(WORDS, ["Karim Haddad"])
    assert [(h.start, h.end) for h in hits] == [(1.2, 2.0), (2.4, 2.8), (3.2, 3.6)]
    assert expand_terms(["Karim Haddad", "Al Noor"]) == ("Karim Haddad", "Al Noor", "Haddad", "Karim", "Noor")


def test_bleep_intervals_clip_relative_padded_and_merged():
    hits = find_redactions(WORDS, ["Karim Haddad"])
    spans = bleep_intervals(hits, start=1.0, end=3.5, padding=0.1)
    assert spans == ((0.1, 1.1), (1.3, 1.9), (2.1, 2.5))


def test_redact_text_and_cues():
    assert redact_text("I am Karim Haddad, karim to friends.", ["Karim Haddad"], "Amal") == \
        "I am Amal, Amal to friends."
    assert redact_text("Karimov is not a match", ["Karim"], "Amal") == "Karimov is not a match"
    cues = (Cue(0.0, 2.0, ("Everyone knew me as Karim Haddad", "back then")),)
    out = redact_cues(cues, ["Karim Haddad"], "Abu Someone With A Long Pseudonym")
    assert all(len(line) <= 42 for line in out[0].lines) and len(out[0].lines) == 2
    assert "Karim" not in " ".join(out[0].lines)


def test_wrap_lines_never_splits_words():
    assert wrap_lines("short") == ("short",)
    text = "one two three four five six seven eight nine ten eleven twelve"
    lines = wrap_lines(text)
    assert len(lines) == 2 and " ".join(lines).split() == text.split()


def test_clip_cues_shift_clip_and_offset():
    cues = (Cue(9.0, 10.5, ("a",)), Cue(11.0, 12.0, ("b",)), Cue(24.9, 27.0, ("c",)), Cue(9.0, 10.1, ("d",)))
    assert clip_cues(cues, 10.0, 25.0, offset=3.0) == (Cue(3.0, 3.5, ("a",)), Cue(4.0, 5.0, ("b",)))


# Face spans and blur regions: tests/pipeline/test_faces_tracking.py


def test_relative_paths_are_refused_before_they_can_read_as_options():
    with pytest.raises(RenderError, match="output path must be absolute"):
        plan_render(replace(JOB, output="-x/clip.mp4"))
    with pytest.raises(RenderError, match="source path must be absolute"):
        plan_render(replace(JOB, source="-in.mp4"))
