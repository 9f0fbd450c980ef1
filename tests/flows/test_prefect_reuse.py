"""A one-shot run reuses the Prefect server `counterclips schedule` keeps for the workspace (issue 19)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from flows import local_prefect


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_prepare_uses_a_running_local_server_and_ignores_a_dead_one(workspace, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(workspace.root / "elsewhere"))  # prepare sets env: undo after
    (workspace.root / ".prefect").mkdir(exist_ok=True)
    server = HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api"
    try:
        (workspace.root / ".prefect" / "server.url").write_text(url + "\n", encoding="utf-8")
        assert local_prefect.running_server(workspace) == url
        local_prefect.prepare(workspace)
        import os

        assert os.environ["PREFECT_API_URL"] == url
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert local_prefect.running_server(workspace) is None  # nothing answers: start a temporary one
    (workspace.root / ".prefect" / "server.url").write_text("http://evil.example/api\n", encoding="utf-8")
    assert local_prefect.running_server(workspace) is None
