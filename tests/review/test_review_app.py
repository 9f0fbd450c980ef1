"""The review web app through FastAPI's TestClient: login, CSRF, roles, escaping, media paths."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from review.app import create_app
from review.present import label_colour

from .conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(workspace, store, seeded):
    return create_app(workspace, store=store, session_key=b"t" * 32)


@pytest.fixture
def anon(app):
    with TestClient(app, follow_redirects=False) as client:
        yield client


def login(client: TestClient, name: str) -> str:
    page = client.get("/login")
    token = TOKEN.search(page.text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return TOKEN.search(client.get("/").text).group(1)


@pytest.fixture
def rita(app):
    with TestClient(app, follow_redirects=False) as client:
        client.csrf = login(client, "rita")
        yield client


def test_session_cookie_is_httponly_and_strict(app):
    with TestClient(app, follow_redirects=False) as client:
        client.get("/login")
        cookie = client.get("/login").headers.get("set-cookie", "") or ""
        page = client.get("/login")
        token = TOKEN.search(page.text).group(1)
        r = client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": token})
        cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    secure = create_app(app.state.workspace, store=None, session_key=b"t" * 32, secure_cookies=True)
    assert any(getattr(m, "kwargs", {}).get("https_only") for m in secure.user_middleware)


def test_wrong_password_is_refused(anon):
    token = TOKEN.search(anon.get("/login").text).group(1)
    r = anon.post("/login", data={"username": "rita", "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401 and "Wrong name or password" in r.text
    r = anon.post("/login", data={"username": "nobody", "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401


def test_every_page_and_media_route_refuses_an_anonymous_user(anon, seeded):
    for url in ("/", f"/candidates/{seeded.clean}", "/?status=proposed"):
        r = anon.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    media = f"/media/candidates/{seeded.clean}"
    for url in (f"{media}/proxy.mp4", f"{media}/subtitles.vtt"):
        assert anon.get(url).status_code == 401
    token = TOKEN.search(anon.get("/login").text).group(1)
    for url in (f"/candidates/{seeded.clean}/decide", f"/candidates/{seeded.clean}/trim",
                f"/candidates/{seeded.clean}/text"):
        data = {"csrf_token": token, "action": "approve", "version": 1, "start": 1, "end": 3}
        r = anon.post(url, data=data)
        assert r.status_code == 401


def plan_of(client, candidate_id: int) -> str:
    """The plan hash the candidate page's approve form carries (what the reviewer watches)."""
    return client.get(f"/candidates/{candidate_id}/preview.json").json()["plan"]


def test_a_post_without_its_csrf_token_gets_403(rita, seeded, store):
    data = {"action": "approve", "version": 1}
    assert rita.post(f"/candidates/{seeded.clean}/decide", data=data).status_code == 403
    forged = {**data, "csrf_token": "forged"}
    assert rita.post(f"/candidates/{seeded.clean}/decide", data=forged).status_code == 403
    assert rita.post(f"/candidates/{seeded.clean}/trim",
                     data={"version": 1, "start": 1, "end": 3}).status_code == 403
    assert rita.post("/logout").status_code == 403
    assert store.get_candidate(seeded.clean).status == "proposed"
    r = rita.post(f"/candidates/{seeded.clean}/decide", data={**data, "csrf_token": rita.csrf})
    assert r.status_code == 303 and "stale" in rita.get(r.headers["location"]).text  # no plan named
    assert store.get_candidate(seeded.clean).status == "proposed"
    r = rita.post(f"/candidates/{seeded.clean}/decide",
                  data={**data, "csrf_token": rita.csrf, "plan_hash": plan_of(rita, seeded.clean)})
    assert r.status_code == 303
    assert store.get_candidate(seeded.clean).status == "approved"


def test_login_form_needs_its_csrf_token(anon):
    r = anon.post("/login", data={"username": "rita", "password": PASSWORD})
    assert r.status_code == 403


