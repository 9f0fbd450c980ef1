"""The editor's workstation in a real browser (Debian's chromium), keyboard only: log in, open
the first "waiting for me" item, seek by a word, set in/out with I/O, edit one cue, approve with
acknowledgements (two reviewers), move on with "approve and next", export from the page and check
the SRT. Also: no sideways scroll at 375 px, and axe-core finds no contrast or name problems."""

from __future__ import annotations

import re

import pytest

from tests.conftest import shared_media_file

from .conftest import PASSWORD
from .live_server import serving
from .test_review_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TEXTS = ["They told us lies.", "I saw what they did to people.", "I want others to know.",
         "Some fighters were right.", "Do not go."]
LABELS = {0: ("false_promises",), 1: ("witnessed_brutality",), 2: ("warning_to_others", "justifies_violence"),
          3: ("justifies_violence",), 4: ("warning_to_others",)}
AXE_RULES = {"color-contrast", "button-name", "link-name", "label", "image-alt", "aria-input-field-name",
             "input-button-name", "select-name", "video-caption", "frame-title", "svg-img-alt",
             "aria-command-name", "aria-toggle-field-name", "document-title", "scrollable-region-focusable"}


@pytest.fixture
def editor_server(workspace, store, users):
    from flows.services.exporting import export_candidate
    from review.app import create_app

    app = create_app(workspace, store=store, session_key=b"e" * 32, export_candidate=export_candidate)
    with serving(app) as base:
        yield base


def _seed(workspace, store):
    from pipeline.atomic import file_sha256
    from review.proxy_files import make_proxy
    from tests.review.seed import add_candidate, add_interview

    source = shared_media_file("vid_en_talkinghead_1.mp4")  # 30 fps
    sha = file_sha256(source)
    make_proxy(workspace, source, sha, height=240)
    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels=LABELS, sha256=sha,
                                  path=str(source), duration=6.1, seconds_per_word=0.22, fps=30.0)
    first = add_candidate(store, tid, sents, [0, 1, 2, 3], themes=["witnessed_brutality"],
                          risks=["justifies_violence"], rank=0.9)
    second = add_candidate(store, tid, sents, [4], themes=["warning_to_others"], rank=0.5)
    return first, second, sents


def _login(page, server: str, name: str) -> None:
    page.goto(f"{server}/login")
    page.locator("input[name=username]").focus()  # it has autofocus; do not race it
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/")


def _press_on(page, selector: str, key: str = "Enter") -> None:
    """Move keyboard focus to a control (as Tab would) and press a key on it."""
    page.locator(selector).first.focus()
    page.keyboard.press(key)


def _srt_cues(text: str) -> list[tuple[float, float, str]]:
    def secs(t: str) -> float:
        h, m, rest = t.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        a, b = (x.strip() for x in lines[1].split("-->"))
        out.append((secs(a), secs(b), " ".join(lines[2:])))
    return out


