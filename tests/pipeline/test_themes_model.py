"""The real flagger (MiniLM encoder + fitted classifiers) on sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.themes import RISK_IDS, THEME_IDS, Flagger, FlagOptions, default_taxonomy_path, load_taxonomy
from tests.pipeline.themes_support import FRESH, NEUTRAL, real_flagger

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def flagger() -> Flagger:
    return real_flagger()


def test_every_label_fires_on_fresh_sentences_of_its_kind(flagger: Flagger) -> None:
    assert set(FRESH) == set(THEME_IDS + RISK_IDS)
    texts = [t for sentences in FRESH.values() for t in sentences]
    flags = iter(flagger.flag_texts(texts))
    missed = []
    for label, sentences in FRESH.items():
        for text in sentences:
            f = next(flags)
            if label not in f.labels:
                missed.append((label, text, f.scores[label]))
            else:
                # Every reason is something a reviewer can read: a cue, a name or an exemplar.
                reasons = ("cue ", "name found", "close to exemplar", "sounds like a risk", "classifier ")
                assert f.why[label].startswith(reasons), f.why[label]
    assert not missed


def test_neutral_interview_talk_gets_no_label(flagger: Flagger) -> None:
    for f in flagger.flag_texts(NEUTRAL):
        assert f.labels == (), (f.text, f.labels)


def test_scores_cover_every_entry_and_stay_in_range(flagger: Flagger) -> None:
    [f] = flagger.flag_texts(["They made us watch the executions every Friday."])
    assert set(f.scores) == set(THEME_IDS + RISK_IDS)
    assert all(0.0 <= v <= 1.0 for v in f.scores.values())
    assert set(f.why) == set(f.labels)


def test_refusal_to_return_is_not_a_risk(flagger: Flagger) -> None:
    [f] = flagger.flag_texts(["I will never go back to them, not for anything."])
    assert not set(f.labels) & set(RISK_IDS)


def test_new_entry_learned_from_its_exemplars_only(tmp_path: Path) -> None:
    entry = """
  - id: prison_conditions
    kind: theme
    title: Prison conditions
    definition: Life in detention after leaving the group.
    threshold: 0.5
    cues: {en: [], fr: [], ar: [], sq: [], bs: []}
    exemplars:
      - In the detention centre forty of us shared one cell and one toilet.
      - The guards in the camp gave us one meal a day and no blankets.
      - We waited in that prison for two years without ever seeing a lawyer.
      - The camp for detainees was overcrowded and disease spread quickly.
      - After I surrendered they kept me in a cell underground for months.
      - The camp guards beat the prisoners when they asked for water.
      - In detention we slept in shifts because there was no room to lie down.
      - There were no doctors in the prison, men died of simple infections.
"""
    path = tmp_path / "taxonomy.yaml"
    path.write_text(default_taxonomy_path().read_text(encoding="utf-8") + entry, encoding="utf-8")
    # Without interview sentences for the new entry its threshold is the default, not calibrated.
    options = FlagOptions(interview_exemplars=False)
    flagger = Flagger.load(load_taxonomy(path), options=options, encoder=real_flagger().encoder)
    [f] = flagger.flag_texts(["In the jail we slept on a concrete floor, thirty men in a small room."])
    assert "prison_conditions" in f.labels
    assert "close to exemplar" in f.why["prison_conditions"]


def test_condemnation_of_violence_is_not_justification(flagger: Flagger) -> None:
    [f] = flagger.flag_texts(["Nothing in this world can excuse the murder of people who harmed nobody."])
    assert "justifies_violence" not in f.labels


def test_what_others_did_is_no_admission(flagger: Flagger) -> None:
    text = "Two young men from the brigade were shot by their own emir when they tried to run."
    [f] = flagger.flag_texts([text])
    assert "self_incrimination" not in f.labels