def test_script_in_transcript_is_shown_as_text(rita, seeded):
    page = rita.get(f"/candidates/{seeded.xss}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    vtt = rita.get(f"/media/candidates/{seeded.xss}/subtitles.vtt")
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT") and "<script>" not in vtt.text


def test_candidate_page_shows_review_aids(rita, seeded):
    page = rita.get(f"/candidates/{seeded.risky}").text
    assert 'id="credibility-banner"' in page
    assert "I left when they killed civilians." in page  # English beside the Arabic original
    assert 'dir="rtl"' in page
    assert page.count('name="ack"') == 2  # one checkbox per risk
    assert '<svg class="timeline"' in page and 'class="clip"' in page
    assert label_colour("justifies_violence") in page
    assert 'id="no-proxy"' in page
    assert "close to the justifies violence exemplars" in page  # the reason on hover


def test_queue_filters_and_pages(rita, seeded):
    page = rita.get("/?risk=justifies_violence").text
    assert f'href="/candidates/{seeded.risky}"' in page and f'href="/candidates/{seeded.clean}"' not in page
    first = rita.get("/?per_page=1").text
    nxt = re.search(r'href="(/\?[^"]*after=[^"]+)" rel="next"', first)
    assert nxt is not None and 'rel="prev"' not in first
    second = rita.get(html.unescape(nxt.group(1))).text
    assert "1 of 3 shown" in second and 'rel="prev"' in second and 'rel="next"' in second
    assert rita.get("/?after=not-a-cursor").status_code == 400


def test_crafted_media_urls_cannot_reach_files_outside_the_workspace(rita, seeded, workspace, store,
                                                                    tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("TOP SECRET OUTSIDE")
    sha = store.get_candidate(seeded.clean).source_sha256
    # a symlinked proxy pointing out of the workspace is not served
    (workspace.proxies / f"{sha}.mp4").symlink_to(secret)
    assert rita.get(f"/media/candidates/{seeded.clean}/proxy.mp4").status_code == 404
    crafted = [
        "/media/candidates/..%2F..%2F..%2Fetc%2Fpasswd/proxy.mp4",
        "/media/candidates/1/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/candidates/%2Fetc%2Fpasswd/proxy.mp4",
        f"/media/candidates/{secret}/proxy.mp4",
        "/media/candidates/1/../../../../etc/passwd",
        "/static/..%2F..%2Fclips_metadata%2Fstore.py",
        "/static/../../clips_metadata/store.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        f"/static/{secret}",
        "/media/candidates/1/subtitles.vtt?lang=../../etc/passwd",
        "//etc/passwd",
    ]
    key = (workspace.secrets / "session.key")
    for url in crafted:
        r = rita.get(url)
        assert r.status_code in (404, 422, 400, 303), (url, r.status_code)
        assert "TOP SECRET" not in r.text and "root:" not in r.text and "sqlalchemy" not in r.text, url
    assert not key.exists() or key.read_bytes().hex() not in r.text


def test_proxy_is_served_with_range_requests(rita, seeded, workspace, store):
    sha = store.get_candidate(seeded.clean).source_sha256
    (workspace.proxies / f"{sha}.mp4").write_bytes(bytes(range(256)) * 40)
    r = rita.get(f"/media/candidates/{seeded.clean}/proxy.mp4", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and len(r.content) == 100 and r.content[0] == 100
    assert r.headers["content-range"] == "bytes 100-199/10240"
    assert 'id="player"' in rita.get(f"/candidates/{seeded.clean}").text


def test_editor_cannot_approve_and_trim_snaps_to_words(app, seeded, store):
    with TestClient(app, follow_redirects=False) as eddie:
        token = login(eddie, "eddie")
        r = eddie.post(f"/candidates/{seeded.clean}/decide",
                       data={"csrf_token": token, "action": "approve", "version": 1})
        assert r.status_code == 303 and "may not approve" in eddie.get(r.headers["location"]).text
        assert store.get_candidate(seeded.clean).status == "proposed"
        before = store.get_candidate(seeded.clean)
        trim = {"csrf_token": token, "version": 1, "start": f"{before.start + 0.37:.3f}",
                "end": f"{before.end - 0.41:.3f}"}
        r = eddie.post(f"/candidates/{seeded.clean}/trim", data=trim)
        # a mid-sentence cut is warned next to the form, with the typed values kept
        assert r.status_code == 422 and "mid-way" in r.text and trim["start"] in r.text
        r = eddie.post(f"/candidates/{seeded.clean}/trim", data={**trim, "confirm": "yes"})
        assert r.status_code == 303
        after = store.get_candidate(seeded.clean)
        ctx_words = [w for s in store.get_sentences(after.transcript_id) for w in s.words]
        assert after.version == 2 and after.status == "proposed"
        frame = 1 / 25  # the seeded media has no frame rate: the default grid
        assert abs(after.start * 25 - round(after.start * 25)) < 1e-6
        assert any(0 <= w.start - after.start < frame for w in ctx_words)
        assert any(0 <= after.end - w.end < frame for w in ctx_words)
        # stale form (version 1) is refused as a conflict
        r = eddie.post(f"/candidates/{seeded.clean}/trim",
                       data={"csrf_token": token, "version": 1, "start": "1.0", "end": "5.0",
                             "confirm": "yes"})
        assert r.status_code == 303 and "now version 2" in eddie.get(r.headers["location"]).text
        assert store.get_candidate(seeded.clean).version == 2
        page = eddie.get(f"/candidates/{seeded.clean}").text
        cue_id = re.search(r'id="cue-text-([^"]+)"', page).group(1)
        r = eddie.post(f"/candidates/{seeded.clean}/cues/{cue_id}",
                       data={"csrf_token": token, "version": 2, "op": "text", "text": "A <b>new</b> line."})
        assert r.status_code == 303
        assert "A <b>new</b> line." in store.get_candidate(seeded.clean).subtitles["en"]
        page = eddie.get(f"/candidates/{seeded.clean}").text
        assert "A &lt;b&gt;new&lt;/b&gt; line." in page and "eddie" in page
        # the player's subtitles are the version's cue track, edited cue included, at its time
        from clips_metadata.cue_tracks_repo import CueTracksRepo
        from review.present import format_vtt

        cand = store.get_candidate(seeded.clean)
        track = CueTracksRepo(store).tracks(cand.id, cand.version)["en"]
        vtt = eddie.get(f"/media/candidates/{seeded.clean}/subtitles.vtt").text
        assert vtt == format_vtt(track.as_cues())
        assert "A &lt;b&gt;new&lt;/b&gt; line." in vtt and "<b>" not in vtt
        assert all(cand.start - 1e-6 <= c.start < c.end <= cand.end + 1e-6 for c in track.as_cues())
    with TestClient(app, follow_redirects=False) as rita:
        token = login(rita, "rita")
        r = rita.post(f"/candidates/{seeded.clean}/decide",
                      data={"csrf_token": token, "action": "approve", "version": 3,
                            "plan_hash": plan_of(rita, seeded.clean)})
        assert r.status_code == 303 and store.get_candidate(seeded.clean).status == "approved"


def test_risky_approval_via_web_needs_acks_and_two_reviewers(app, seeded, store):
    risks = list(store.get_candidate(seeded.risky).risks)
    with TestClient(app, follow_redirects=False) as c:
        token = login(c, "rita")
        r = c.post(f"/candidates/{seeded.risky}/decide",
                   data={"csrf_token": token, "action": "approve", "version": 1, "ack": risks[:1],
                         "plan_hash": plan_of(c, seeded.risky)})
        assert r.status_code == 303 and "acknowledge every risk" in c.get(r.headers["location"]).text
        assert store.get_candidate(seeded.risky).status == "proposed"
        r = c.post(f"/candidates/{seeded.risky}/decide",
                   data={"csrf_token": token, "action": "approve", "version": 1, "ack": risks,
                         "plan_hash": plan_of(c, seeded.risky)})
        assert r.status_code == 303 and store.get_candidate(seeded.risky).status == "in_review"
        assert "1 of 2 approvals" in c.get(f"/candidates/{seeded.risky}").text


def test_repeated_wrong_passwords_are_throttled(anon):
    token = TOKEN.search(anon.get("/login").text).group(1)
    for _ in range(5):
        r = anon.post("/login", data={"username": "rolf", "password": "wrong-password", "csrf_token": token})
        assert r.status_code == 401
    r = anon.post("/login", data={"username": "rolf", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "Too many failed attempts" in r.text


def test_head_on_media_needs_login_too(anon, seeded):
    assert anon.head(f"/media/candidates/{seeded.clean}/proxy.mp4").status_code == 401


def test_login_never_redirects_off_site(anon):
    token = TOKEN.search(anon.get("/login").text).group(1)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = anon.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token,
                                      "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/"
        token = TOKEN.search(anon.get("/").text).group(1)
        anon.post("/logout", data={"csrf_token": token})
        token = TOKEN.search(anon.get("/login").text).group(1)


def test_static_assets_are_fingerprinted_and_cached(rita, seeded):
    page = rita.get("/").text
    css = re.search(r'href="(/static/review\.css\?v=[0-9a-f]{12})"', page)
    assert css is not None
    fresh = rita.get(css.group(1))
    assert fresh.status_code == 200 and "immutable" in fresh.headers["cache-control"]
    bare = rita.get("/static/review.css")
    assert bare.headers["cache-control"] == "no-cache" and bare.headers.get("etag")
    again = rita.get("/static/review.css", headers={"if-none-match": bare.headers["etag"]})
    assert again.status_code == 304
    page = rita.get(f"/candidates/{seeded.risky}").text
    js = re.search(r'src="(/static/review\.js\?v=[0-9a-f]{12})"', page)
    assert js is not None and "immutable" in rita.get(js.group(1)).headers["cache-control"]


def test_an_overloaded_database_gives_a_busy_page_even_before_the_session_is_read(app, seeded, monkeypatch):
    import sqlalchemy.exc

    from clips_metadata.accounts_repo import AccountsRepo

    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        login(client, "rita")

        def busy(*_a, **_k):
            raise sqlalchemy.exc.TimeoutError("QueuePool limit reached")

        monkeypatch.setattr(AccountsRepo, "load_session", busy)
        r = client.get("/")
    assert r.status_code == 503 and "text/html" in r.headers["content-type"]
    assert "busy and saved nothing" in r.text and "Traceback" not in r.text


def test_only_the_server_process_tunes_the_garbage_collector(workspace, store, users):
    import gc

    before = gc.get_threshold()
    with TestClient(create_app(workspace, store=store, session_key=b"t" * 32)):
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0  # a test's app: untouched
    try:
        with TestClient(create_app(workspace, store=store, session_key=b"t" * 32, server_process=True)) as c:
            assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] > before[0]
            assert c.get("/login").status_code == 200
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
