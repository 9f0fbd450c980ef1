"""Issue 16 on the candidate page (TestClient, real store): swapping the speakers and adding or
removing a manual blur region each make a new, audited version whose hash changes; the
interviewer's sentences are greyed; bad boxes are refused next to the form."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from clips_metadata.review_store import ReviewStore
from clips_metadata.speakers_repo import SpeakersRepo
from pipeline.records import Sentence, Word
from review.app import create_app
from tests.review.seed import Proposal, add_interview

from .conftest import make_users
from .test_review_app import login

TEXTS = [
    "How did you leave the group?",  # S1, the interviewer
    "I walked out at night and crossed the river alone.",  # S2
    "My mother hid me for a month and then I found work.",  # S2
    "What do you tell young people now?",  # S1
]
SPEAKERS = ["S1", "S2", "S2", "S1"]


def _labelled(sents: tuple[Sentence, ...]) -> tuple[Sentence, ...]:
    return tuple(replace(s, speaker=SPEAKERS[s.index],
                         words=tuple(replace(w, speaker=SPEAKERS[s.index]) for w in s.words)) for s in sents)


@pytest.fixture
def people(workspace, store):
    make_users(store)
    iid, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS,
                                    labels={1: ("disillusionment_exit",), 2: ("disillusionment_exit",)})
    labelled = _labelled(sents)
    transcript = store.load_transcript(tid)
    words = iter(w for s in labelled for w in s.words)
    transcript = replace(transcript, segments=tuple(
        replace(seg, words=tuple(next(words) for _ in seg.words), speaker=SPEAKERS[i])
        for i, seg in enumerate(transcript.segments)))
    SpeakersRepo(store).save_diarization(tid, transcript, labelled, None, interviewee="S2", model="test",
                                         interviewer_first=False, seconds={"S1": 4.0, "S2": 6.0})
    p = Proposal(labelled[1].start - 0.1, labelled[2].end + 0.1, (1, 2), ("disillusionment_exit",), (), 0.8)
    (cand,) = store.add_candidates(tid, [p])
    return cand.id


@pytest.fixture
def eddie(workspace, store, people):
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as client:
        client.csrf = login(client, "eddie")
        yield client


def _page(client: TestClient, cid: int) -> str:
    r = client.get(f"/candidates/{cid}")
    assert r.status_code == 200
    return r.text


def test_the_page_greys_the_interviewer_and_names_the_interviewee(eddie, people):
    page = _page(eddie, people)
    assert 'id="speakers"' in page and 'id="interviewee">S2<' in page
    rows = re.findall(r'<tr class="([^"]*)">\s*<td class="t">[^<]*</td>\s*<td>(S\d)', page)
    assert rows and all(("other-speaker" in cls) == (who == "S1") for cls, who in rows)
    assert 'id="swap-speakers"' in page


def test_swapping_the_speakers_makes_a_new_audited_version(eddie, store, people):
    before = store.get_candidate(people)
    r = eddie.post(f"/candidates/{people}/speakers",
                   data={"csrf_token": eddie.csrf, "version": before.version, "swap": "1"})
    assert r.status_code == 303
    after = store.get_candidate(people)
    assert after.version == before.version + 1 and after.content_hash != before.content_hash
    assert after.render_options["speakers"] == {"interviewee": "S1"}
    assert after.status == "proposed"
    history = ReviewStore(store).history(people)
    assert history[-1].actor == "eddie" and "S2 → S1" in history[-1].note
    assert 'id="interviewee">S1<' in _page(eddie, people)
    # Relabelling back is another version.
    r = eddie.post(f"/candidates/{people}/speakers",
                   data={"csrf_token": eddie.csrf, "version": after.version, "interviewee": "S2"})
    assert store.get_candidate(people).version == after.version + 1


def test_a_stale_or_unknown_speaker_change_makes_no_version(eddie, store, people):
    v = store.get_candidate(people).version
    eddie.post(f"/candidates/{people}/speakers",
               data={"csrf_token": eddie.csrf, "version": v, "interviewee": "S9"})
    assert store.get_candidate(people).version == v
    page = _page(eddie, people)
    assert re.search(r'<p class="error" id="speakers-error" role="alert">unknown speaker', page)
    r = eddie.post(f"/candidates/{people}/speakers", data={"version": v, "swap": "1"})  # no CSRF token
    assert r.status_code == 403 and store.get_candidate(people).version == v


def test_a_manual_blur_region_is_part_of_the_version(eddie, store, people):
    cand = store.get_candidate(people)
    data = {"csrf_token": eddie.csrf, "version": cand.version, "x": 100, "y": 50, "width": 80,
            "height": 60, "start": cand.start, "end": cand.start + 1.5}
    assert eddie.post(f"/candidates/{people}/blur-regions", data=data).status_code == 303
    after = store.get_candidate(people)
    assert after.version == cand.version + 1 and after.content_hash != cand.content_hash
    assert after.render_options["blur_regions"] == [
        {"x": 100, "y": 50, "width": 80, "height": 60, "start": round(cand.start, 3),
         "end": round(cand.start + 1.5, 3)}]
    page = _page(eddie, people)
    assert "80×60 px at 100,50" in page
    # Removing it is a version too; the hash goes back to the content without the box.
    eddie.post(f"/candidates/{people}/blur-regions/remove",
               data={"csrf_token": eddie.csrf, "version": after.version, "index": 0})
    gone = store.get_candidate(people)
    assert gone.version == after.version + 1 and "blur_regions" not in gone.render_options


@pytest.mark.parametrize("box", [
    {"x": 700, "y": 0, "width": 10, "height": 10},  # outside the 640x360 picture
    {"x": 0, "y": 0, "width": 0, "height": 10},  # empty
])
def test_a_bad_blur_box_is_refused_next_to_the_form(eddie, store, people, box):
    cand = store.get_candidate(people)
    data = {"csrf_token": eddie.csrf, "version": cand.version, "start": cand.start, "end": cand.end, **box}
    eddie.post(f"/candidates/{people}/blur-regions", data=data)
    assert store.get_candidate(people).version == cand.version
    page = _page(eddie, people)
    assert re.search(r'<p class="error" id="blur-error" role="alert">blur region not added', page)


def test_cues_the_page_derives_keep_the_speakers(eddie, store, people):
    """A trim out over the interviewer's question re-derives the cues from the page's words; they
    keep their speakers (a speaker change is marked), as the plan's own derivation does."""
    from clips_metadata.cue_tracks_repo import CueTracksRepo

    cand = store.get_candidate(people)
    question = store.get_sentences(cand.transcript_id)[0]
    r = eddie.post(f"/candidates/{people}/trim", data={"csrf_token": eddie.csrf, "version": cand.version,
                                                       "start": f"{question.start:.3f}",
                                                       "end": f"{cand.end:.3f}", "confirm": "yes"})
    assert r.status_code == 303, r.text[:300]
    after = store.get_candidate(people)
    assert after.version == cand.version + 1 and after.start <= question.start + 1e-3
    cues = CueTracksRepo(store).tracks(people, after.version)["en"].cues
    assert {sp for c in cues for sp in c.speakers} == {"S1", "S2"}, [(c.text, c.speakers) for c in cues]


