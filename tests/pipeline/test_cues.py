"""Subtitle cues: every style limit of docs/SUBTITLES.md on synthetic word timings."""

from __future__ import annotations

import pytest

from pipeline.cues import CueOptions, build_cues, check_cue_limits, display_width, wrap_words
from pipeline.errors import SubtitleError
from pipeline.records import Cue, Sentence, Word
from pipeline.sentences import build_sentences
from tests.pipeline.cue_support import MONOLOGUE, speak


def cue_tokens(cues) -> list[str]:
    return [tok for c in cues for line in c.lines for tok in line.split()]


def test_monologue_respects_every_limit_and_keeps_every_word_whole():
    words = speak(MONOLOGUE)
    cues = build_cues(build_sentences(words, "en"))
    assert check_cue_limits(cues) == []
    # Never split a word, never drop or repeat one: cue tokens are exactly the words in order.
    assert cue_tokens(cues) == [w.text for w in words]
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= 42 for line in cue.lines)
        assert 0.83 - 1e-9 <= cue.end - cue.start <= 7.0 + 1e-9
    # The cues follow the speech: each starts no later than shortly after its first word.
    assert cues[0].start <= words[0].start + 0.5


def test_plain_words_are_accepted_and_grouped_into_sentences():
    words = speak("Nobody could leave. I ran away at night.")
    cues = build_cues(words)
    assert [c.text for c in cues] == ["Nobody could leave.", "I ran away at night."]


def test_at_least_two_frames_between_cues_even_in_continuous_speech():
    words = speak(MONOLOGUE, pause=0.0, sentence_pause=0.0)
    for fps in (25.0, 30.0):
        options = CueOptions(fps=fps)
        cues = build_cues(words, options)
        for a, b in zip(cues, cues[1:], strict=False):
            assert b.start - a.end >= 2 / fps - 1e-6
        # Times sit on the frame grid, so rounding in a file format cannot eat the gap.
        for c in cues:
            assert abs(c.start * fps - round(c.start * fps)) < 1e-6
            assert abs(c.end * fps - round(c.end * fps)) < 1e-6


def test_short_isolated_word_is_shown_for_the_minimum_duration():
    words = [Word(1.0, 1.2, "Yes.", 0.9), Word(5.0, 5.3, "Good.", 0.9)]
    cues = build_cues(words)
    assert [c.text for c in cues] == ["Yes.", "Good."]
    assert all(c.end - c.start >= 0.83 for c in cues)
    assert cues[0].start == pytest.approx(1.0)


def test_short_sentence_squeezed_between_speech_is_merged_not_flashed():
    words = speak("I told them. No. Then they came back with more men and guns.", pause=0.0,
                  sentence_pause=0.0, sec_per_char=0.04)
    cues = build_cues(words)
    assert check_cue_limits(cues) == []
    assert "No." not in [c.text for c in cues]


def test_long_slow_sentence_splits_so_no_cue_exceeds_seven_seconds():
    words = speak("we stayed there for many months and nobody knew where we were", sec_per_char=0.35)
    cues = build_cues(words)
    assert len(cues) >= 3
    assert all(c.end - c.start <= 7.0 + 1e-9 for c in cues)
    assert check_cue_limits(cues) == []


def test_reading_speed_is_brought_to_target_when_the_pauses_allow():
    # Fast speech (about 25 cps while talking) but long pauses after each sentence.
    text = "I saw them kill people from my own village. Nobody could leave. They said God wanted it."
    words = speak(text, sec_per_char=0.025, pause=0.02, sentence_pause=2.0)
    cues = build_cues(words)
    assert check_cue_limits(cues) == []
    for cue in cues:
        assert len(cue.text) / (cue.end - cue.start) <= 17.0 + 0.5


def test_reading_speed_hard_limit_holds_for_fast_but_feasible_speech():
    words = speak(MONOLOGUE, sec_per_char=0.035, pause=0.03, sentence_pause=0.3)
    chars = len(MONOLOGUE)
    assert chars / (words[-1].end - words[0].start) < 20  # feasible overall
    cues = build_cues(words)
    assert [p for p in check_cue_limits(cues) if "cps" in p] == []


def test_line_break_follows_punctuation_not_an_article():
    (lines, _cost) = wrap_words("I did not want to stay with the men, because they killed my friends".split())
    assert lines == ("I did not want to stay with the men,", "because they killed my friends")


def test_line_break_goes_before_a_conjunction_and_never_after_the():
    texts = "My brother and I walked for three days and nights to the border of the country".split()
    lines, _ = wrap_words(texts)
    assert len(lines) == 2
    assert all(len(line) <= 42 for line in lines)
    last_word_of_top = lines[0].split()[-1].lower()
    assert last_word_of_top not in {"the", "a", "of", "to", "and"}
    assert lines[1].split()[0] in {"and", "to"}


