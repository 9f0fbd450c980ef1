"""Safe XML reading with line numbers, and XML-clean text for writing.

Every XML file a translator or a team hands us is parsed by defusedxml with DTDs forbidden, so
entity expansion (billion laughs), external entities and DTD tricks are refused outright; files
over a size limit are refused before parsing. Elements keep the line they start on, so every
validation error can name its line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from pipeline.translation.errors import TrackFileError
from pipeline.translation.limits import Problem

XML_NS = "http://www.w3.org/XML/1998/namespace"
MAX_XML_BYTES = 20_000_000
# Characters XML 1.0 cannot hold at all; they are dropped on writing.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without characters XML 1.0 forbids (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


@dataclass(frozen=True, slots=True)
class ParsedXml:
    """A parsed document and the line each element starts on."""

    root: ET.Element
    lines: dict[int, int]  # id(element) -> line

    def line(self, element: ET.Element) -> int:
        return self.lines.get(id(element), 0)


class _LineBuilder(ET.TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.keep: list[ET.Element] = []  # keeps ids unique while the tree lives
        self.expat: object = None

    def start(self, tag, attrs):  # type: ignore[no-untyped-def, override]
        element = super().start(tag, attrs)
        self.lines[id(element)] = getattr(self.expat, "CurrentLineNumber", 0)
        self.keep.append(element)
        return element


def parse_xml(data: bytes | str, source: str, *, max_bytes: int = MAX_XML_BYTES) -> ParsedXml:
    """Parse untrusted XML; TrackFileError with a line number when it is hostile or malformed."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise TrackFileError(
            source, [Problem(f"file is {len(raw):,} bytes, over the {max_bytes:,} byte limit")]
        )
    if not raw.strip():
        raise TrackFileError(source, [Problem("file is empty")])
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(raw)
        root = parser.close()
    except DefusedXmlException as exc:
        line = getattr(parser.parser, "CurrentLineNumber", 0)
        raise TrackFileError(
            source, [Problem(f"refused unsafe XML ({type(exc).__name__})", line=line)]
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 0
        raise TrackFileError(source, [Problem(f"not well-formed XML: {exc}", line=line)]) from None
    return ParsedXml(root, builder.lines)


def local(tag: object) -> str:
    """Tag name without its namespace."""
    return str(tag).rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    text = str(tag)
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""
