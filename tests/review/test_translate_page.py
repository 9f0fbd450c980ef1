"""The translation view: side-by-side cues with RTL entry, saving with live checks (JSON and plain
forms), memory suggestions, status controls with errors next to them; and a real browser run of a
translator doing one track end to end with the keyboard."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.review.seed import add_candidate, add_interview

from .conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TEXTS = ("They told us lies.", "I saw what they did to people.")
ARABIC = ("كذبوا علينا", "رأيت ما فعلوه بالناس")


def _translators(store) -> None:
    from clips_metadata.review_store import ReviewStore
    from review.passwords import hash_password
    from review.translating import reads

    rs = ReviewStore(store)
    h = hash_password(PASSWORD)
    rs.add_user("tina", "translator", h)
    rs.add_user("omar", "translator", h)
    reads(store, "tina", ["ar"])
    reads(store, "omar", ["ar"])


def _login(client: TestClient, name: str) -> str:
    token = TOKEN.search(client.get("/login").text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return TOKEN.search(client.get("/").text).group(1)


def test_translate_page_saves_checks_and_reports_errors_next_to_controls(workspace, store):
    from review.app import create_app
    from review.translating import get_track

    _translators(store)
    _, tid, sents = add_interview(store, pseudonym="Omar", texts=list(TEXTS), labels={0: ("false_promises",)})
    cid = add_candidate(store, tid, sents, [0, 1], themes=["false_promises"])
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as client:
        token = _login(client, "tina")
        assert f'href="/candidates/{cid}/translate"' in client.get(f"/candidates/{cid}").text
        page = client.get(f"/candidates/{cid}/translate?lang=ar").text
        assert 'dir="rtl"' in page and 'lang="ar"' in page and "English pivot" in page
        ids = re.findall(r'<li class="tr-cue" id="cue-([^"]+)"', page)
        assert len(ids) == 2
        # Marking an unstarted track translated: the refusal sits next to the status controls.
        status_url = f"/candidates/{cid}/translate/ar/status"
        r = client.post(status_url, data={"csrf_token": token, "action": "translated"})
        assert r.status_code == 303
        page = client.get(f"/candidates/{cid}/translate?lang=ar").text
        assert re.search(r'id="status-error"[^>]*>[^<]*no ar track', page)
        # Save with the page's script (JSON): live server check comes back.
        for cue_id, text in zip(ids, ARABIC, strict=True):
            r = client.post(f"/candidates/{cid}/translate/ar/cues/{cue_id}",
                            data={"text": text, "action": "save"},
                            headers={"accept": "application/json", "x-csrf-token": token})
            assert r.status_code == 200 and r.json()["ok"], r.text
        r = client.post(f"/candidates/{cid}/translate/ar/cues/{ids[0]}",
                        data={"text": "كلمة " * 40, "action": "save"},
                        headers={"accept": "application/json", "x-csrf-token": token})
        assert any("columns wide" in p or "lines" in p for p in r.json()["problems"])
        # A plain form post (no script) works too, and needs the CSRF token.
        assert client.post(f"/candidates/{cid}/translate/ar/cues/{ids[0]}",
                           data={"text": ARABIC[0]}).status_code == 403
        r = client.post(f"/candidates/{cid}/translate/ar/cues/{ids[0]}",
                        data={"text": ARABIC[0], "csrf_token": token})
        assert r.status_code == 303
        client.post(status_url, data={"csrf_token": token, "action": "translated"})
        client.post(status_url, data={"csrf_token": token, "action": "check"})
        page = client.get(f"/candidates/{cid}/translate?lang=ar").text
        assert re.search(r'id="status-error"[^>]*>[^<]*tina translated this track', page)
    assert get_track(store, cid, "ar").status == "translated"
    with TestClient(app, follow_redirects=False) as client:
        token = _login(client, "omar")
        client.post(f"/candidates/{cid}/translate/ar/status", data={"csrf_token": token, "action": "check"})
    assert get_track(store, cid, "ar").status == "checked"
    # The checked pairs now come up as memory suggestions in another clip.
    cid2 = add_candidate(store, tid, sents, [0], themes=["false_promises"])
    with TestClient(app, follow_redirects=False) as client:
        _login(client, "tina")
        page = client.get(f"/candidates/{cid2}/translate?lang=ar").text
        assert "100%" in page and ARABIC[0] in page


@pytest.mark.slow
@pytest.mark.browser
def test_translator_does_one_track_with_the_keyboard(workspace, store, artifacts_dir):
    from tests.review.test_review_browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")

    from playwright.sync_api import sync_playwright

    from pipeline.atomic import file_sha256
    from review.app import create_app
    from review.proxy_files import make_proxy
    from review.translating import get_track
    from tests.conftest import shared_media_file
    from tests.review.live_server import serving

    _translators(store)
    source = shared_media_file("vid_en_talkinghead_1.mp4")
    sha = file_sha256(source)
    make_proxy(workspace, source, sha, height=240)
    _, tid, sents = add_interview(store, pseudonym="Omar", texts=list(TEXTS), labels={0: ("false_promises",)},
                                  sha256=sha, path=str(source), duration=6.1, seconds_per_word=0.22)
    cid = add_candidate(store, tid, sents, [0, 1], themes=["false_promises"])

    app = create_app(workspace, store=store, session_key=b"k" * 32)
    with serving(app) as base:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            try:
                def login(ctx, name: str):
                    page = ctx.new_page()
                    page.goto(f"{base}/login")
                    page.fill("input[name=username]", name)
                    page.fill("input[name=password]", PASSWORD)
                    page.keyboard.press("Enter")
                    page.wait_for_url(f"{base}/")
                    return page

                # A phone-sized screen: the translator works at 375 px.
                ctx = browser.new_context(viewport={"width": 375, "height": 800}, bypass_csp=True)
                page = login(ctx, "tina")
                page.goto(f"{base}/candidates/{cid}")
                page.focus("#translate-link a")
                page.keyboard.press("Enter")
                page.wait_for_url(f"{base}/candidates/{cid}/translate")
                page.focus("#tr-lang")
                page.keyboard.type("ar")
                page.keyboard.press("Enter")
                page.wait_for_url(re.compile(r".*lang=ar.*"))
                page.wait_for_selector("textarea[lang=ar][dir=rtl]")
                # The first empty cue has the focus; type, Ctrl+Enter saves and moves on.
                first = page.locator(".tr-cue").first
                page.wait_for_function("document.activeElement?.tagName === 'TEXTAREA'")
                start = float(first.get_attribute("data-start"))
                end = float(first.get_attribute("data-end"))
                page.wait_for_function(
                    f"(() => {{ const v = document.getElementById('tr-player');"
                    f" return v.currentTime >= {start} && v.currentTime <= {end + 0.3}; }})()", timeout=15000)
                for text in ARABIC:
                    page.keyboard.type(text)
                    page.keyboard.press("Control+Enter")
                    page.wait_for_function(
                        "document.querySelectorAll('.tr-cue.saved').length >= "
                        f"{ARABIC.index(text) + 1}")
                # Alt+Up goes back a cue: the focus lands on the first cue's text again.
                page.keyboard.press("Alt+ArrowUp")
                assert page.evaluate("document.activeElement.id") == f"text-{first.get_attribute('data-id')}"
                assert page.evaluate("getComputedStyle(document.activeElement).direction") == "rtl"
                assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1  # no sideways scroll
                page.focus("#status-translated")
                page.keyboard.press("Enter")
                page.wait_for_selector("#track-status:has-text('translated')")
                page.screenshot(path=str(artifacts_dir / "translate_page_375.png"), full_page=True)
                _assert_axe_clean(page)
                ctx.close()

                ctx = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
                page = login(ctx, "omar")
                page.goto(f"{base}/candidates/{cid}/translate?lang=ar")
                page.focus("#status-check")
                page.keyboard.press("Enter")
                page.wait_for_selector("#track-status:has-text('checked')")
                _assert_axe_clean(page)
                ctx.close()
            finally:
                browser.close()
    track = get_track(store, cid, "ar")
    assert track.status == "checked" and [c.text for c in track.cues] == list(ARABIC)
    assert track.translators == ("tina",) and track.checker == "omar"


def _assert_axe_clean(page) -> None:
    """axe-core (bundled, no network) finds no contrast or naming problem on the page."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.review.test_editor_browser import AXE_RULES

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    bad = [v for v in results.response["violations"] if v["id"] in AXE_RULES]
    assert bad == [], [(v["id"], [n["target"] for n in v["nodes"]][:5]) for v in bad]