def test_whole_job_with_the_keyboard_only(editor_server, workspace, store, artifacts_dir):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    from clips_metadata.review_store import ReviewStore

    server = editor_server
    first, second, sents = _seed(workspace, store)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            # ---- the editor: open the first item waiting, seek by a word, cut with I/O, edit a cue
            ctx = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
            page = ctx.new_page()
            _login(page, server, "eddie")
            _press_on(page, "nav.views a:has-text('Waiting for me')")
            page.wait_for_url(re.compile(r".*view=waiting"))
            _press_on(page, "#queue a.row-link")
            page.wait_for_url(f"{server}/candidates/{first}")
            page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)
            # the player is on screen at 1280x720 without scrolling
            box = page.locator("#player").bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= 720
            w_in = sents[1].words[0]
            _press_on(page, f"#s1 .w[data-s='{w_in.start}']")
            page.wait_for_function(
                f"Math.abs(document.getElementById('player').currentTime - {w_in.start}) < 0.05")
            page.keyboard.press("i")
            # seek to the last word of sentence 2, one frame on (inside the word), then O: the
            # out point snaps to the end of that word
            w_out = sents[2].words[-1]
            _press_on(page, f"#s2 .w[data-s='{w_out.start}']")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                f"document.getElementById('player').currentTime > {w_out.start + 0.01}")
            page.keyboard.press("o")
            # Space plays and never scrolls; K pauses
            y0 = page.evaluate("window.scrollY")
            page.locator("#s3 .w").first.focus()
            page.keyboard.press(" ")
            page.keyboard.press("k")
            assert page.evaluate("window.scrollY") == y0
            with page.expect_navigation():
                _press_on(page, "#trim-save")
            refused = page.locator(".field-error, .field-warning, .flash.error")
            assert refused.count() == 0, refused.all_inner_texts()
            page.wait_for_selector("text=trimmed to")
            cut = store.get_candidate(first)
            assert cut.version == 2
            assert abs(cut.start - w_in.start) < 1 / 30 + 1e-6 and abs(cut.end - sents[2].end) < 1 / 30 + 1e-6
            # edit one cue in place: Enter saves
            cue_input = page.locator("input.cue-text").first
            cue_id = cue_input.get_attribute("id").removeprefix("cue-text-")
            cue_input.focus()
            page.keyboard.press("Control+A")
            page.keyboard.type("I saw what they did to the people.")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=saved (text)")
            edited = store.get_candidate(first)
            assert edited.version == 3
            from clips_metadata.cue_tracks_repo import CueTracksRepo

            track = CueTracksRepo(store).tracks(first, 3)["en"]
            edited_cue = track.cue(cue_id)
            assert edited_cue.text.replace("\n", " ") == "I saw what they did to the people."
            page.screenshot(path=str(artifacts_dir / "editor_workstation.png"), full_page=False)
            ctx.close()

            # ---- two reviewers approve with acknowledgements; the second moves on to the next
            for name, how in (("rita", "#approve"), ("rolf", "#approve-next")):
                ctx = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
                page = ctx.new_page()
                _login(page, server, name)
                _press_on(page, "nav.views a:has-text('Waiting for me')")
                page.wait_for_url(re.compile(r".*view=waiting"))
                _press_on(page, f"#row-{first}")
                page.wait_for_url(f"{server}/candidates/{first}")
                acks = page.locator("#approve-form input[name=ack]")
                assert acks.count() == 1
                label = page.locator("#approve-form label.ack").first.inner_text()
                assert "justifies violence" in label and "I want others to know." in label and "0:0" in label
                for k in range(acks.count()):
                    acks.nth(k).focus()
                    page.keyboard.press(" ")
                _press_on(page, how)
                if name == "rita":
                    page.wait_for_selector("#approved-by-me")
                    assert page.locator("#approve").count() == 0  # the Approve button is gone
                    assert "1 of 2" in page.locator("#approval-progress").inner_text()
                else:
                    page.wait_for_url(f"{server}/candidates/{second}")
                ctx.close()
            assert store.get_candidate(first).status == "approved"

            # ---- export from the page: a background job, then the SRT
            ctx = browser.new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True)
            page = ctx.new_page()
            _login(page, server, "rita")
            page.goto(f"{server}/candidates/{first}")
            _press_on(page, "#export-start")
            page.wait_for_selector(".downloads a", timeout=180_000)
            srt_link = page.locator(".downloads a", has_text=".srt").first
            body = page.request.get(server + srt_link.get_attribute("href")).text()
            ctx.close()
        finally:
            browser.close()

    record = ReviewStore(store).exports(first)[-1]
    assert any(p.endswith(".srt") for p in record.paths)
    cues = _srt_cues(body)
    final = store.get_candidate(first)
    length = final.end - final.start
    assert cues
    for a, b, _ in cues:
        assert 0 <= a < b <= length + 1 / 30 + 1e-3  # inside [in, out] on the clip's clock
        for x in (a, b):
            assert abs(x - round(x * 30) / 30) <= 0.0005 + 1e-9  # on the 30 fps grid
    assert all(x[1] <= y[0] for x, y in zip(cues, cues[1:], strict=False))  # no overlap
    cut_in = round(final.start * 30) / 30
    mine = [c for c in cues if "the people" in c[2]]
    assert mine and abs(mine[0][0] - (edited_cue.start - cut_in)) < 0.002  # the edited cue kept its time
    assert abs(mine[0][1] - (edited_cue.end - cut_in)) < 0.002


def test_narrow_screens_and_axe(editor_server, workspace, store, artifacts_dir):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    server = editor_server
    first, _, _ = _seed(workspace, store)
    axe = Axe()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            pages = {"eddie": (f"{server}/", f"{server}/?view=waiting", f"{server}/candidates/{first}",
                               f"{server}/candidates/abc"),
                     "rita": (f"{server}/candidates/{first}/labels?sentence=2",)}  # a reviewer's page
            for width, who in ((375, "eddie"), (1280, "eddie"), (375, "rita"), (1280, "rita")):
                ctx = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
                page = ctx.new_page()
                _login(page, server, who)
                for url in pages[who]:
                    page.goto(url)
                    page.wait_for_load_state("load")
                    if width == 375:
                        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
                    results = axe.run(page)
                    assert results.response["testEngine"]["name"] == "axe-core"
                    bad = [v for v in results.response["violations"] if v["id"] in AXE_RULES]
                    assert bad == [], (url, width,
                                       [(v["id"], [n["target"] for n in v["nodes"]][:5]) for v in bad])
                if width == 375 and who == "eddie":
                    page.goto(f"{server}/candidates/{first}")
                    page.screenshot(path=str(artifacts_dir / "editor_375.png"), full_page=True)
                ctx.close()
        finally:
            browser.close()
