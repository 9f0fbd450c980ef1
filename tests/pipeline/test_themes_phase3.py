"""Phase-3 flagger changes without the encoder: the stance rules on reported claims, disavowals,
warnings and admissions, Arabic marks, the joint logistic fit, the language shift and the pivot
encoder's imputation. Each wording is written for these tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.themes import Flagger
from pipeline.themes.pivot import HALF, USE_DIM, fit_impute, impute
from pipeline.themes.scoring import (
    FlagOptions,
    LabelledText,
    _Fitted,
    apply_shifts,
    fit_logistic,
    language_shifts,
    load_fitted,
    save_fitted,
)
from tests.pipeline.themes_support import stance_score


@pytest.fixture(scope="module")
def probe() -> Flagger:
    # No encoder, no heads: `adjusted` applies only the stance rules and cues to given scores.
    return Flagger.cues_only(options=FlagOptions())


score = stance_score


@pytest.mark.parametrize(
    "text",
    [
        "The recruiter told my cousin it was a fair state for every Muslim, but that was a lie.",
        "They promised a country of justice and instead there was only hunger.",
        "I do not support them any more, let me be clear.",
        "Don't trust anybody who says their state was good.",
    ],
)
def test_refuted_praise_disavowals_and_warnings_weigh_less_as_advocacy(probe: Flagger, text: str) -> None:
    assert score(probe, text, "pro_group_advocacy") < score(probe, "It was a fair state for every Muslim.",
                                                           "pro_group_advocacy")


def test_praise_without_refutation_keeps_its_score(probe: Flagger) -> None:
    plain = score(probe, "Believe me, the state they built was fair to everybody.", "pro_group_advocacy")
    assert plain == pytest.approx(0.5)


def test_an_admission_needs_the_speaker_as_subject(probe: Flagger) -> None:
    victim = score(probe, "They hit me with a cable in the cellar until morning.", "self_incrimination")
    actor = score(probe, "I hit the prisoner with a cable when the emir ordered it.", "self_incrimination")
    assert victim < actor


def test_a_denied_deed_is_no_admission(probe: Flagger) -> None:
    denied = score(probe, "I never shot anybody, I was in the bakery of the hospital.", "self_incrimination")
    admitted = score(probe, "I shot at the cars on the road, many times.", "self_incrimination")
    assert denied < admitted


def test_arabic_marks_do_not_hide_an_arrest(probe: Flagger) -> None:
    # "I was arrested at the airport" with a damma: something undergone, not a deed.
    marked = score(probe, "اعتُقلتُ في المطار عند رجوعي.", "self_incrimination", "ar")
    assert marked < 0.5 * 0.5
    french = score(probe, "J'ai été interrogé deux jours par la police.", "self_incrimination", "fr")
    assert french < 0.5 * 0.5


def test_joint_fit_matches_per_label_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 8))
    y = np.stack([(x[:, 0] > 0.3), (x[:, 1] + x[:, 2] > 0)], axis=1).astype(float)
    mask = np.ones_like(y)
    mask[:20, 1] = 0
    w, b = fit_logistic(x, y, mask, 2.0)
    for j in range(2):
        rows = mask[:, j] > 0
        t = y[rows, j]
        ratio = (t == 0).sum() / (t == 1).sum()
        ref = LogisticRegression(C=2.0, class_weight={0: 1.0, 1: np.sqrt(ratio)}, max_iter=5000, tol=1e-8)
        ref.fit(x[rows], t)
        np.testing.assert_allclose(w[j], ref.coef_[0], atol=2e-2)
        assert b[j] == pytest.approx(ref.intercept_[0], abs=2e-2)


def test_a_label_with_one_class_gets_a_fixed_bias() -> None:
    x = np.eye(4)
    w, b = fit_logistic(x, np.zeros((4, 1)), np.ones((4, 1)), 1.0)
    assert b[0] == -10.0 and not w.any()


def test_language_shift_moves_translations_towards_their_originals() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(12, 6))
    offset = np.array([0.5, 0, 0, 0, 0, 0])
    rows = [LabelledText(f"en {i}", "en", (), (), f"g{i}") for i in range(12)]
    rows += [LabelledText(f"ar {i}", "ar", (), (), f"g{i}") for i in range(12)]
    emb = np.vstack([base, base - offset])
    langs, shifts = language_shifts(rows, emb)
    assert langs == ("ar",)
    np.testing.assert_allclose(shifts[0], offset, atol=1e-6)
    moved = apply_shifts(emb[12:], ["ar"] * 12, langs, shifts)
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    english = emb[:12]
    assert apply_shifts(english, ["en"] * 12, langs, shifts) is english  # English is never moved


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=6))
def test_imputed_halves_are_unit_scaled(n: int) -> None:
    rng = np.random.default_rng(n)
    use = rng.normal(size=(40, USE_DIM)).astype(np.float32)
    mini = rng.normal(size=(40, 384)).astype(np.float32)
    mapping = fit_impute(use, mini)
    emb = np.full((n, USE_DIM + 384), np.nan, dtype=np.float32)
    emb[:, :USE_DIM] = use[:n]
    out = impute(emb, mapping)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(np.linalg.norm(out[:, USE_DIM:], axis=1), HALF, atol=1e-4)


def test_heads_with_shifts_and_map_round_trip(tmp_path: Path) -> None:
    fitted = _Fitted(
        np.ones((2, 3)), np.zeros(2), np.ones((1, 3)), np.zeros(1, dtype=int), np.zeros(3), 0.0,
        np.array([0.3, 0.4]), "v", ("ar", "fr"), np.ones((2, 3)), np.ones((3, 2)),
    )
    save_fitted(tmp_path / "h.npz", fitted)
    back = load_fitted(tmp_path / "h.npz")
    assert back.shift_languages == ("ar", "fr") and back.version == "v"
    np.testing.assert_array_equal(back.shifts, fitted.shifts)
    np.testing.assert_array_equal(back.impute, fitted.impute)


def test_ingest_passes_each_originals_overlapping_english_as_its_pivot() -> None:
    from pipeline.records import Sentence
    from pipeline.themes.attach import flag_sentences

    calls: list[dict] = []

    class Recording(Flagger):
        reads_pivots = True  # as with the pivot encoder

        def flag_texts(self, texts, **kwargs):  # noqa: ANN001, ANN003, ANN201 - a test double
            calls.append(kwargs)
            return super().flag_texts(texts, **kwargs)

    flagger = Recording.cues_only()
    originals = [Sentence(index=0, start=0.0, end=2.0, text="كنت خائفا", language="ar"),
                 Sentence(index=1, start=2.0, end=4.0, text="ثم هربنا", language="ar")]
    english = [Sentence(index=0, start=0.1, end=1.9, text="I was afraid", language="en"),
               Sentence(index=1, start=2.1, end=3.9, text="then we ran away", language="en")]
    flags = flag_sentences(originals, flagger, english, language="ar")
    assert len(flags) == 2
    assert calls[0]["pivots"] == ["I was afraid", "then we ran away"]
    assert not Flagger.cues_only().reads_pivots
