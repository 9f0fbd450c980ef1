from __future__ import annotations

import pytest

from pipeline.cues import display_width
from pipeline.translation.limits import base_language, check_cue, is_rtl_language, limits_for, wrap_text


@pytest.mark.parametrize("language", ["ar", "ar-EG", "fa", "ur", "he", "ps"])
def test_right_to_left_languages(language: str) -> None:
    assert is_rtl_language(language)


@pytest.mark.parametrize("language", ["en", "fr", "sq", "bs", "ru", "tr", "id", "uz", "ky", "so", "zh", "ja"])
def test_left_to_right_languages(language: str) -> None:
    assert not is_rtl_language(language)


def test_cjk_lines_are_narrower_and_slower() -> None:
    latin, zh, ja = limits_for("en"), limits_for("zh-Hans"), limits_for("ja")
    assert zh.max_line_columns < latin.max_line_columns and zh.max_cps < latin.max_cps
    assert ja.max_cps < zh.max_cps
    assert limits_for("xx-unknown") == latin
    assert base_language("zh_Hant") == "zh"


def test_check_cue_reports_width_lines_speed_and_direction() -> None:
    ok = check_cue(["تركت الجماعة عندما رأيت"], 0.0, 3.0, "ar")
    assert ok == ()
    long = check_cue(["word " * 10], 0.0, 7.0, "fr", cue_id="c3", line=12)
    assert [p.severity for p in long] == ["error"]
    assert str(long[0]).startswith("line 12: cue c3: line 1 is 49 columns wide > 42")
    three = check_cue(["a", "b", "c"], 0.0, 3.0, "en")
    assert "3 lines > 2" in three[0].message
    fast = check_cue(["我离开了这个组织因为我看"], 0.0, 1.0, "zh")
    assert [p.severity for p in fast] == ["warning"] and "cps" in fast[0].message
    wrong_script = check_cue(["I left"], 0.0, 3.0, "ar")
    assert wrong_script[0].severity == "warning" and "right-to-left" in wrong_script[0].message
    assert check_cue([], 0.0, 1.0, "en") == ()  # empty: untranslated, not a limit problem


def test_one_unbreakable_word_is_allowed_like_source_cues() -> None:
    assert check_cue(["x" * 60], 0.0, 5.0, "de") == ()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Dejé el grupo cuando vi lo que hacían con los civiles del pueblo", "es"),
        ("تركت الجماعة عندما رأيت ما كانوا يفعلونه بالمدنيين في القرية", "ar"),
        ("我离开了这个组织因为我看到了他们对平民做的事情", "zh"),
    ],
)
def test_wrap_text_fits_the_script(text: str, language: str) -> None:
    lines = wrap_text(text, language)
    assert 1 <= len(lines) <= 2
    assert all(display_width(line) <= limits_for(language).max_line_columns for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_text_keeps_everything_when_it_cannot_fit() -> None:
    text = " ".join(["palabra"] * 30)
    lines = wrap_text(text, "es")
    assert len(lines) > 2 and " ".join(lines) == text
    assert any(p.message.startswith(f"{len(lines)} lines") for p in check_cue(lines, 0, 7, "es"))
