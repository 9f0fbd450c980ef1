"""Sentences from word timestamps: punctuation, pauses, length, Whisper quirks, scripts."""

from __future__ import annotations

import math

from pipeline.records import Word
from pipeline.sentences import SentenceOptions, build_sentences, clean_words, join_words


def words_of(text: str, start: float = 0.0, step: float = 0.3, lang_unspaced: bool = False) -> list[Word]:
    """Words spoken one after another, `step` seconds each (tokens split on spaces)."""
    tokens = list(text) if lang_unspaced else text.split()
    return [Word(start + i * step, start + (i + 1) * step, tok, 0.9) for i, tok in enumerate(tokens)]


def texts(sentences) -> list[str]:
    return [s.text for s in sentences]


def test_splits_on_latin_final_punctuation_and_keeps_times_from_words():
    words = words_of("I left in 2015. Why? Because they lied! It was over…")
    sentences = build_sentences(words, "en")
    assert texts(sentences) == ["I left in 2015.", "Why?", "Because they lied!", "It was over…"]
    assert [s.index for s in sentences] == [0, 1, 2, 3]
    assert sentences[0].start == words[0].start and sentences[0].end == words[3].end
    assert sentences[1].words == (words[4],)
    assert all(s.language == "en" for s in sentences)


def test_arabic_question_mark_and_urdu_full_stop_end_sentences():
    words = words_of("لماذا تركت الجماعة؟ لأنهم كذبوا علينا۔ انتهى")
    assert texts(build_sentences(words, "ar")) == ["لماذا تركت الجماعة؟", "لأنهم كذبوا علينا۔", "انتهى"]


def test_cjk_full_width_punctuation_and_no_spaces():
    tokens = ["我", "离开", "了", "。", "为什么", "？", "因为", "他们", "撒谎", "！"]
    words = [Word(i * 0.2, (i + 1) * 0.2, t, 1.0) for i, t in enumerate(tokens)]
    assert texts(build_sentences(words, "zh")) == ["我离开了。", "为什么？", "因为他们撒谎！"]


def test_japanese_joined_without_spaces_but_latin_words_keep_theirs():
    assert join_words(["私", "は", "Google", "News", "を", "見た"], "ja") == "私はGoogle Newsを見た"
    # Unknown language: decided per boundary from the scripts either side.
    assert join_words(["私", "は", "見た", "OK", "then"], "") == "私は見た OK then"
    assert join_words(["I", "said", "no"], "en") == "I said no"


def test_long_pause_splits_unpunctuated_speech():
    words = words_of("we walked all night", step=0.3) + words_of("then the border came", start=3.0)
    sentences = build_sentences(words, "en", SentenceOptions(max_pause=1.5))
    assert texts(sentences) == ["we walked all night", "then the border came"]


def test_maximum_length_splits_run_on_speech_at_a_clause_break():
    first = "and then we went to the market and we bought bread and we went home again,"
    second = " so we never talked about what happened and nobody asked us anything about it"
    words = words_of(first + second, step=0.25)
    sentences = build_sentences(words, "en", SentenceOptions(max_chars=100))
    assert len(sentences) == 2
    assert sentences[0].text.endswith("home again,")
    assert all(len(s.text) <= 100 for s in sentences)
    # No word is lost or duplicated.
    assert [w for s in sentences for w in s.words] == clean_words(words)


def test_maximum_duration_splits_slow_speech():
    words = words_of("one two three four five six seven eight nine ten eleven twelve", step=1.0)
    sentences = build_sentences(words, "en", SentenceOptions(max_duration=5.0, max_pause=9, min_chars=5))
    assert len(sentences) >= 3
    assert all(s.end - s.start <= 5.0 for s in sentences)


def test_abbreviations_and_decimals_do_not_end_sentences():
    words = words_of("Mr. Smith met Dr. Jones at 3 p.m. yesterday. It cost 2.5 million.")
    assert texts(build_sentences(words, "en")) == [
        "Mr. Smith met Dr. Jones at 3 p.m. yesterday.",
        "It cost 2.5 million.",
    ]


def test_whisper_quirks_leading_spaces_empty_and_punctuation_tokens():
    raw = [
        Word(0.0, 0.3, " I", 0.9),
        Word(0.3, 0.6, " left", 0.9),
        Word(0.6, 0.6, "", 0.1),  # empty word
        Word(0.6, 0.7, " .", 0.9),  # punctuation token with a leading space
        Word(0.8, 0.9, ' "', 0.9),  # opening quote belongs to the next word
        Word(0.9, 1.2, "Never", 0.9),
        Word(1.2, 1.5, " again", 0.9),
        Word(1.5, 1.5, "!", 0.9),
        Word(1.5, 1.5, '"', 0.9),  # closing quote belongs to the previous word
        Word(1.6, 1.8, " it", 0.9),
        Word(1.8, 1.9, "'s", 0.9),  # contraction split off by the tokenizer
        Word(1.9, 2.2, " true", 0.9),
    ]
    sentences = build_sentences(raw, "en")
    assert texts(sentences) == ["I left.", '"Never again!"', "it's true"]
    assert all(not w.text.startswith(" ") and w.text for s in sentences for w in s.words)


def test_overlapping_reversed_zero_length_and_nan_times_become_monotonic():
    raw = [
        Word(1.0, 1.5, "a", 1.0),
        Word(1.2, 1.4, "b", 1.0),  # overlaps the previous word
        Word(1.3, 1.3, "c", 1.0),  # zero length and before the previous end
        Word(2.0, 1.8, "d", 1.0),  # end before start
        Word(math.nan, math.nan, "e.", 1.0),
    ]
    cleaned = clean_words(raw)
    for a, b in zip(cleaned, cleaned[1:], strict=False):
        assert a.start <= a.end <= b.start <= b.end
    (sentence,) = build_sentences(raw, "en")
    assert sentence.text == "a b c d e."
    assert sentence.start == 1.0 and sentence.end == cleaned[-1].end
    assert all(math.isfinite(w.start) and math.isfinite(w.end) for w in sentence.words)


def test_empty_input_and_punctuation_only_input():
    assert build_sentences([]) == ()
    assert build_sentences([Word(0, 0.1, " ", 0.5)]) == ()
    (only,) = build_sentences([Word(0, 0.1, "...", 0.5), Word(0.1, 0.4, "so", 0.5)])
    assert only.text == "...so"


def test_one_overlong_word_does_not_push_the_following_words_later():
    raw = [Word(0.0, 9.0, "so", 1.0), Word(0.5, 0.8, "we", 1.0), Word(0.8, 1.1, "left.", 1.0)]
    cleaned = clean_words(raw)
    assert [(w.start, w.end) for w in cleaned] == [(0.0, 0.5), (0.5, 0.8), (0.8, 1.1)]


def test_continuation_tokens_are_glued_to_their_word():
    raw = words_of("visit www .marxists .org and the evidence -based site")
    sentences = build_sentences(raw, "en")
    assert texts(sentences) == ["visit www.marxists.org and the evidence-based site"]
    assert [w.text for w in sentences[0].words][1] == "www.marxists.org"
    # A sentence that starts after a full stop is not glued: ".org" only follows a word.
    assert texts(build_sentences(words_of("It ended. .5 percent stayed."), "en"))[0] == "It ended."
