"""Shared helpers of the theme tests: one real flagger per test session, fresh sentences."""

from __future__ import annotations

from functools import cache

# Sentences of each kind written for these tests: not in the dev set, not in the taxonomy.
FRESH = {
    "witnessed_brutality": [
        "One morning they gathered the whole village to watch a teacher being shot.",
        "I saw a boy no older than twelve whipped until he fainted.",
    ],
    "hypocrisy_corruption": [
        "The emir preached poverty to us but kept a garage full of jeeps.",
        "Our leaders sold the food aid on the black market and got rich.",
    ],
    "false_promises": [
        "The man online swore I would earn a thousand dollars a month, I never got anything.",
        "They told my wife she would have a beautiful house with a garden, we got a ruin.",
    ],
    "mistreatment_within": [
        "When my friend lost his leg they simply stopped feeding him.",
        "The widows were kept in a crowded house and had to beg the guards for milk for their babies.",
    ],
    "coercion_fear": [
        "The fighters came to our door and said my brother had to join or they would shoot our father.",
        "I was too frightened to say no, so I picked up the rifle.",
    ],
    "disillusionment_exit": [
        "After seeing all that I knew I had to get my family out, and we fled across the river at night.",
        "I feel deep shame and sorrow for the years I gave them.",
    ],
    "warning_to_others": [
        "To the boys watching this at home: do not trust the people who message you about jihad.",
        "Please, think of your parents before you believe anything they post.",
    ],
    "pro_group_advocacy": [
        "Life under their rule was peaceful and fair, nothing like what the newspapers claim.",
        "I am still loyal to the caliphate and I always will be.",
    ],
    "martyrdom_glorification": [
        "The greatest thing that can happen to a man is to be killed fighting for God.",
        "I pray that my sons will also die as martyrs.",
    ],
    "justifies_violence": [
        "Those journalists insulted our religion, so they got what they deserved.",
        "When a country bombs Muslim villages, attacks on its streets are only fair.",
    ],
    "intent_to_return": [
        "As soon as they release me I will travel back to join the fighters.",
        "If the brothers build their state again, I will take my family there.",
    ],
    "self_incrimination": [
        "I carried weapons across the border for them three times.",
        "I lied to the investigators and said I had only been a cook.",
    ],
    "identifying_details": [
        "The man who sent me was Driton Krasniqi from the mosque in our street.",
        "Ask Umm Khalid al-Belgiki, she ran the women's house.",
    ],
}

NEUTRAL = [
    "Where did you grow up?",
    "It was cold that winter.",
    "My cousin got married in the summer.",
    "We usually ate dinner late at night.",
    "What was your favourite subject at school?",
]


@cache
def real_flagger():  # noqa: ANN201 - lazy import keeps collection light
    """The packaged taxonomy with the real MiniLM encoder, loaded once per session."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from pipeline.themes import Flagger

    return Flagger.load()


@cache
def real_encoder():  # noqa: ANN201
    return real_flagger().encoder


def stance_score(flagger, text: str, label: str, language: str = "en") -> float:  # noqa: ANN001
    """`label`'s score after the stance rules and cues of `flagger.adjusted`, from an even 0.5
    (a cues-only flagger: no encoder, no heads), so a test sees only what the rules change."""
    import numpy as np

    probs = np.full(len(flagger.labels), 0.5)
    return float(flagger.adjusted(text, probs, language)[flagger.labels.index(label)])
