"""Timeline export: exact cuts on the right media, markers, redactions, adapters reading back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ProtectedNameError, TimelineError, TimelineRefused
from pipeline.timeline.build import build_timeline, select_media
from pipeline.timeline.fcpx import format_name, frame_duration
from pipeline.timeline.neutral_names import SPECIAL_REELS, check_no_protected, reel_names
from pipeline.timeline.records import MediaRef, RawSourceGrant
from pipeline.timeline.write import export_timeline, sequence_subtitles, write_timeline

from .helpers import PROTECTED, SOURCE_SHA, grant_for, make_clip


def _meta(clip: otio.schema.Clip) -> dict:
    return dict(clip.metadata["counterclips"])


def test_without_grant_the_timeline_points_at_the_redacted_render(tmp_path: Path) -> None:
    clip = make_clip(tmp_path)
    timeline = build_timeline([clip], "c1v1")
    (video_clip,) = timeline.video_tracks()[0].find_clips()
    assert video_clip.media_reference.target_url.endswith("/exports/c1v1.mp4")
    assert _meta(video_clip)["raw_source"] is False
    assert _meta(video_clip)["media_sha256"] == clip.rendered.media.sha256
    # the render starts with a 2 s card: the cut sits 2 s in, for the same length
    assert video_clip.source_range.start_time.to_seconds() == pytest.approx(2.0)
    assert video_clip.source_range.duration.to_seconds() == pytest.approx(8.2)


def test_raw_source_only_with_a_matching_grant(tmp_path: Path) -> None:
    clip = make_clip(tmp_path)
    choice = select_media(clip, grant_for(clip))
    assert choice.raw and choice.media.sha256 == SOURCE_SHA and choice.in_s == clip.in_s
    with pytest.raises(TimelineRefused, match="grant is for candidate 1 v2"):
        select_media(clip, RawSourceGrant(1, 2, SOURCE_SHA))
    with pytest.raises(TimelineRefused):
        select_media(clip, RawSourceGrant(1, 1, "b" * 64))
    with pytest.raises(TimelineRefused, match="no rendered export"):
        select_media(make_clip(tmp_path, rendered=False))


def test_otio_loads_back_with_exact_in_out_on_the_source(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, fps=30000 / 1001, in_s=12.3, out_s=20.5)
    paths = export_timeline([clip], tmp_path / "out", "c1v1", "otio", [grant_for(clip)], PROTECTED)
    loaded = otio.adapters.read_from_file(str(paths[0]))
    (video_clip,) = loaded.video_tracks()[0].find_clips()
    assert video_clip.media_reference.target_url == Path(clip.source.path).as_uri()
    assert video_clip.media_reference.metadata["counterclips"]["sha256"] == SOURCE_SHA
    rate = video_clip.source_range.start_time.rate
    assert rate == pytest.approx(30000 / 1001)
    assert video_clip.source_range.start_time.value == round(12.3 * 30000 / 1001)
    assert video_clip.source_range.end_time_exclusive().value == round(20.5 * 30000 / 1001)
    names = [m.name for m in video_clip.markers]
    assert "theme: disillusionment" in names and "risk: pro_group_advocacy" in names
    assert any(n.startswith("comment: ") for n in names)
    assert "bleep 13.30-13.90" in names and any(n.startswith("blur region") for n in names)
    redaction = _meta(video_clip)["redaction"]
    assert [list(b) for b in redaction["bleeps"]] == [pytest.approx([13.3, 13.9])]
    assert redaction["applied_in_media"] is False
    assert [p.name for p in paths[1:]] == ["c1v1.ar.srt", "c1v1.en.srt"]
    assert "they lied." in paths[2].read_text()


def test_fcp7_xml_parses_back_with_its_adapter(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path, 1), make_clip(tmp_path, 2, in_s=40.0, out_s=47.0)]
    (path, *_) = export_timeline(clips, tmp_path, "sel1", "fcp7", protected_terms=PROTECTED)
    loaded = otio.adapters.read_from_file(str(path), "fcp_xml")
    video = loaded.video_tracks()[0].find_clips()
    assert [c.name for c in video] == ["c1v1", "c2v1"]
    assert video[1].source_range.duration.to_seconds() == pytest.approx(7.0)


def test_edl_of_three_clips_has_three_events_with_distinct_reels(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path, n, in_s=10.0 * n, out_s=10.0 * n + 4) for n in (1, 2, 3)]
    (path, *_) = export_timeline(clips, tmp_path, "sel3", "edl", [grant_for(c) for c in clips], PROTECTED)
    text = path.read_text()
    events = [line.split() for line in text.splitlines() if line[:3].isdigit()]
    assert len(events) == 3
    reels = [e[1] for e in events]
    assert len(set(reels)) == 3 and all(len(r) <= 8 for r in reels)
    loaded = otio.adapters.read_from_file(str(path), "cmx_3600", rate=25)
    got = [c.source_range.start_time.to_seconds() for c in loaded.find_clips()]
    assert got == pytest.approx([10.0, 20.0, 30.0])


def test_fcpxml_names_the_format_without_probing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("the FCPX writer must not run ffprobe")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    clip = make_clip(tmp_path, fps=29.97)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "fcpxml", [grant_for(clip)], PROTECTED)
    text = path.read_text()
    assert 'name="FFVideoFormat1080p2997"' in text and 'frameDuration="1001/30000s"' in text
    assert 'width="1920"' in text and "bleep" in text


def test_format_names_and_frame_durations() -> None:
    assert format_name(1280, 720, 25) == "FFVideoFormat720p25"
    assert format_name(1920, 1080, 23.976) == "FFVideoFormat1080p2398"
    assert format_name(1000, 500, 25) == "FFVideoFormatRateUndefined"
    assert frame_duration(24) == "1/24s" and frame_duration(59.94) == "1001/60000s"


def test_reel_names_are_short_distinct_and_never_special() -> None:
    reels = reel_names(["c1v1", "c1v1", "AX", "candidate-123456-v7"], ["ab12" * 16] * 4)
    assert len(set(reels)) == 4 and all(len(r) <= 8 for r in reels)
    assert "AX" not in reels and reels[0] == "C1V1"


def test_protected_names_are_refused_in_names_paths_and_text(tmp_path: Path) -> None:
    clip = make_clip(tmp_path)
    named_source = replace(clip, source=MediaRef("/m/Yusuf_Darwish_full.mp4", SOURCE_SHA))
    with pytest.raises(ProtectedNameError):
        export_timeline([named_source], tmp_path, "c1v1", "otio", [grant_for(clip)], PROTECTED)
    with pytest.raises(ProtectedNameError):
        write_timeline(build_timeline([clip], "c1v1"), tmp_path / "darwish.otio", "otio", PROTECTED)
    with pytest.raises(ProtectedNameError):
        check_no_protected(["DARWÍSH"], PROTECTED, "x")  # accents and case do not hide it
    spaced = replace(clip, source=MediaRef("/m/Yúsuf Darwish.mp4", SOURCE_SHA))  # as_uri gives %20
    with pytest.raises(ProtectedNameError):
        export_timeline([spaced], tmp_path, "c1v1", "fcp7", [grant_for(clip)], ("Yúsuf Darwish",))
    # the same clip pointed at its neutral render passes, and nothing written names anyone
    paths = export_timeline([named_source], tmp_path / "ok", "c1v1", "fcp7", (), PROTECTED)
    for p in paths:
        assert "darwish" not in p.read_text().lower()


def test_bad_clips_and_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TimelineError):
        build_timeline([], "empty")
    clip = make_clip(tmp_path)
    backwards = replace(clip, in_s=5.0, out_s=4.0)
    with pytest.raises(TimelineError):
        build_timeline([backwards], "x")
    with pytest.raises(TimelineError, match="unknown timeline format"):
        export_timeline([clip], tmp_path, "c1v1", "aaf")


def test_sequence_subtitles_follow_the_clips(tmp_path: Path) -> None:
    clips = [make_clip(tmp_path, 1, 10.0, 13.0), make_clip(tmp_path, 2, 30.0, 35.0)]
    subs = sequence_subtitles(clips)
    # clip 1 is 3 s long: its second cue is cut at 3 s, clip 2's cues start at 3 s
    assert [(c.start, c.end) for c in subs["en"]] == [(0.0, 2.0), (2.1, 3.0), (3.0, 5.0), (5.1, 7.0)]


HEX = "0123456789abcdef"


@given(st.lists(st.text(max_size=12), min_size=1, max_size=40), st.text(alphabet=HEX, min_size=8))
def test_reels_stay_distinct_short_and_plain(ids: list[str], sha: str) -> None:
    reels = reel_names(ids, [sha] * len(ids))
    assert len(set(reels)) == len(ids)
    assert all(1 <= len(r) <= 8 and r.isalnum() and r.isascii() and r not in SPECIAL_REELS for r in reels)


def test_a_square_render_at_25_fps_keeps_its_own_size_and_rate(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, fps=29.97)
    square = replace(clip, rendered=replace(clip.rendered, width=1080, height=1080, fps=25.0))
    (path, *_) = export_timeline([square], tmp_path, "c1v1", "fcpxml", protected_terms=PROTECTED)
    assert 'name="FFVideoFormat1080x1080p25"' in path.read_text()
    (video_clip,) = build_timeline([square], "c1v1").video_tracks()[0].find_clips()
    assert video_clip.source_range.start_time.rate == 25.0
    assert video_clip.source_range.start_time.value == 50  # the cut starts 2 s into the render


@pytest.mark.parametrize("fmt", ["otio", "fcp7", "fcpxml", "edl"])
def test_without_grant_no_format_names_the_raw_source(tmp_path: Path, fmt: str) -> None:
    clips = [make_clip(tmp_path, 1), make_clip(tmp_path, 2, in_s=40.0, out_s=44.0)]
    timeline_path, *srts = export_timeline(clips, tmp_path / "out", "sel", fmt)
    for path in (timeline_path, *srts):
        assert "/media/" not in path.read_text()
    assert "/exports/c2v1.mp4" in timeline_path.read_text()


def test_protected_terms_match_whole_words_in_any_variant() -> None:
    check_no_protected(["available_range", "Alibaba"], ["Ali"], "x")
    for text in ["ali.mp4", "file:///m/ALI-interview", "Ａｌｉ", "A\u00adli"]:
        with pytest.raises(ProtectedNameError):
            check_no_protected([text], ["Ali"], "x")