def test_unused_word_record_fields_round_trip():
    # The page reads speakers from stored words: the store keeps them.
    from clips_metadata.serialize import words_from_json, words_to_json

    w = Word(1.0, 1.5, "hello", 0.9, speaker="S2")
    assert words_from_json(words_to_json([w]))[0].speaker == "S2"


@pytest.mark.slow
def test_the_preview_gets_the_detected_face_boxes_from_the_cache(workspace, store):
    """Real CenterFace on a real talking head: faces.json lists boxes for the clip's samples, and
    the second request reads the workspace's cache (the export then reuses it too)."""
    from pipeline.atomic import file_sha256
    from tests.conftest import shared_media_file
    from tests.review.seed import add_candidate

    src = shared_media_file("vid_en_talkinghead_3.mp4")
    make_users(store)
    _, tid, sents = add_interview(store, pseudonym="Amal", texts=["I left the group one night."],
                                  labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                  path=str(src), duration=4.0)
    cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as client:
        login(client, "eddie")
        page = client.get(f"/candidates/{cid}").text
        assert f'data-src="/candidates/{cid}/faces.json"' in page
        first = client.get(f"/candidates/{cid}/faces.json").json()
        assert first["samples"] and all(len(s["boxes"]) == 1 for s in first["samples"])
        assert list(workspace.faces.glob("*.json"))
        assert client.get(f"/candidates/{cid}/faces.json").json() == first


@pytest.mark.slow
def test_the_page_face_boxes_are_the_previews_detection(workspace, store, monkeypatch, tmp_path):
    """When the plan blurs faces, the page's boxes come from the detection its preview made (the
    same range and sampling, so one face-cache entry), and the detector does not run again."""
    from clips_metadata.stored_records import Consent
    from pipeline.atomic import file_sha256
    from pipeline.render import face_cache
    from pipeline.render.render_export import PreviewOptions, render_preview
    from review.plans import Planner
    from tests.conftest import shared_media_file
    from tests.review.seed import add_candidate

    src = shared_media_file("vid_en_talkinghead_3.mp4")
    make_users(store)
    no_face = Consent(face=False, voice=True, name=False, languages=("*",), platforms=("*",))
    _, tid, sents = add_interview(store, pseudonym="Nour", texts=["I left the group one night."],
                                  labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                  path=str(src), duration=4.0, consent=no_face)
    cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
    plan = Planner.for_workspace(store, workspace).review_plan(cid).plan
    assert plan is not None and plan.blur_faces
    render_preview(plan, src, tmp_path / "p.mp4", options=PreviewOptions(max_height=240),
                   face_cache=workspace.faces)
    assert len(list(workspace.faces.glob("*.json"))) == 1

    def no_detection(*_args, **_kwargs):
        raise AssertionError("the page ran the detector again")

    monkeypatch.setattr(face_cache, "detect_faces", no_detection)
    app = create_app(workspace, store=store, session_key=b"t" * 32)
    with TestClient(app, follow_redirects=False) as client:
        login(client, "eddie")
        boxes = client.get(f"/candidates/{cid}/faces.json").json()
    assert boxes["samples"] and all(len(s["boxes"]) == 1 for s in boxes["samples"])
    assert len(list(workspace.faces.glob("*.json"))) == 1
