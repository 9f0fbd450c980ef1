"""Import of edited timelines: new ranges come back; anything else is refused with its line."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime as RT
from opentimelineio.opentime import TimeRange

from pipeline.errors import TimelineRefused
from pipeline.timeline.build import build_timeline
from pipeline.timeline.read import read_timeline
from pipeline.timeline.records import KnownMedia, MediaRef
from pipeline.timeline.write import export_timeline

from .helpers import grant_for, known_source, make_clip


def _rendered(clip) -> KnownMedia:  # noqa: ANN001
    r = clip.rendered
    return KnownMedia(r.media, r.duration_s, clip.in_s - r.content_start_s)


def _raw_otio(tmp_path: Path, **kw: float) -> tuple[Path, object]:
    clip = make_clip(tmp_path, **kw)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "otio", [grant_for(clip)])
    return path, clip


def test_shortened_otio_range_comes_back_as_the_new_cut(tmp_path: Path) -> None:
    path, clip = _raw_otio(tmp_path, in_s=12.0, out_s=20.0)
    timeline = otio.adapters.read_from_file(str(path))
    for track in timeline.tracks:
        for item in track.find_clips():
            rng = item.source_range
            item.source_range = otio.opentime.TimeRange(
                rng.start_time + otio.opentime.RationalTime(25, 25), otio.opentime.RationalTime(100, 25)
            )
    otio.adapters.write_to_file(timeline, str(path))
    cut = read_timeline(path, source=known_source(clip))
    assert cut.ranges == ((13.0, 17.0),) and cut.fmt == "otio" and cut.cuts == ()


def test_two_ranges_of_one_source_become_one_clip_with_a_cut(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=10.0, out_s=30.0)
    timeline = build_timeline([clip], "c1v1", [grant_for(clip)], video_only=True)
    track = timeline.tracks[0]
    first = track[0]
    second = first.clone()
    first.source_range = TimeRange(RT(250, 25), RT(100, 25))
    second.source_range = TimeRange(RT(500, 25), RT(125, 25))
    track.append(second)
    path = tmp_path / "recut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    cut = read_timeline(path, source=known_source(clip))
    assert cut.ranges == ((10.0, 14.0), (20.0, 25.0))
    assert (cut.in_s, cut.out_s, cut.cuts) == (10.0, 25.0, ((14.0, 20.0),))


def test_a_recut_of_the_rendered_clip_maps_back_to_source_time(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=12.0, out_s=20.0)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "otio")
    cut = read_timeline(path, source=known_source(clip), also=[_rendered(clip)])
    assert cut.ranges == ((pytest.approx(12.0), pytest.approx(20.0)),)


def test_fcp7_and_edl_round_trip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=12.0, out_s=20.0)
    for fmt in ("fcp7", "edl"):
        (path, *_) = export_timeline([clip], tmp_path / fmt, "c1v1", fmt, [grant_for(clip)])
        cut = read_timeline(path, source=known_source(clip), fps=25)
        assert cut.ranges == ((12.0, 20.0),), fmt


def test_other_media_is_refused_with_its_line(tmp_path: Path) -> None:
    path, clip = _raw_otio(tmp_path)
    text = path.read_text().replace(Path(clip.source.path).as_uri(), "file:///elsewhere/music.wav")
    text = text.replace(clip.source.sha256, "0" * 64)
    path.write_text(text)
    expected = r"c1v1.otio: line \d+ \(clip 1\): other media: only the candidate's source"
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(clip))


def test_range_outside_the_source_is_refused(tmp_path: Path) -> None:
    path, clip = _raw_otio(tmp_path)
    short = KnownMedia(clip.source, 15.0, 0.0)
    with pytest.raises(TimelineRefused, match=r"line \d+ \(clip 1\): range 12.* outside the media"):
        read_timeline(path, source=short)


def test_edl_range_outside_the_source_names_the_event_line(tmp_path: Path) -> None:
    edl = tmp_path / "cut.edl"
    edl.write_text(
        "TITLE: c1v1\n\n"
        "001  C1V1     V     C        00:00:10:00 00:00:12:00 00:00:00:00 00:00:02:00\n"
        "002  C1V1     V     C        00:20:00:00 00:20:02:00 00:00:02:00 00:00:04:00\n"
    )
    clip = make_clip(tmp_path)
    with pytest.raises(TimelineRefused, match=r"cut.edl: line 4 \(event 2\): range 1200.000-1202.000 s"):
        read_timeline(edl, source=known_source(clip), fps=25)


def test_edl_dissolve_is_refused_on_its_line(tmp_path: Path) -> None:
    edl = tmp_path / "cut.edl"
    edl.write_text(
        "TITLE: c1v1\n\n"
        "001  C1V1     V     C        00:00:10:00 00:00:12:00 00:00:00:00 00:00:02:00\n"
        "002  C1V1     V     D    025 00:00:20:00 00:00:22:00 00:00:02:00 00:00:04:00\n"
    )
    with pytest.raises(TimelineRefused, match=r"line 4 \(event 002\): unsupported transition 'D'"):
        read_timeline(edl, source=known_source(make_clip(tmp_path)), fps=25)


def test_reordered_ranges_and_effects_are_refused(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=10.0, out_s=30.0)
    timeline = build_timeline([clip], "c1v1", [grant_for(clip)], video_only=True)
    first = timeline.tracks[0][0]
    second = first.clone()
    first.source_range = TimeRange(RT(500, 25), RT(25, 25))
    second.source_range = TimeRange(RT(250, 25), RT(25, 25))
    timeline.tracks[0].append(second)
    path = tmp_path / "swap.otio"
    otio.adapters.write_to_file(timeline, str(path))
    with pytest.raises(TimelineRefused, match=r"line \d+ \(clip 2\): range goes back in the source"):
        read_timeline(path, source=known_source(clip))
    timeline.tracks[0].remove(timeline.tracks[0][1])
    timeline.tracks[0][0].effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
    otio.adapters.write_to_file(timeline, str(path))
    expected = r"line \d+ \(clip 1\): unsupported effect \(LinearTimeWarp\)"
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(clip))


def test_transitions_are_refused(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=10.0, out_s=30.0)
    timeline = build_timeline([clip], "c1v1", [grant_for(clip)], video_only=True)
    later = timeline.tracks[0][0].clone()
    later.source_range = TimeRange(RT(1000, 25), RT(25, 25))
    timeline.tracks[0].append(otio.schema.Transition(
        transition_type="SMPTE_Dissolve",
        in_offset=otio.opentime.RationalTime(5, 25), out_offset=otio.opentime.RationalTime(5, 25)))
    timeline.tracks[0].append(later)
    path = tmp_path / "dissolve.otio"
    otio.adapters.write_to_file(timeline, str(path))
    expected = r"line \d+ \(transition 1\): unsupported transition \(SMPTE_Dissolve\)"
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(clip))


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("empty.otio", "", "the file is empty"),
        ("bad.otio", '{\n  "OTIO_SCHEMA": "Timeline.1",\n  "name": \n}', "line 4, column 1: malformed OTIO"),
        ("list.otio", "[1, 2]", "not an OTIO timeline"),
        ("bad.xml", "<xmeml>\n<sequence>\n</xmeml>", r"line 3, column 2: malformed XML"),
        ("bomb.xml",
         '<?xml version="1.0"?>\n<!DOCTYPE x [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;">\n]>\n'
         "<xmeml>&b;</xmeml>",
         r"bomb.xml: line 2: hostile XML refused \(EntitiesForbidden\)"),
        ("xxe.xml",
         '<?xml version="1.0"?>\n<!DOCTYPE x [\n<!ENTITY e SYSTEM "file:///etc/passwd">\n]>\n<xmeml>&e;</xmeml>',
         r"xxe.xml: line 2: hostile XML refused"),
        ("noseq.xml", "<xmeml version=\"4\"></xmeml>", r"noseq.xml: cannot parse as fcp7"),
        ("binary.edl", b"\xff\xfe\x00bad".decode("latin-1"), "not UTF-8 text"),
        ("cut.aaf", "x", "cannot import"),
    ],
)
def test_malformed_and_hostile_files_are_refused(tmp_path: Path, name: str, body: str, expected: str) -> None:
    path = tmp_path / name
    if name == "binary.edl":
        path.write_bytes(b"\xff\xfe\x00bad")
    else:
        path.write_text(body)
    source = KnownMedia(MediaRef("/m/s.mp4", "a" * 64), 60.0)
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=source, fps=25)


def test_fcp7_with_a_doctype_as_suites_write_it_is_accepted(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=12.0, out_s=20.0)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "fcp7", [grant_for(clip)])
    text = path.read_text().replace("<xmeml", "<!DOCTYPE xmeml>\n<xmeml", 1)
    path.write_text(text)
    assert read_timeline(path, source=known_source(clip)).ranges == ((12.0, 20.0),)


def test_split_edits_layered_video_and_generators_are_refused(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=10.0, out_s=30.0)
    timeline = build_timeline([clip], "c1v1", [grant_for(clip)])
    audio = timeline.audio_tracks()[0][0]
    audio.source_range = TimeRange(RT(250, 25), RT(300, 25))
    path = tmp_path / "split.otio"
    otio.adapters.write_to_file(timeline, str(path))
    with pytest.raises(TimelineRefused, match="audio and video are cut differently"):
        read_timeline(path, source=known_source(clip))

    layered = build_timeline([clip], "c1v1", [grant_for(clip)], video_only=True)
    layered.tracks.append(layered.tracks[0].clone())
    otio.adapters.write_to_file(layered, str(path))
    with pytest.raises(TimelineRefused, match="2 video tracks with clips"):
        read_timeline(path, source=known_source(clip))

    titled = build_timeline([clip], "c1v1", [grant_for(clip)], video_only=True)
    titled.tracks[0].append(
        otio.schema.Clip(
            name="title",
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
            source_range=TimeRange(RT(0, 25), RT(25, 25)),
        )
    )
    otio.adapters.write_to_file(titled, str(path))
    with pytest.raises(TimelineRefused, match=r"line \d+ \(clip 2\): generated media"):
        read_timeline(path, source=known_source(clip))


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.otio"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(TimelineRefused, match="deep.otio"):
        read_timeline(path, source=KnownMedia(MediaRef("/m/s.mp4", "a" * 64), 60.0))


def test_known_media_of_a_clip_reads_back_either_export(tmp_path: Path) -> None:
    from pipeline.timeline.read import known_media

    clip = make_clip(tmp_path, in_s=12.0, out_s=20.0)
    source, also = known_media(clip)
    for grants in ([], [grant_for(clip)]):
        (path, *_) = export_timeline([clip], tmp_path / str(len(grants)), "c1v1", "edl", grants)
        cut = read_timeline(path, source=source, also=also, fps=25)
        assert cut.ranges == ((pytest.approx(12.0), pytest.approx(20.0)),)


EVENT = "001  C1V1     V     C        "
TC = "00:00:10:00 00:00:12:00 00:00:00:00"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"{EVENT}{TC}\n", r"line 3 \(event 001\): malformed event"),
        (f"{EVENT}00:00:10:00 00:00:1x:00 00:00:00:00 00:00:02:00\n", r"line 3 \(event 001\): malformed"),
        ("hello world\n", r"line 3: unrecognised EDL line"),
        (f"{EVENT}{TC} 00:00:02:00\nM2   C1V1       050.0      00:00:10:00\n", r"line 4: unsupported motion"),
        (f"{EVENT}{TC} 00:00:05:00\n", r"line 3 \(event 001\): cannot parse as edl"),
    ],
)
def test_malformed_edl_lines_are_named(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: c1v1\n\n" + body)
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(make_clip(tmp_path)), fps=25)


def test_fcp7_filter_is_refused_on_its_clipitem(tmp_path: Path) -> None:
    clip = make_clip(tmp_path, in_s=12.0, out_s=20.0)
    (path, *_) = export_timeline([clip], tmp_path, "c1v1", "fcp7", [grant_for(clip)])
    text = path.read_text()
    blur = (
        "<filter><effect><name>Gaussian Blur</name><effectid>GaussianBlur</effectid>"
        "<effecttype>filter</effecttype><mediatype>video</mediatype></effect></filter>"
    )
    end = text.index("</clipitem>")
    path.write_text(text[:end] + blur + text[end:])
    line = text[: text.index("<clipitem")].count("\n") + 1
    element = r"xmeml/sequence/media/\*/track/clipitem 1"
    expected = rf"c1v1.xml: line {line} \({element}\): unsupported effect \(Gaussian Blur\)"
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(clip))


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ('{"OTIO_SCHEMA": "RationalTime.1", "rate": 0.0, "value": 10.0}', None, "invalid frame rate"),
        ('{"OTIO_SCHEMA": "RationalTime.1", "rate": NaN, "value": 10.0}', None, "invalid frame rate"),
        (None, '{"OTIO_SCHEMA": "RationalTime.1", "rate": 25.0, "value": -50.0}', "empty or invalid"),
        ('{"OTIO_SCHEMA": "RationalTime.1", "rate": 25.0, "value": 1e300}', None, "invalid time|outside"),
    ],
)
def test_hostile_numbers_in_otio_are_refused(tmp_path: Path, start: str | None, duration: str | None,
                                             expected: str) -> None:
    import json

    path, clip = _raw_otio(tmp_path)
    doc = json.loads(path.read_text())
    rng = doc["tracks"]["children"][0]["children"][0]["source_range"]
    if start:
        rng["start_time"] = "@START@"
    if duration:
        rng["duration"] = "@DURATION@"
    text = json.dumps(doc).replace('"@START@"', start or "").replace('"@DURATION@"', duration or "")
    path.write_text(text)
    with pytest.raises(TimelineRefused, match=expected):
        read_timeline(path, source=known_source(clip))
