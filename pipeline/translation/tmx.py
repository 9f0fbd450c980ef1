"""TMX 1.4b import and export of translation memory.

Export writes one `<tu>` per entry with the source `<tuv>` first. Import reads every `<tu>`:
pairs of the header's `srclang` (or the tu's own) with each other language; `srclang="*all*"`
pairs every language with every other. Inline codes (`bpt`, `ept`, `ph`, `it`, `ut`) are
native formatting of the originating tool and are dropped; `hi` and `sub` text is kept.
An invalid file is refused as a whole with every problem and its line (nothing half-imported).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.translation.errors import TrackFileError
from pipeline.translation.limits import Problem
from pipeline.translation.memory import MemoryEntry
from pipeline.translation.xmlsafe import MAX_XML_BYTES, XML_NS, ParsedXml, local, parse_xml, xml_text

_INLINE_DROP = frozenset({"bpt", "ept", "ph", "it", "ut"})
_LANG = f"{{{XML_NS}}}lang"


def format_tmx(entries: Iterable[MemoryEntry], *, creation_tool: str = "counterclips") -> str:
    """TMX 1.4b text for `entries` (header srclang is the first entry's source language)."""
    entries = list(entries)
    srclang = entries[0].source_language if entries else "*all*"
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(
        root, "header", creationtool=creation_tool, creationtoolversion="1", segtype="sentence",
        attrib={"o-tmf": "counterclips", "adminlang": "en", "srclang": srclang, "datatype": "plaintext"},
    )  # fmt: skip
    body = ET.SubElement(root, "body")
    for entry in entries:
        attrib = {"srclang": entry.source_language}
        if entry.created_by:
            attrib["creationid"] = xml_text(entry.created_by)
        if entry.created_at:
            attrib["creationdate"] = _tmx_date(entry.created_at)
        tu = ET.SubElement(body, "tu", attrib)
        if entry.origin:
            ET.SubElement(tu, "prop", type="x-origin").text = xml_text(entry.origin)
        for lang, text in (
            (entry.source_language, entry.source_text),
            (entry.target_language, entry.target_text),
        ):
            tuv = ET.SubElement(tu, "tuv", {_LANG: lang})
            ET.SubElement(tuv, "seg").text = xml_text(text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _tmx_date(iso: str) -> str:
    # TMX wants YYYYMMDDThhmmssZ.
    digits = "".join(ch for ch in iso if ch.isdigit())
    return f"{digits[:8]}T{digits[8:14].ljust(6, '0')}Z" if len(digits) >= 8 else ""


def _iso_date(tmx: str) -> str:
    digits = "".join(ch for ch in tmx if ch.isdigit())
    if len(digits) < 14:
        return ""
    d = digits
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"


def write_tmx(entries: Iterable[MemoryEntry], path: str | os.PathLike[str]) -> Path:
    """Write `entries` as a TMX 1.4b file, atomically."""
    return write_text_atomic(path, format_tmx(entries))


def _seg_text(seg: ET.Element) -> str:
    # Iterative (a hostile file may nest thousands of <hi> elements): text of the segment and
    # of kept elements, never of dropped native codes, plus every element's tail.
    parts: list[str] = []
    stack: list[tuple[ET.Element, bool]] = [(seg, True)]
    while stack:
        element, opening = stack.pop()
        if not opening:
            parts.append(element.tail or "")
            continue
        if element is not seg:
            stack.append((element, False))
        if element is seg or local(element.tag) not in _INLINE_DROP:
            parts.append(element.text or "")
            stack.extend((child, True) for child in reversed(element))
    return "".join(parts)


def read_tmx(
    data: bytes | str, *, source: str = "TMX", origin: str = "", max_bytes: int = MAX_XML_BYTES
) -> tuple[MemoryEntry, ...]:
    """Memory entries of a TMX file's content; TrackFileError listing each problem with its line."""
    doc = parse_xml(data, source, max_bytes=max_bytes)
    root = doc.root
    problems: list[Problem] = []
    if local(root.tag) != "tmx":
        raise TrackFileError(
            source, [Problem(f"root element is <{local(root.tag)}>, not <tmx>", line=doc.line(root))]
        )
    header = next((e for e in root if local(e.tag) == "header"), None)
    body = next((e for e in root if local(e.tag) == "body"), None)
    if header is None or body is None:
        raise TrackFileError(source, [Problem("a TMX file needs <header> and <body>", line=doc.line(root))])
    default_src = header.get("srclang", "")
    entries: list[MemoryEntry] = []
    for tu in body:
        if local(tu.tag) != "tu":
            problems.append(Problem(f"unexpected <{local(tu.tag)}> in <body>", line=doc.line(tu)))
            continue
        entries.extend(_read_tu(doc, tu, default_src, origin, problems))
    if problems:
        raise TrackFileError(source, sorted(problems, key=lambda p: p.line))
    return tuple(entries)


def _read_tu(
    doc: ParsedXml, tu: ET.Element, default_src: str, origin: str, problems: list[Problem]
) -> list[MemoryEntry]:
    line = doc.line(tu)
    variants: list[tuple[str, str]] = []
    for tuv in (e for e in tu if local(e.tag) == "tuv"):
        lang = tuv.get(_LANG) or tuv.get("lang") or ""
        seg = next((e for e in tuv if local(e.tag) == "seg"), None)
        if not lang:
            problems.append(Problem("<tuv> without xml:lang", line=doc.line(tuv)))
        elif seg is None:
            problems.append(Problem("<tuv> without <seg>", line=doc.line(tuv)))
        else:
            variants.append((lang, " ".join(_seg_text(seg).split())))
    if len(variants) < 2:
        problems.append(Problem("<tu> needs at least two <tuv> languages", line=line))
        return []
    src = tu.get("srclang") or default_src
    created_by = tu.get("creationid") or tu.get("changeid") or ""
    created_at = _iso_date(tu.get("creationdate") or "")
    prop = next((e.text or "" for e in tu if local(e.tag) == "prop" and e.get("type") == "x-origin"), "")
    where = prop or origin
    if src == "*all*":
        pairs = [(a, b) for a in variants for b in variants if a[0] != b[0]]
    else:
        sources = [v for v in variants if v[0].lower() == src.lower()]
        if not sources:
            problems.append(Problem(f"<tu> has no <tuv> in its source language {src!r}", line=line))
            return []
        pairs = [(sources[0], v) for v in variants if v[0].lower() != src.lower()]
    return [
        MemoryEntry(a[0], a[1], b[0], b[1], created_by, created_at, where) for a, b in pairs if a[1] and b[1]
    ]
