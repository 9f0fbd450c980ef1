from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.translation.errors import TrackFileError
from pipeline.translation.memory import MemoryEntry
from pipeline.translation.tmx import format_tmx, read_tmx, write_tmx
from tests.pipeline.translation.support import cue_line

HEADER = (
    '<?xml version="1.0"?>\n<tmx version="1.4">\n<header creationtool="x" creationtoolversion="1" '
    'segtype="sentence" o-tmf="x" adminlang="en" srclang="{src}" datatype="plaintext"/>\n<body>\n'
)


def tmx(body: str, src: str = "en") -> str:
    return HEADER.format(src=src) + body + "\n</body>\n</tmx>\n"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(cue_line, cue_line, st.sampled_from(["ar", "fr", "he", "zh-Hans", "ur"])), max_size=5)
)
def test_tmx_round_trip_keeps_every_pair(pairs: list[tuple[str, str, str]]) -> None:
    entries = [
        MemoryEntry(
            "en", " ".join(a.split()), lang, " ".join(b.split()), "ana", "2026-12-03T05:00:00Z", "clip/1"
        )
        for a, b, lang in pairs
        if a.split() and b.split()
    ]
    assert read_tmx(format_tmx(entries)) == tuple(entries)


def test_write_tmx_file(tmp_path) -> None:
    path = write_tmx([MemoryEntry("en", "Yes & <no>", "fr", "Oui & <non>")], tmp_path / "m.tmx")
    assert "&lt;no&gt;" in path.read_text(encoding="utf-8")
    assert read_tmx(path.read_bytes())[0].source_text == "Yes & <no>"


def test_reads_other_tools_files_with_inline_codes_and_all_languages() -> None:
    body = (
        '<tu><tuv xml:lang="en"><seg>I <bpt i="1">&lt;b&gt;</bpt>left<ept i="1">&lt;/b&gt;</ept> '
        '<hi>them</hi></seg></tuv><tuv lang="DE"><seg>Ich ging</seg></tuv>'
        '<tuv xml:lang="fr"><seg>Je suis parti</seg></tuv></tu>'
    )
    entries = read_tmx(tmx(body))
    assert [(e.source_text, e.target_language, e.target_text) for e in entries] == [
        ("I left them", "DE", "Ich ging"),
        ("I left them", "fr", "Je suis parti"),
    ]
    all_pairs = read_tmx(tmx(body, src="*all*"))
    assert len(all_pairs) == 6


def test_invalid_units_are_listed_with_their_lines() -> None:
    body = (
        '<tu>\n<tuv xml:lang="en"><seg>One</seg></tuv>\n</tu>\n'
        '<tu>\n<tuv><seg>x</seg></tuv>\n<tuv xml:lang="fr"><seg>y</seg></tuv>\n</tu>\n'
        '<tu>\n<tuv xml:lang="de"><seg>a</seg></tuv>\n<tuv xml:lang="fr"><seg>b</seg></tuv>\n</tu>'
    )
    with pytest.raises(TrackFileError) as caught:
        read_tmx(tmx(body), source="team.tmx")
    lines = [(p.line, p.message) for p in caught.value.problems]
    assert (5, "<tu> needs at least two <tuv> languages") in lines
    assert (9, "<tuv> without xml:lang") in lines
    assert (12, "<tu> has no <tuv> in its source language 'en'") in lines
    assert str(caught.value).startswith("team.tmx: line 5: ")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            "<tmx><body>&lol2;</body></tmx>",
            "refused unsafe XML",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><tmx>&x;</tmx>',
            "unsafe",
        ),
        (
            '<?xml version="1.0"?>\n<tmx version="1.4">\n<header/>\n<body>\n<tu>\n</body></tmx>',
            "line 6: not well",
        ),
        ("", "file is empty"),
        ("<xliff/>", "not <tmx>"),
        ("<tmx><body/></tmx>", "needs <header> and <body>"),
    ],
)
def test_hostile_and_broken_files_are_refused(data: str, expected: str) -> None:
    with pytest.raises(TrackFileError, match=expected):
        read_tmx(data)


def test_huge_files_are_refused_before_parsing() -> None:
    data = tmx("<tu/>" * 1000)
    with pytest.raises(TrackFileError, match="over the 2,000 byte limit"):
        read_tmx(data, max_bytes=2000)


def test_deeply_nested_segments_do_not_crash() -> None:
    deep = "<hi>" * 5000 + "x" + "</hi>" * 5000
    body = f'<tu><tuv xml:lang="en"><seg>a {deep} b</seg></tuv><tuv xml:lang="fr"><seg>c</seg></tuv></tu>'
    assert read_tmx(tmx(body))[0].source_text == "a x b"
