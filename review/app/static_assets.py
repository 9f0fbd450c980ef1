"""Static files with fingerprinted URLs: `static_url("review.css")` is
`/static/review.css?v=<sha256 prefix>`, served with a year-long immutable Cache-Control, so a
browser fetches each version of an asset once; a URL without the current fingerprint is served
with `no-cache` and revalidated by its ETag (304 when unchanged)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from pipeline.atomic import file_sha256

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=64)
def _fingerprint(path: str, mtime_ns: int) -> str:  # noqa: ARG001 - the key: a changed file
    return file_sha256(path)[:12]


class FingerprintedStatic(StaticFiles):
    """`StaticFiles` that knows each file's fingerprint and sets Cache-Control by it."""

    def __init__(self, directory: Path, prefix: str = "/static") -> None:
        super().__init__(directory=str(directory))
        self.root = Path(directory)
        self.prefix = prefix

    def fingerprint(self, name: str) -> str:
        path = self.root / name
        return _fingerprint(str(path), path.stat().st_mtime_ns)

    def url(self, name: str) -> str:
        """The URL of static file `name` (relative to the directory), with its fingerprint."""
        return f"{self.prefix}/{name}?v={self.fingerprint(name)}"

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Any:
        response = super().file_response(full_path, stat_result, scope, status_code)
        sent = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = _fingerprint(str(full_path), stat_result.st_mtime_ns)
        response.headers["cache-control"] = IMMUTABLE if sent == current else REVALIDATE
        return response