def test_lines_are_balanced_when_there_is_no_phrase_boundary():
    texts = "abcd efgh ijkl mnop qrst uvwx yzab cdef ghij klmn opqr stuv wxyz".split()
    lines, _ = wrap_words(texts)
    assert len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 5


def test_one_line_when_the_text_fits():
    lines, cost = wrap_words("Nobody could leave.".split())
    assert lines == ("Nobody could leave.",) and cost == 0


def test_arabic_is_wrapped_in_logical_order_and_never_reversed():
    text = ("عندما انضممت إلى الجماعة كنت أظن أنهم يقاتلون من أجل العدالة، لكن بعد أشهر قليلة "
            "رأيتهم يقتلون أناسا من قريتي. لم يكن أحد يستطيع المغادرة.")
    words = speak(text)
    cues = build_cues(build_sentences(words, "ar"))
    assert check_cue_limits(cues) == []
    assert cue_tokens(cues) == [w.text for w in words]  # logical order, word by word
    joined = " ".join(line for c in cues for line in c.lines)
    assert joined == text
    assert any(len(c.lines) == 2 for c in cues)
    # The comma is a phrase boundary: a line or cue ends right after it.
    assert any(line.endswith("العدالة،") for c in cues for line in c.lines)


def test_cjk_without_spaces_wraps_by_display_width():
    text = (
        "客観的実在の判断的知識が成立するのである。"
        "ニュースタブでのサイト名表示が実際と違うという件に関するご質問をいただいております。"
    )
    words = speak(text, unspaced=True, sec_per_char=0.1, pause=0.02)
    cues = build_cues(build_sentences(words, "ja"))
    assert check_cue_limits(cues) == []
    assert "".join(line for c in cues for line in c.lines) == text
    for cue in cues:
        for line in cue.lines:
            assert " " not in line
            assert display_width(line) <= 42  # 21 full-width characters


def test_a_word_longer_than_a_line_is_the_only_allowed_overflow():
    url = "https://example.org/a/very/long/path/that/does/not/fit/on/one/line"
    words = speak(f"Please visit {url} today.")
    cues = build_cues(words)
    assert cue_tokens(cues) == [w.text for w in words]
    assert check_cue_limits(cues) == []
    long_lines = [line for c in cues for line in c.lines if len(line) > 42]
    assert long_lines == [url]


def test_sentence_without_word_times_is_spread_over_its_span():
    text = "When I joined the group I believed that they were fighting for justice."
    sentence = Sentence(0, 2.0, 9.0, text, language="en")
    cues = build_cues([sentence])
    assert check_cue_limits(cues) == []
    assert " ".join(c.text.replace("\n", " ") for c in cues) == sentence.text
    assert cues[0].start >= 2.0 - 0.25 and cues[-1].end <= 9.0 + 7.0


def test_check_cue_limits_reports_each_violation():
    bad = [
        Cue(0.0, 0.5, ("too short",)),
        Cue(0.52, 9.0, ("a" * 50 + " b", "two", "three")),
        Cue(9.0, 10.0, ("This line is read far too fast for anyone to follow.",)),
        Cue(11.0, 12.0, ("",)),
    ]
    problems = "\n".join(check_cue_limits(bad))
    for fragment in ("< 0.83", "> 7.0", "3 lines", "characters wide", "gap", "cps", "empty line"):
        assert fragment in problems
    assert check_cue_limits([Cue(0, 1, ("ok",))]) == []


def test_empty_input_and_bad_options():
    assert build_cues([]) == ()
    with pytest.raises(SubtitleError):
        CueOptions(min_duration=8.0)
    with pytest.raises(SubtitleError):
        build_cues([Word(0, 1, "a", 1.0), Sentence(0, 0, 1, "b")])  # type: ignore[list-item]


def test_impossibly_fast_speech_keeps_every_other_limit():
    # 26 cps of continuous speech cannot be read at 20 cps without dropping words; only the
    # reading speed may then be reported, while lines, durations and gaps still hold.
    words = speak(MONOLOGUE, sec_per_char=0.02, pause=0.02, sentence_pause=0.05)
    cues = build_cues(words)
    problems = check_cue_limits(cues)
    assert problems and all("cps" in p for p in problems)
    assert cue_tokens(cues) == [w.text for w in words]
    # Subtitles do not drift behind the speech: a cue starts at most max_delay after its first word.
    i = 0
    for cue in cues:
        assert cue.start - words[i].start <= 0.5 + 0.04
        i += len(cue.text.split())
