"""The editor pages without a browser: error pages are HTML with a way back, a refused cut keeps
the typed values next to the field, and the favicon exists."""

from __future__ import annotations

import re

from .conftest import PASSWORD
from .test_editor_browser import LABELS, TEXTS


def test_error_pages_are_html(workspace, store, users):
    from fastapi.testclient import TestClient

    from review.app import create_app
    from tests.review.seed import add_candidate, add_interview

    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels=LABELS)
    cid = add_candidate(store, tid, sents, [0, 1], themes=["false_promises"])
    app = create_app(workspace, store=store, session_key=b"e" * 32)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"csrf_token": token, "username": "eddie", "password": PASSWORD})
        for url, status in (("/candidates/abc", 404), ("/candidates/999999", 404), ("/nowhere", 404)):
            r = client.get(url)
            assert r.status_code == status and r.headers["content-type"].startswith("text/html"), url
            assert 'href="/"' in r.text
        page = client.get(f"/candidates/{cid}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        # an empty In field: the page again, the message next to the field, the typed Out kept
        r = client.post(f"/candidates/{cid}/trim", data={"csrf_token": token, "version": "1", "start": "",
                                                         "end": "2.5"})
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert 'id="trim-in-error"' in r.text and 'value="2.5"' in r.text
        # out = 9999 is refused next to the Out field, not silently accepted
        r = client.post(f"/candidates/{cid}/trim", data={"csrf_token": token, "version": "1", "start": "0.2",
                                                         "end": "9999"})
        assert r.status_code == 422 and 'id="trim-out-error"' in r.text and 'value="9999"' in r.text
        assert store.get_candidate(cid).version == 1
        # a form missing a field goes back to the page (HTML), never raw JSON
        r = client.post(f"/candidates/{cid}/decide", data={"csrf_token": token, "action": "approve"})
        assert r.status_code == 303
        r = client.get("/favicon.ico")
        assert r.status_code == 200 and "svg" in r.headers["content-type"]
