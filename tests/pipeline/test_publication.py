"""The publication plan: what it holds, its hash's stability and sensitivity, and the one-line
reason a changed plan gives (which never quotes a registry term)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.publication import (
    BlurBox,
    ConsentSnapshot,
    PlanError,
    RegistrySnapshot,
    Target,
    VersionData,
    build_plan,
    plan_difference,
    plan_from_dict,
    plan_hash,
    plan_json,
)
from pipeline.records import Cue, Word
from pipeline.render.cards import CardText
from pipeline.render.profiles import RenderOptions
from pipeline.render.redaction import bleep_intervals, find_spoken, words_near
from pipeline.render.subs import SubtitleTrack
from pipeline.terms import IdentifyingWord, TermMatcher, redaction_terms, variants_of

KEY = b"plan-test-key"
EN = SubtitleTrack("en", (Cue(10.5, 12.0, ("My cousin, Yusuf",)),
                          Cue(12.0, 13.4, ("Darwish, paid a smuggler.",)),
                          Cue(13.4, 14.8, ("I am Karim Haddad.",))))
AR = SubtitleTrack("ar", (Cue(10.5, 13.4, ("ابن عمي دفع للمهرب",)),))
WORDS = (Word(10.6, 10.9, "My", 0.9), Word(10.9, 11.3, " cousin,", 0.9), Word(11.4, 11.8, " Yusuf", 0.9),
         Word(11.8, 12.3, " Darwish,", 0.9), Word(12.3, 12.6, " paid", 0.9), Word(13.5, 13.7, " I", 0.9),
         Word(13.7, 13.9, " am", 0.9), Word(13.9, 14.3, " Karim", 0.9), Word(14.3, 14.7, " Haddad.", 0.9))
VERSION = VersionData(candidate_id=3, version=2, source_sha256="ab" * 32, source_fps=25.0, start=10.0,
                      end=15.0, tracks=(EN, AR), words=WORDS, title_card=CardText(("Witness K",), 2.0))
PERSON = RegistrySnapshot(
    interviewee_id=7, pseudonym="Witness K", real_names=("Karim Haddad",),
    identifying_words=(IdentifyingWord.parse("Yusuf Darwish=his cousin"), IdentifyingWord.parse("Mosul")),
    consent=ConsentSnapshot(face=False, voice=False, name=False, languages=("en", "ar"),
                            platforms=("web", "youtube"), expires="2030-01-01"))
TARGET = Target("master", "en", "web")
TERMS = ("Karim Haddad", "Yusuf Darwish", "Mosul", "Karim", "Haddad", "Yusuf", "Darwish")


def plan(version=VERSION, person=PERSON, target=TARGET, **kw):
    return build_plan(version, person, target, key=KEY, **kw)


def test_plan_holds_redacted_clip_clock_cues_bleeps_and_protection():
    p = plan()
    en = p.track("en")
    assert en is not None
    assert [c.lines for c in en.cues] == [("My cousin, his cousin",), ("paid a smuggler.",),
                                          ("I am Witness K.",)]
    assert en.cues[0].start == 0.5  # clip clock: 10.5 s source, cut at 10 s
    assert p.languages == ("ar", "en")
    # Bleeps on the clip clock over "Yusuf Darwish" and "Karim Haddad", padded by 60 ms.
    assert p.bleeps == ((1.34, 2.36), (3.84, 4.76))
    assert p.blur_faces and p.alter_voice
    assert p.loudness_target == -23.0 and p.options.profile == "master"
    assert (p.start, p.end, p.source_sha256) == (10.0, 15.0, "ab" * 32)


def test_plan_json_and_hash_carry_no_registry_term():
    text = plan_json(plan()).decode()
    for term in TERMS:
        for v in variants_of(term):
            assert v not in text, v


def test_hash_is_stable_and_round_trips():
    assert plan_hash(plan()) == plan_hash(plan())
    again = plan_from_dict(json.loads(plan_json(plan())))
    assert again == plan() and plan_hash(again) == plan_hash(plan())


def test_consent_name_shown_keeps_the_name_but_hides_identifying_words():
    p = plan(person=replace(PERSON, consent=replace(PERSON.consent, name=True, face=True, voice=True)))
    en = p.track("en")
    assert en is not None and en.cues[-1].lines == ("I am Karim Haddad.",)
    assert en.cues[0].lines == ("My cousin, his cousin",)
    assert not p.blur_faces and not p.alter_voice


@pytest.mark.parametrize(("change", "reason"), [
    (lambda v, p, t: (v, replace(p, consent=replace(p.consent, face=True)), t), "consent changed"),
    (lambda v, p, t: (v, replace(p, consent=replace(p.consent, expires="2031-01-01")), t), "consent changed"),
    (lambda v, p, t: (v, replace(p, identifying_words=p.identifying_words[1:]), t), "words to hide changed"),
    (lambda v, p, t: (v, replace(p, identifying_words=(*p.identifying_words, IdentifyingWord("Raqqa"))), t),
     "words to hide changed"),
    (lambda v, p, t: (v, replace(p, identifying_words=(IdentifyingWord("Yusuf Darwish", "a friend"),
                                                       IdentifyingWord("Mosul"))), t),
     "words to hide changed"),
    (lambda v, p, t: (v, replace(p, interviewee_id=8), t), "another interviewee"),
    (lambda v, p, t: (v, replace(p, pseudonym="Witness L"), t), "pseudonym changed"),
    (lambda v, p, t: (replace(v, source_sha256="cd" * 32), p, t), "source media changed"),
    (lambda v, p, t: (replace(v, end=14.0), p, t), "cut changed"),
    (lambda v, p, t: (replace(v, tracks=(replace(EN, cues=EN.cues[:2]), AR)), p, t), "subtitle text changed"),
    (lambda v, p, t: (replace(v, extra_bleeps=((13.0, 13.2),)), p, t), "audio redactions changed"),
    (lambda v, p, t: (replace(v, blur_boxes=(BlurBox(0, 0, 50, 50, 0.0, 1.0),)), p, t), "face blur changed"),
    (lambda v, p, t: (replace(v, title_card=None), p, t), "cards changed"),
    (lambda v, p, t: (v, p, replace(t, profile="vertical")), "profile changed (master to vertical)"),
    (lambda v, p, t: (v, p, replace(t, language="ar")), "burned-in language changed"),
    (lambda v, p, t: (replace(v, options=RenderOptions(crf=18)), p, t), "encoder or loudness"),
    (lambda v, p, t: (replace(v, version=3), p, t), "edited (version 2 to 3)"),
])
def test_each_change_changes_the_hash_and_names_its_reason(change, reason):
    old = plan()
    new = plan(*change(VERSION, PERSON, TARGET))
    assert plan_hash(new) != plan_hash(old)
    why = plan_difference(old, new)
    assert why is not None and reason in why
    assert "\n" not in why
    for term in TERMS:
        assert term.lower() not in why.lower()
    assert plan_difference(old, plan()) is None


def test_consent_refusals():
    with pytest.raises(PlanError, match="platform"):
        plan(target=replace(TARGET, platform="tiktok"))
    with pytest.raises(PlanError, match="expired"):
        plan(today=date(2031, 1, 1))
    only_ar = replace(PERSON, consent=replace(PERSON.consent, languages=("ar",)))
    with pytest.raises(PlanError, match="'en'"):
        plan(person=only_ar)
    assert plan(person=only_ar, target=replace(TARGET, language="ar")).languages == ("ar",)


def test_unsafe_registry_is_refused_as_plan_error():
    bad = replace(PERSON, identifying_words=(IdentifyingWord("Yusuf Darwish", "witness k"),))
    with pytest.raises(PlanError, match="pseudonym"):
        plan(person=bad)


def test_name_split_across_the_cut_edge_is_still_redacted():
    # The cut starts inside the cue that ends with "Yusuf": its continuation is redacted too.
    p = plan(version=replace(VERSION, start=12.0))
    en = p.track("en")
    assert en is not None and en.cues[0].lines == ("paid a smuggler.",)


def test_approved_render_options_add_protection_never_remove_it():
    open_person = replace(PERSON, consent=replace(PERSON.consent, face=True, voice=True, name=True))
    stricter = replace(VERSION, blur_faces=True, alter_voice=True, redact_names=True)
    p = plan(version=stricter, person=open_person)
    en = p.track("en")
    assert p.blur_faces and p.alter_voice and en is not None and en.cues[-1].lines == ("I am Witness K.",)


def test_manual_blur_boxes_reach_the_graph_as_their_own_tracks():
    from pipeline.render.plan import BlurRegion, RenderJob, plan_render

    job = RenderJob(ffmpeg="ffmpeg", source="/src.mp4", start=0.0, end=2.0, src_width=640, src_height=360,
                    fps=25.0, output="/out.mp4", boxes=(BlurRegion(10, 20, 60, 40, 0.5, 1.5),))
    graph = " ".join(plan_render(job))
    assert "crop=60:40:10*gte(t\\,0.500)*lt(t\\,1.500)" in graph
    small = RenderJob(ffmpeg="ffmpeg", source="/src.mp4", start=0.0, end=2.0, src_width=1280, src_height=720,
                      fps=25.0, output="/out.mp4", scale=0.5)
    assert small.out_size == (640, 360)


NAMES = ["we", "Karim", "Haddad", "Mosul", "Dar", "wish"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=400), st.integers(0, 399),
       st.floats(-0.15, 0.45), st.floats(0.5, 40.0))
@example(["we", "Dar", "wish", "we", "Karim", "Haddad"], 2, -0.05, 2.05)  # "Dar|wish" across the in point
def test_plan_reads_only_the_words_near_the_cut(said, k, offset, length):
    # A long interview (up to 400 words, 0.5 s each) with names anywhere, even split over two
    # recognised words; the cut starts at or just around a word. The plan's bleeps are those of
    # every word in the interview, and the plan built from the words near the cut alone is the same.
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, f" {t}", 0.9) for i, t in enumerate(said))
    start = max(0.0, (k % len(said)) * 0.5 + offset)
    end = start + length
    version = replace(VERSION, start=start, end=end, words=words, tracks=(EN,))
    target = Target("master", "", "web")
    full = plan(version=version, target=target)
    terms = redaction_terms(PERSON.real_names, PERSON.identifying_words, PERSON.pseudonym, shows_name=False)
    everywhere = find_spoken(words, TermMatcher(terms))
    assert full.bleeps == bleep_intervals(everywhere, start, end, RenderOptions().bleep_padding)
    near = words_near(words, start, end)
    assert len(near) <= len(words)
    windowed = plan(version=replace(version, words=near), target=target)
    assert windowed == full and plan_hash(windowed) == plan_hash(full)
