"""One benchmark's section of bench/RESULTS.md: printed, and written in place of its last run's.

Each script owns the section under its own `## ` heading and leaves the others' alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(section: str, text: str, results: Path = RESULTS) -> None:
    """Replace the body under the heading `section` with `text` (the section is appended when
    missing), atomically."""
    body = results.read_text(encoding="utf-8") if results.is_file() else "# Benchmark results\n"
    pattern = re.compile(re.escape(section) + r"\n.*?(?=\n## |\Z)", re.S)
    block = f"{section}\n\n{text.strip()}\n"
    body = pattern.sub(lambda _m: block, body) if pattern.search(body) else body.rstrip() + "\n\n" + block
    write_text_atomic(results, body)


def publish(section: str, text: str, *, write: bool) -> None:
    """Print the section's text and, when `write`, record it in RESULTS.md."""
    print(text)
    if write:
        write_section(section, text)
