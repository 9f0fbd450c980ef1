"""One real browser (Debian's chromium through Playwright) against a real uvicorn server:
log in, open a candidate, play the proxy, trim, approve, screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_media_file

from .conftest import PASSWORD
from .live_server import serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture
def server(workspace, store, users):
    from review.app import create_app

    with serving(create_app(workspace, store=store, session_key=b"b" * 32)) as base:
        yield base


@pytest.mark.slow
@pytest.mark.browser
def test_review_page_in_a_real_browser(server, workspace, store, artifacts_dir):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    from pipeline.atomic import file_sha256
    from review.proxy_files import make_proxy
    from tests.review.seed import add_candidate, add_interview

    source = shared_media_file("vid_en_talkinghead_1.mp4")
    sha = file_sha256(source)
    make_proxy(workspace, source, sha, height=240)
    texts = ["They told us lies.", "I saw what they did to people.", "I want others to know.",
             "Some fighters were right.", "Do not go."]
    labels = {0: ("false_promises",), 1: ("witnessed_brutality",), 2: ("warning_to_others",),
              3: ("justifies_violence",), 4: ("warning_to_others",)}
    _, tid, sents = add_interview(store, pseudonym="Omar", texts=texts, labels=labels, sha256=sha,
                                  path=str(source), duration=6.1, seconds_per_word=0.22)
    cid = add_candidate(store, tid, sents, [1, 2], themes=["witnessed_brutality", "warning_to_others"])
    cand = store.get_candidate(cid)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            def login(page, name: str) -> None:
                page.goto(f"{server}/login")
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{server}/")

            # bypass_csp only lets Playwright evaluate its wait predicates; the page itself runs
            # under the CSP (script-src self)
            # an editor trims the clip
            editor = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
            page = editor.new_page()
            login(page, "eddie")
            page.click(f"a[href='/candidates/{cid}']")
            page.wait_for_selector("#player")
            page.click("#play")
            page.wait_for_function(f"document.getElementById('player').currentTime > {cand.start + 0.3}",
                                   timeout=15000)
            assert page.evaluate("document.getElementById('player').readyState") >= 2
            page.fill("#trim-in", f"{cand.start + 0.3:.2f}")
            page.click("#trim-save")
            page.wait_for_selector("#trim-warning")  # mid-sentence: confirm next to the form
            page.check("#trim-confirm")
            page.click("#trim-save")
            page.wait_for_selector("text=snapped to word boundaries")
            trimmed = store.get_candidate(cid)
            assert trimmed.version == 2 and trimmed.start > cand.start
            assert any(0 <= w.start - trimmed.start < 1 / 25 for s in sents for w in s.words)
            editor.close()

            # a reviewer watches it and approves
            reviewer = browser.new_context(viewport={"width": 1280, "height": 1100}, bypass_csp=True)
            page = reviewer.new_page()
            login(page, "rita")
            page.goto(f"{server}/candidates/{cid}")
            page.click("#play")
            page.wait_for_function(
                f"document.getElementById('player').currentTime > {trimmed.start + 0.2}", timeout=15000)
            page.fill("#approve-form input[name=note]", "clear and safe")
            page.click("#approve")
            page.wait_for_selector("#status:has-text('approved')")
            assert store.get_candidate(cid).status == "approved"
            assert page.locator("#timeline rect").count() >= 5
            page.screenshot(path=str(artifacts_dir / "review_page.png"), full_page=True)
            reviewer.close()
        finally:
            browser.close()
