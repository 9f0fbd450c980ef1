from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.translation.engines import (
    ApertiumEngine,
    ArgosEngine,
    Engine,
    LibreTranslateEngine,
    available_engines,
    install_argos_model,
    pick_engine,
)
from pipeline.translation.errors import EngineError
from pipeline.translation.track import confirm_cue, draft_track, mark_translated
from tests.pipeline.translation.support import source

# ---------------------------------------------------------------------------------------------
# LibreTranslate, against a small real HTTP server speaking its API


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: object, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, [{"code": "en", "targets": ["en", "es", "fr"]}, {"code": "es", "targets": ["en"]}])

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        q = body["q"]
        if q == ["slow"]:
            time.sleep(2)
        if q == ["bad"]:
            return self._send(400, {"error": "Invalid request: missing q parameter"})
        if q == ["html"]:
            return self._send(200, None, raw=b"<html>oops</html>")
        if q == ["short"]:
            return self._send(200, {"translatedText": []})
        self._send(200, {"translatedText": [t[::-1] for t in q]})


@pytest.fixture
def libre() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_libretranslate_drafts_over_http(libre: str) -> None:
    engine = LibreTranslateEngine(libre, api_key="k", timeout=5)
    assert isinstance(engine, Engine)
    assert engine.pairs() == (("en", "es"), ("en", "fr"), ("es", "en"))
    assert engine.translate(["I left  the group.", "Yes"], "en-GB", "es") == (".puorg eht tfel I", "seY")
    track = draft_track(source("Hello."), "es", engine=engine)
    assert track.cue("c1").origin == "machine" and track.cue("c1").engine == "libretranslate"
    assert pick_engine([engine], "en", "es") is engine and pick_engine([engine], "en", "ar") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bad", "answered 400: Invalid request: missing q parameter"),
        ("html", "did not answer JSON"),
        ("short", "answered 1 texts with something else"),
        ("slow", "cannot reach LibreTranslate"),
    ],
)
def test_libretranslate_errors_are_clear(libre: str, text: str, expected: str) -> None:
    engine = LibreTranslateEngine(libre, timeout=0.5)
    with pytest.raises(EngineError, match=expected):
        engine.translate([text], "en", "es")


def test_libretranslate_unreachable_and_bad_urls() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = LibreTranslateEngine(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(EngineError, match="cannot reach LibreTranslate"):
        engine.translate(["x"], "en", "es")
    assert pick_engine([engine], "en", "es") is None  # a server that is down has no pairs
    for url in ("file:///etc/passwd", "ftp://host/", "localhost:5000"):
        with pytest.raises(EngineError, match="must be http"):
            LibreTranslateEngine(url)


# ---------------------------------------------------------------------------------------------
# Argos: models installed from files the user brings


def argos_file(tmp_path: Path, name: str = "translate-en_es-1_9", meta: object | None = None) -> Path:
    path = tmp_path / f"{name}.argosmodel"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/metadata.json", json.dumps(meta or {"from_code": "en", "to_code": "es"}))
        archive.writestr(f"{name}/model/model.bin", b"\0" * 16)
    return path


def test_install_argos_model_into_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    target = install_argos_model(argos_file(tmp_path), workspace)
    assert target == workspace / "mt" / "argos" / "en_es" and (target / "model" / "model.bin").is_file()
    assert ArgosEngine(workspace).pairs() == (("en", "es"),)
    assert install_argos_model(argos_file(tmp_path, "translate-en_es-2_0"), workspace) == target  # replaces
    assert sorted(p.name for p in (workspace / "mt" / "argos").iterdir()) == ["en_es"]


def test_bad_argos_files_are_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "empty.argosmodel").write_bytes(b"")
    with pytest.raises(EngineError, match="empty"):
        install_argos_model(tmp_path / "empty.argosmodel", ws)
    (tmp_path / "text.argosmodel").write_text("not a zip")
    with pytest.raises(EngineError, match="zip archive"):
        install_argos_model(tmp_path / "text.argosmodel", ws)
    evil = tmp_path / "evil.argosmodel"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("m/metadata.json", "{}")
        archive.writestr("../../outside.txt", "x")
    with pytest.raises(EngineError, match="unsafe path"):
        install_argos_model(evil, ws)
    with pytest.raises(EngineError, match="unreadable metadata"):
        install_argos_model(argos_file(tmp_path, "m2", meta={"from": "en"}), ws)
    assert not (tmp_path / "outside.txt").exists()
    leftovers = list((ws / "mt" / "argos").iterdir()) if (ws / "mt" / "argos").exists() else []
    assert leftovers == []


@pytest.mark.skipif(ArgosEngine.importable(), reason="argostranslate is installed here")
def test_argos_without_its_package_says_how_to_get_it(tmp_path: Path) -> None:
    install_argos_model(argos_file(tmp_path), tmp_path / "ws")
    with pytest.raises(EngineError, match="pip install argostranslate"):
        ArgosEngine(tmp_path / "ws").translate(["Hello"], "en", "es")
    names = [e.name for e in available_engines(tmp_path / "ws")]
    assert "argos" not in names  # not offered without its package


# ---------------------------------------------------------------------------------------------
# Apertium: the real Debian packages


def test_apertium_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError, match="apertium is not installed"):
        ApertiumEngine()
    assert available_engines() == ()
    with pytest.raises(EngineError, match="apertium failed: .*No such file"):
        ApertiumEngine(str(tmp_path / "nope")).modes()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Debian apertium is not installed")
def test_apertium_drafts_english_to_spanish_marked_machine_made() -> None:
    engine = ApertiumEngine()
    if ("en", "es") not in engine.pairs():
        pytest.skip("apertium-eng-spa is not installed")
    assert any(isinstance(e, ApertiumEngine) for e in available_engines())
    src = source(
        "I left the group.", "They lied to us\nabout everything.", "Now I want to help young people."
    )
    track = draft_track(src, "es", engine=pick_engine(available_engines(), "en", "es"))
    assert [c.origin for c in track.cues] == ["machine"] * 3 and track.machine_made
    assert all(c.engine == "apertium" for c in track.cues)
    assert "grupo" in track.cue("c1").text.lower()
    assert "jóvenes" in track.cue("c3").text.lower() or "gente" in track.cue("c3").text.lower()
    assert "*" not in "".join(c.text for c in track.cues)  # -u: no unknown-word marks
    for cue in src.cues:
        assert track.machine_made
        track = confirm_cue(track, cue.id, "ana")
    assert not track.machine_made and mark_translated(src, track, "ana").status == "translated"
    with pytest.raises(EngineError, match="no en->ar pair"):
        engine.translate(["Hello"], "en", "ar")
