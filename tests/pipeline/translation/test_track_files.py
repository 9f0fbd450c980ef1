from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.translation.errors import TrackFileError
from pipeline.translation.track import TranslationTrack, clean_lines, draft_track, edit_cue, new_track
from pipeline.translation.track_files import format_track_srt, format_xliff, read_track_srt, read_xliff
from tests.pipeline.translation.support import SrcTrack, UpperEngine, source, source_and_texts

SRC = source("I left the group.", "They lied <b>to us</b> & more.", "Now I speak\nout.")


def track_with(src: SrcTrack, texts: list[list[str]], language: str) -> TranslationTrack:
    track = new_track(src, language)
    for cue, lines in zip(src.cues, texts, strict=True):
        track = edit_cue(track, cue.id, lines, "ana")
    return track


def assert_same_cues(got: TranslationTrack, want: TranslationTrack) -> None:
    assert [(c.source_id, c.start, c.end, c.lines) for c in got.cues] == [
        (c.source_id, c.start, c.end, c.lines) for c in want.cues
    ]


@settings(max_examples=60, deadline=None)
@given(source_and_texts(), st.sampled_from(["1.2", "2.0"]), st.sampled_from(["ar", "fr", "he", "ur", "ru"]))
def test_xliff_round_trip_keeps_ids_times_and_text(data, version, language) -> None:  # type: ignore[no-untyped-def]
    src, texts = data
    track = track_with(src, texts, language)
    text = format_xliff(src, track, version=version)
    result = read_xliff(text, src, language, None, user="tr")
    assert_same_cues(result.track, track)
    assert all(c.origin == "human" for c in result.track.cues)
    # Exported with no track (the translator's starting file): ids and source text survive.
    blank = read_xliff(format_xliff(src, language=language, version=version), src, language, user="tr")
    assert [(c.source_id, c.lines) for c in blank.track.cues] == [(c.id, ()) for c in src.cues]


@settings(max_examples=60, deadline=None)
@given(source_and_texts(), st.sampled_from(["ar", "fr", "he"]))
def test_srt_round_trip_keeps_times_and_text(data, language) -> None:  # type: ignore[no-untyped-def]
    src, texts = data
    track = track_with(src, texts, language)
    result = read_track_srt(format_track_srt(src, track), src, language, None, user="tr")
    want = [
        c.lines if c.lines != clean_lines(s.lines) else () for c, s in zip(track.cues, src.cues, strict=True)
    ]
    assert [(c.source_id, c.start, c.end) for c in result.track.cues] == [
        (s.id, s.start, s.end) for s in src.cues
    ]
    assert [c.lines for c in result.track.cues] == want


def test_edit_outside_and_import_marks_only_edited_cues() -> None:
    draft = draft_track(SRC, "es", engine=UpperEngine())
    text = format_xliff(SRC, draft, version="2.0", original="clip 42")
    assert 'state="initial"' in text and "&lt;b&gt;" in text
    edited = text.replace(">I LEFT THE GROUP.<", ">Dejé el grupo.<")
    result = read_xliff(edited, SRC, "es", draft, user="tr")
    assert result.changed == 1 and result.track.translators == ("tr",)
    assert result.track.cue("c1").origin == "human" and result.track.cue("c1").confirmed
    assert result.track.cue("c2").machine_made  # untouched machine text stays machine-made
    # A CAT tool marking a segment translated confirms it.
    confirmed = edited.replace('<segment state="initial">', '<segment state="translated">')
    result = read_xliff(confirmed, SRC, "es", draft, user="tr")
    assert not result.track.machine_made


def test_xliff12_states_say_what_is_machine_made() -> None:
    draft = draft_track(SRC, "es", engine=UpperEngine())
    text = format_xliff(SRC, draft, version="1.2")
    assert text.count('state-qualifier="mt-suggestion"') == 3
    assert "start=3.000 end=5.500" in text


def xliff12(units: str, target: str = "ar") -> str:
    return (
        '<?xml version="1.0"?>\n<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
        f'<file original="x" source-language="en" target-language="{target}" datatype="plaintext">\n<body>\n'
        f"{units}\n</body>\n</file>\n</xliff>\n"
    )


def unit(cue_id: str, target: str, note: str = "") -> str:
    note_xml = f"<note>{note}</note>" if note else ""
    return f'<trans-unit id="{cue_id}"><source>s</source><target>{target}</target>{note_xml}</trans-unit>'


def test_malformed_xliff_gives_line_numbered_errors() -> None:
    units = "\n".join(
        [
            unit("c1", "تركت الجماعة"),  # line 5
            unit("c1", "مرة أخرى"),  # 6: duplicate
            unit("c7", "لا"),  # 7: unknown
            unit("c2", "كلمة " * 12),  # 8: over-long line
            '<trans-unit id="c3"><source>s</source><target>a <g id="1">b</g></target></trans-unit>',  # 9
        ]
    )
    with pytest.raises(TrackFileError) as caught:
        read_xliff(xliff12(units), SRC, "ar", user="tr", name="ar.xlf")
    got = [(p.line, p.cue_id, p.message.split(" (")[0].split(":")[0]) for p in caught.value.problems]
    assert (6, "c1", "duplicate cue") in got
    assert (7, "c7", "unknown cue id") in got
    assert any(line == 8 and cue == "c2" and "columns wide" in msg for line, cue, msg in got)
    assert (9, "", "inline markup <g> is not supported in subtitle text") in got
    assert str(caught.value).startswith("ar.xlf: line 6: cue c1: duplicate cue")


def test_xliff_missing_cues_wrong_language_and_changed_times() -> None:
    units = unit("c1", "Oui", "start=0.500 end=2.500") + "\n" + unit("c2", "Non", "start=6.000 end=8.500")
    with pytest.raises(TrackFileError) as caught:
        read_xliff(xliff12(units, target="fr"), SRC, "ar", user="tr")
    messages = [str(p) for p in caught.value.problems]
    assert any("target language is fr, not ar" in m for m in messages)
    assert any(m.startswith("line 5: cue c1: times 0.500-2.500 s differ") for m in messages)
    assert any("cue c3: cue missing from the file" in m for m in messages)
    assert not any("cue c2" in m for m in messages)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('<!DOCTYPE x [<!ENTITY a "b">]><xliff/>', "refused unsafe XML"),
        ("<xliff>\n<file>\n</xliff>", "line 3: not well-formed"),
        ('<tmx version="1.4"/>', "not an XLIFF"),
        ("<xliff version='1.2'/>", "not an XLIFF"),  # no namespace
    ],
)
def test_hostile_or_foreign_xliff_is_refused(data: str, expected: str) -> None:
    with pytest.raises(TrackFileError, match=expected):
        read_xliff(data, SRC, "ar", user="tr")


def test_stale_source_text_marks_cue_for_a_look() -> None:
    text = format_xliff(SRC, track_with(SRC, [["Un"], ["Deux"], ["Trois"]], "fr"))
    newer = source("I left the movement.", "They lied <b>to us</b> & more.", "Now I speak\nout.")
    result = read_xliff(text, newer, "fr", user="tr")
    assert result.track.cue("c1").needs_look and not result.track.cue("c2").needs_look
    assert [w.cue_id for w in result.warnings] == ["c1"]


SRT_OK = (
    "1\n00:00:03,000 --> 00:00:05,500\nUn\n\n"
    "2\n00:00:06,000 --> 00:00:08,500\nDeux\n\n"
    "3\n00:00:09,000 --> 00:00:11,500\nTrois\n"
)


def test_srt_import_and_its_line_numbered_errors() -> None:
    result = read_track_srt(SRT_OK, SRC, "fr", user="tr")
    assert [c.lines for c in result.track.cues] == [("Un",), ("Deux",), ("Trois",)]
    broken = (
        "1\n00:00:03,000 -> 00:00:05,500\nUn\n\n"  # line 2: broken timing line
        "2\n00:00:08,500 --> 00:00:06,000\nDeux\n\n"  # line 6: ends before it starts
        "x\n00:00:09,000 --> 00:00:11,500\nTrois\n\n"  # line 9: not a number
        "9\n00:00:09,000 --> 00:00:11,500\nNeuf\n\n"  # line 13: unknown number
        "3\n00:00:09,000 --> 00:00:11,600\nTrois\n"  # line 17: times changed
    )
    with pytest.raises(TrackFileError) as caught:
        read_track_srt(broken, SRC, "fr", user="tr", name="fr.srt")
    got = [str(p) for p in caught.value.problems]
    assert got[0].startswith("line 2: broken timing line")
    assert got[1].startswith("line 6: broken timing: ends at 6.000 s, not after 8.500 s")
    assert got[2] == "line 9: expected a cue number, found 'x'"
    assert got[3] == "line 13: unknown cue number 9 (the clip has 3)"
    assert got[4].startswith("line 17: cue c3: times 9.000-11.600 s differ")
    assert any("cue c1: cue missing from the file" in m for m in got)
    long = SRT_OK.replace("Deux", "deux " * 10)
    with pytest.raises(TrackFileError, match="line 7: cue c2: line 1 is 49 columns wide"):
        read_track_srt(long, SRC, "fr", user="tr")
    with pytest.raises(TrackFileError, match="line 1: not UTF-8"):
        read_track_srt(b"\xff\xfe1", SRC, "fr", user="tr")


def test_srt_markup_stays_text() -> None:
    track = track_with(SRC, [["<i>Un</i>"], ["{\\an8}Deux & 00:00:01,000 --> x"], ["Trois"]], "fr")
    text = format_track_srt(SRC, track)
    assert "<i>" not in text and "{\\an8}" not in text
    back = read_track_srt(text, SRC, "fr", user="tr").track
    assert back.cue("c1").lines == ("<i>Un</i>",) and back.cue("c2").lines == (
        "{\\an8}Deux & 00:00:01,000 --> x",
    )


def test_srt_template_of_source_text_is_not_taken_for_a_translation() -> None:
    result = read_track_srt(format_track_srt(SRC), SRC, "fr", user="tr")
    assert all(c.is_empty for c in result.track.cues) and result.changed == 0
    assert len(result.warnings) == 3
