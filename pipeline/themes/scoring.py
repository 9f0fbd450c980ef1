"""Scoring sentences against the taxonomy: a classifier on sentence embeddings, plus cue phrases
and name detection, each leaving a reason a reviewer can read.

Per label, one logistic regression is fitted at load time on MiniLM embeddings of the taxonomy's
exemplars (positives), of every other entry's exemplars and the neutral talk (negatives), and of
the entry's own look-alike negatives. Fitting takes well under a second and is deterministic; the
embeddings and weights are cached by taxonomy digest so a warm load only reads a small file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path
from pipeline.errors import ModelError
from pipeline.records import SentenceFlags
from pipeline.themes.cue_phrases import CueHit, CueMatcher
from pipeline.themes.encoder import Encoder, model_cache_dir, packaged_minilm_dir
from pipeline.themes.language import detect_language
from pipeline.themes.lexical import Lexicon, NeighbourWords
from pipeline.themes.multilingual import MultilingualEncoder
from pipeline.themes.person_names import find_details, find_names
from pipeline.themes.stance_ar import speaker_acts as speaker_acts_ar
from pipeline.themes.stance_ar import speaker_in as speaker_in_ar
from pipeline.themes.taxonomy import CREDIBILITY_RISKS, Taxonomy, load_taxonomy

NAME_LABEL = "identifying_details"
# An interviewer's question ("How long were you there?") carries the topic, not the speaker's
# stance: the classifier's scores for it are damped (cues still count).
INTERVIEWER_QUESTION = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay|now|then|well)\W+)*(?:how|what|when|where|why|who|which|did|do|does|"
    r"were|was|are|is|can|could|would|will|have|had|tell me|describe)\b[^?]*\byou(?:r)?\b[^?]*\?\W*$",
    re.IGNORECASE,
)
# Risks about the speaker's own deeds and plans: a sentence with no first person cannot admit a
# crime or announce a return, however close its topic. An admission needs the speaker as the one
# acting ("I", "we", "me and my friends", "my job was"); "in my group two boys were shot" admits
# nothing. A plan may be stated through a possessive ("my plan is to rejoin them").
_I = r"i|i[’']m|i[’']ve|i[’']d|i[’']ll|me|we|we[’']re|we[’']ve|we[’']d|we[’']ll"
FIRST_PERSON = {
    "self_incrimination": re.compile(
        rf"\b(?:{_I}|my (?:job|work|task|role|duty|position))\b", re.IGNORECASE
    ),
    "intent_to_return": re.compile(rf"\b(?:{_I}|my|mine|myself|us|our|ours|ourselves)\b", re.IGNORECASE),
}
# With stance_v3 an admission needs the speaker as the one acting: "they beat me" admits nothing.
SPEAKER_ACTS = re.compile(
    r"\b(?:i|i[’']m|i[’']ve|i[’']d|i[’']ll|we|we[’']re|we[’']ve|we[’']d|we[’']ll|me and|myself|"
    r"my (?:job|work|task|role|duty|position))\b",
    re.IGNORECASE,
)
# An interpreter reports the speaker in the third person ("He says he was a member of the police",
# "she admits she sent money"): the speaker is still the one who acts.
INTERPRETED = re.compile(
    r"\b(?:he|she)\W+(?:says|said|is saying|admits|admitted|explains|explained|tells (?:us|me)|"
    r"told (?:us|me)|claims|adds|added|means)\W+(?:that\W+)?(?:he|she|his|her)\b"
    r"|\b(?:he|she) admits\b|\bthe (?:translator|interpreter) says\b",
    re.IGNORECASE,
)
# French: the speaker as the one acting ("je", "j'", "nous", "on", "mon travail") or planning
# ("mon", "notre"); the interpreter's third person ("il dit qu'il...") counts as the speaker.
FIRST_PERSON_FR = {
    "self_incrimination": re.compile(
        r"\bj[’']|\b(?:je|nous|on|moi|mon (?:travail|boulot|rôle|poste)|ma (?:tâche|mission))(?=\W)",
        re.IGNORECASE,
    ),
    "intent_to_return": re.compile(
        r"\b[jm][’']|\b(?:je|nous|on|moi|me|mon|ma|mes|notre|nos)(?=\W)", re.IGNORECASE
    ),
}
INTERPRETED_FR = re.compile(
    r"\b(?:il|elle)\W+(?:dit|explique|reconnaît|admet|raconte|ajoute)\W+(?:qu[’'](?:il|elle)|que)\b"
    r"|\bl[’']interprète dit\b|\bla traductrice dit\b|\ble traducteur dit\b",
    re.IGNORECASE,
)
# Only English text is judged for a missing first person (the classifier reads English).
ENGLISH = re.compile(r"\b(?:the|and|they|was|were|is|are|of|to|he|she|it|them|there|this)\b", re.IGNORECASE)
# A sentence that says violence cannot be excused ("nothing can justify it", "there is no excuse
# for killing") speaks against it, though its embedding sits next to the justifications.
CONDEMNS = re.compile(
    r"\b(?:no|nothing|never|nobody|none|cannot|can[’']t|not)\b(?:\W+\w+){0,5}?\W+"
    r"(?:justif\w*|excus\w*|allows?|allowed|permits?|permitted|(?:an? )?reasons?|right to kill)\b"
    # ... or names it for what it is ("it was a crime", "I condemn every attack", "they were innocent").
    r"|\bI (?:condemn|reject)\b|\b(?:was|is|were|are) (?:an? )?(?:crime|genocide|massacre|murder|terrorism|"
    r"terrible|horrible|horrific|monstrous|inhuman)\b"
    r"|\b(?:they|those people|the victims|these people) (?:were|are) innocent\b"
    # ... or says it was no more than that ("it was just killing", "this is not jihad"; phase 6).
    r"|\b(?:was|is|were|are) (?:just|only|simply|plain|pure|nothing but) "
    r"(?:killing|murder|a crime|terrorism)\b"
    r"|\b(?:is|was) not (?:a )?jihad\b",
    re.IGNORECASE,
)
# The same in French and Arabic ("c'était un crime", "je condamne", "كان جريمة", "أدين").
CONDEMNS_FR_AR = re.compile(
    r"\b(?:c[’']était|c[’']est|était|étaient|ce sont|c[’']étaient) (?:un |une |des )?"
    r"(?:crimes?|massacres?|meurtres?|assassinats?|horrible|terrible|monstrueux|inhumain)\b"
    r"|\bje (?:condamne|rejette)\b|\brien ne (?:peut )?justifie\b"
    r"|\b(?:ils|elles|ces gens|les victimes) (?:étaient|sont) innocent(?:e|s|es)?\b"
    r"|(?:كان|كانت|هو|هي|هذا|هذه) (?:جريمة|مجزرة|إرهابا|إرهاب)|أدين|أستنكر|كانوا أبرياء"
    r"|لا شيء يبرر|لا يوجد ما يبرر"
    # Phase 6: "c'était juste un meurtre", "ce n'est pas le jihad", "كان مجرد قتل", "هذا ليس جهادا".
    r"|\b(?:c[’']était|c[’']est) (?:juste |seulement |simplement )?(?:du |un )?(?:meurtre|tuerie)\b"
    r"|\bce n[’'](?:est|était) pas (?:le |du )?jihad\b"
    r"|مجرد قتل|(?:كان|هذا|هذه|إنه|أنه) قتل(?!\w)|ليس جهادا|ليس هذا جهادا|قتل (?:ال|لل)أبرياء",
    re.IGNORECASE,
)
# A martyr's title refused ("he is not a martyr to me", "he died for nothing"): the sentence speaks
# against the death it names (phase 6).
REFUSES_MARTYRDOM = re.compile(
    r"\b(?:is|was|were|are)(?: not|n[’']t| no) (?:a )?martyrs?\b|\bdied for nothing\b"
    r"|\bn[’'](?:est|était) pas (?:un )?martyr|\bmort pour rien\b"
    r"|ليس شهيدا|ليس بشهيد|لم يكن شهيدا|ليسوا شهداء|مات من أجل لا شيء|ماتوا من أجل لا شيء|مات بلا سبب",
    re.IGNORECASE,
)
MARTYRDOM_RISK = "martyrdom_glorification"
CONDEMNED_RISK = "justifies_violence"
CACHE_VERSION = "7"  # phase 7: stance regexes changed (calibration reads them)
# A speaker telling others not to go back ("don't go back to them") warns; it announces no return.
WARNS = re.compile(
    r"\b(?:don[’']t|do not|never|ne|n[’']|لا)\W+(?:\w+\W+){0,2}?(?:go|going|return|join|listen|believe|trust|"
    r"allez|retourne\w*|rejoign\w*|écoute\w*|تذهب\w*|ترجع\w*|تعود\w*|تستمع\w*"
    # phase 7: Arabic "don't believe / trust / be fooled" ("لا تصدقوهم", "لا تنخدعوا")
    r"|تصدق\w*|تثق\w*|تنخدع\w*|تسمع\w*)",
    re.IGNORECASE,
)
WARNED_RISK = "intent_to_return"
# The speaker refusing to go back ("I don't want to go back there, not ever") announces no return.
REFUSES_RETURN = re.compile(
    r"\bI\W+(?:do not|don[’']t|will never|would never|won[’']t|will not|would not|wouldn[’']t|never|"
    r"can never)\W+(?:\w+\W+){0,2}?(?:go|going|return|rejoin)\b"
    r"|\bje ne (?:veux|vais|voudrais) (?:pas|jamais|plus) (?:y )?(?:retourner|repartir)"
    r"|\bje n[’']y (?:retournerai|retourne|retournerais) jamais"
    r"|لن أعود|لن أرجع|لا أريد أن (?:أعود|أرجع)"
    # phase 7: done with them ("انتهيت منهم", "I am done with them", "j'en ai fini avec eux")
    r"|انتهيت منهم|\bI(?:[’']m| am) done with them\b|\bj[’']en ai fini avec eux\b",
    re.IGNORECASE,
)
CUES_ONLY_WEIGHT = 0.6
ADMISSION_RISK = "self_incrimination"
UNDERGONE = re.compile(
    r"\b(?:arrested|detained|picked (?:me|us) up|questioned|interrogated|deported|sentenced|convicted|"
    r"travel(?:l)?ed|flew|took (?:a|the) (?:flight|plane|bus)|crossed|went to Syria|converted|"
    r"became a Muslim|born|grew up|studied|repatriated|released|testified|"
    r"arrêtée?s?|condamnée?s?|convertie?s?|interrogée?s?|garde à vue|expulsée?s?|"
    r"voyagé|"
    r"\w*اعتقل\w*|\w*سافر\w*|\w*اعتنق\w*|\w*استجوب\w*|\w*حقق\w*|حكم علي\w*|\w*رحلو\w*)",
    re.IGNORECASE,
)
# Arabic short vowels and other marks: "اعتُقلت" (I was arrested) must match "اعتقل".
ARABIC_MARKS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
# A claim the speaker reports and refutes ("they said it was a state with justice, but...; it was
# a lie") quotes the group's words against it: the embedding reads the quoted praise as advocacy.
REPORTED_CLAIM = re.compile(
    r"\b(?:they|he|she|the recruiters?|the man|the videos?|ils|il|elle|on)\b\W+(?:\w+\W+){0,2}?"
    r"(?:said|told|promised|claimed|showed|preach\w*|called|disaient|ont dit|a dit|promett\w*|promis)\b"
    r"(?=.*\b(?:but|lie|lies|lying|liars?|not true|instead|there was no|nothing|hypocrit\w*|mais|mensonge\w*|"
    r"menti|rien)\b)"
    r"|(?:قالوا|وعدوا|وعدني|وعدونا|أروني|يقولون|كانوا يقولون)(?=.*(?:لكن|كذب|كذبا|لم تكن|لم يكن|بل))",
    re.IGNORECASE,
)
# A speaker disowning the group ("I do not support them", "I am not one of them").
DISAVOWS = re.compile(
    r"\bI\W+(?:do not|don[’']t|never|no longer|did not|didn[’']t)\W+(?:\w+\W+)?"
    r"(?:support|agree|believe|defend)"
    r"|\bnot one of them\b|\bje ne (?:les )?(?:soutiens|suis) (?:pas|plus)\b|لا أؤيد|لست منهم|لا أدعم"
    # phase 7: Arabic "I no longer believe them", "I lost my faith in them"
    r"|لم أعد أصدق|لم أعد أؤمن|فقدت إيماني بهم|فقدت ثقتي بهم|لا أؤمن بهم",
    re.IGNORECASE,
)
# A speaker calling what they were told untrue ("None of it was true.", "it was all lies"): the
# refutation of a recruiter's promise said on its own, after the claim's sentence, is never
# advocacy (the demo's own "None of it was true." was flagged so after the phase-6 refit).
REFUTES = re.compile(
    r"\b(?:none of (?:it|this|that|them)|all of (?:it|this|that)|it|this|that|everything|all)\W+"
    r"(?:was|were|is|are)\W+(?:(?:all|just|only)\W+)?(?:not true|untrue|a lie|lies|false|nonsense)\b"
    r"|\b(?:none of (?:it|this|that|them)|nothing(?: of (?:it|this|that))?)\W+(?:was|were|is|are)\W+true\b"
    r"|\brien de (?:tout )?(?:cela|ça) n.(?:était|est) vrai|\bc.était (?:un )?mensonges?\b"
    r"|\btout (?:ça|cela) (?:était|c.était) (?:faux|mensonges?)\b"
    r"|لم يكن (?:شيء|أي شيء) من (?:ذلك|هذا) صحيحا|كان كل ذلك كذبا|كله كذب|كل ذلك كان كذب",
    re.IGNORECASE,
)
ADVOCACY_RISK = "pro_group_advocacy"
# The media as the claimant ("everything they say on the news about the state is a lie"): calling
# its claims lies defends the group, the opposite of a refuted recruiter's promise (phase 6).
MEDIA = re.compile(
    r"\b(?:the media|the news|journalists?|newspapers?|the press|TV|television|les médias|"
    r"les journalistes|la presse|les infos|la télé|les journaux)\b"
    r"|الإعلام|الاعلام|الصحفي|الصحف|الأخبار|الاخبار|التلفزيون|التلفاز",
    re.IGNORECASE,
)
# A speaker denying a deed ("I never fought", "I didn't take part in any operation", "which is not
# true") admits nothing, though the deed's words are in the sentence.
DENIES = re.compile(
    r"\b(?:I|we)\W+(?:never|did not|didn[’']t|have never|had never|was never|were never)\W+(?:\w+\W+){0,2}?"
    r"(?:fought|fight|kill\w*|took part|take part|held|hold|carried|carry|touched|shot|shoot|hurt|joined)\b"
    r"|\b(?:is|was) not true\b|\bje n[’'](?:ai|avons) jamais\b|لم أقاتل|لم أقتل|لم أشارك"
    # phase 7: Arabic "I never carried / touched a weapon, never fired"
    r"|لم أحمل|لم ألمس|لم أطلق|ما حملت|ما قاتلت",
    re.IGNORECASE,
)
DEED = re.compile(
    r"\b(?:I|we) (?:killed|shot|fought|recruited|guarded|beat|tortured|sold|bought|smuggled|planted|"
    r"built|made|took part|was a (?:fighter|guard|member)|worked (?:for|in|at) (?:the|their|them))",
    re.IGNORECASE,
)
# Interview sentences written in the voice of transcripts (issue 15's dev split), packaged as
# extra exemplars: the taxonomy's tidy wording alone sits far from real testimony.
INTERVIEW_EXEMPLARS = "data/interview_exemplars.jsonl"


@dataclass(frozen=True, slots=True)
class FlagOptions:
    """How scores are made and thresholded.

    theme_threshold: a theme fires when its score reaches this (0.6), unless its taxonomy entry
        sets its own `threshold`.
    risk_threshold: likewise for risks (0.25, lower: a missed risk costs more than a false alarm,
        which a reviewer dismisses in a second).
    cue_weight: evidence a matched cue adds, combined as 1 - (1 - p)(1 - w) with the classifier's
        probability p (0.3: evidence, not a flag by itself; issue 15 found cues on ordinary words).
    precise_cue_weight: the same for a taxonomy entry's `precise_cues` (0.95: raises the flag alone).
    cue_needs_model: at flag time, a label backed only by ordinary (not precise) cues keeps the
        cue's evidence only when the classifier alone reaches this share of the label's threshold
        (None: always). With risk thresholds near 0.2, a cue's 0.3 raised a risk by itself
        ("proud of" on a son's judo belt): issue 15 wants a cue alone to flag only where precise.
    undergone_factor: self-incrimination's probability is multiplied by this (0.1) when the sentence
        tells of being arrested, travelling or converting and admits no deed.
    calibrate: thresholds per label out of fold on the interview exemplars (True).
    interview_exemplars: train on the packaged interview-voice sentences too (True).
    multilingual: use the multilingual USE encoder (True); False: English MiniLM as before.
    name_score: score of `identifying_details` when a personal name is found (0.9).
    negated_factor: a label whose only cues are negated ("I would never go back") has its score
        multiplied by this (0.4), since embeddings barely see negation.
    question_factor: the classifier's probabilities for an interviewer's question are multiplied
        by this (0.5).
    first_person_factor: the classifier's probabilities for self-incrimination and intent to
        return are multiplied by this (0.3) in an English sentence without the speaker in it (for
        an admission "I", "we" or "me"; for a plan also "my", "us", "our"): both are about the
        speaker's own deeds and plans, and alone the classifier took "in my group two boys were
        shot for trying" for an admission. Cues count in full.
    condemnation_factor: the classifier's probability for `justifies_violence` is multiplied by
        this (0.3; 0.4 until phase 5, where the C = 8 heads read "was plain murder, nothing excuses
        it" as a justification at 0.4, and out of fold 0.3 scored the same: English macro-F1 0.790
        vs 0.793, Arabic 0.799 vs 0.792) when the sentence denies that violence can be justified or
        excused ("there is no excuse", "nothing can justify it", "no religion allows this"), and so
        is the any-risk gate's; cues count in full.
    identifying_model_factor: the classifier's probability for `identifying_details` is multiplied
        by this (0.5) unless a name or a cue backs it: names and addresses are surface features the
        embedding barely sees, and alone it took "my brother studies medicine in Zagreb" for one.
    advocacy_margin: when a credibility risk (advocacy, martyrdom, justifying violence, return)
        fires, a theme is kept only if its evidence beats the risk's by this much (0.1): themes
        speak against the group, so in a sentence that speaks for it they are usually echoes.
    cue_bonus: in that comparison, a label backed by a cue (or a name) counts this much more (0.5).
    risk_yield: a credibility risk found by the classifier alone, scoring below this (0.6), is
        dropped when a cue-backed theme in the same sentence is clearly stronger ("I will never
        go back to them" is not advocacy).
    regularisation: inverse L2 strength C of the logistic regressions (8; 4 in phase 4: with 2144
        training rows, 610 of them translations, C = 8 scored best out of fold in phase 5, English
        macro-F1 0.785 -> 0.793, French 0.811 -> 0.815, Arabic 0.781 -> 0.792; bench/RESULTS.md).
    risk_beta, theme_beta: calibrated thresholds maximise F-beta out of fold with these betas
        (2.0: recall counts twice for risks; 1.0 for themes).
    language_shift: move the vectors of non-English text by the mean difference between English
        sentences and their translations in the training rows, then renormalise (True): the
        multilingual encoder puts a translation near its original, but every Arabic or French
        vector sits a little off in the same direction, which heads trained mostly on English read
        as a lower score. Out of fold on the retired splits it raised French macro-F1 0.730 ->
        0.765 and Arabic 0.594 -> 0.602 (bench/RESULTS.md, phase 3).
    stance_v3: the phase-3 stance rules (True): advocacy's probability is multiplied by
        condemnation_factor in a warning ("don't trust them"), a reported and refuted claim ("they
        said it was a state with justice, but it was a lie") or a disavowal ("I do not support
        them"); an admission needs the speaker as subject ("I", "we"), not as object ("they
        beat me"), and a denied deed ("I never fought") weighs less as one. Out of fold: English
        macro-F1 0.677 -> 0.685, any-risk precision 0.65 -> 0.69 (before the denial rule).
    pivot_encoder: read each sentence with USE on its own text and English MiniLM on its English
        pivot (pipeline/themes/pivot.py) instead of USE alone (False: out of fold it scored higher,
        English macro-F1 0.698 -> 0.710, but reads about 2.5 times fewer sentences per CPU-second,
        below the 500 sentences/s target; bench/RESULTS.md).
    lexical: fit the heads on the embedding and word features side by side (lexical.py; True): the
        embedding reads the topic, the words keep who did what ("I drove", "would go back"). Out of
        fold on the retired splits (phase 4) English macro-F1 0.704 -> 0.790, any-risk recall
        0.835 -> 0.893, precision 0.732 -> 0.836, neutral flagged 14.9% -> 10.2%; Arabic 0.654 ->
        0.745 (bench/RESULTS.md, phase 4).
    lexical_scale: weight of the word features beside the unit-length embedding (1.0; 1.5 raised
        English recall a little and lowered French and precision).
    neighbour_words: a sentence in another language also gets `neighbour_weight` (0.5) x the mean
        word features of its 5 nearest English interview sentences (lexical.NeighbourWords; True):
        the word weights are learned mostly from English. Out of fold (phase 4): Arabic macro-F1
        0.726 -> 0.764, French 0.798 -> 0.804, English 0.805 -> 0.794 (weight 1.0: Arabic 0.763,
        English 0.787; 0.3: Arabic 0.748).
    calibrate_english: calibrate the thresholds on the English training rows only (True): with
        610 translated rows calibrated too, the risk thresholds fell and English any-risk
        precision went 0.79 -> 0.74 and neutral talk flagged 9% -> 13% out of fold (phase 5).
    translation_weight: the weight of a training row in another language in the heads' fit (1.0):
        a translation sits next to its original in the embedding, so each translated sentence
        counts about three times.
    stance_fr_ar: French sentences need the speaker as the one acting for an admission or a plan
        to return (as English does, `first_person_factor`), and French or Arabic sentences that
        call an attack a crime damp justification (as `CONDEMNS` does in English) (True; out of
        fold French macro-F1 0.805 -> 0.811, Arabic 0.778 -> 0.781, English unchanged).
    stance_ar: Arabic sentences need the speaker as the one acting for an admission, and the
        speaker at all for a plan to return (stance_ar.py: person marks on the verb, "أنا", the
        interpreter's "يقول إنه"), as English and French do (True; phase 6, bench/RESULTS.md).
    gate_stance: the any-risk gate adds nothing when its likeliest risk was damped by a stance
        rule without a cue backing it (True; phase 6): the gate reads the topic, and before this
        it put back the very admission or return that a rule had ruled out.
    condemnation_damps_advocacy: a sentence that condemns an attack (`CONDEMNS`, `CONDEMNS_FR_AR`)
        has its advocacy probability multiplied by condemnation_factor too (True; phase 6: "the
        attack on Brussels was a crime" read in Arabic as advocacy).
    refused_martyrdom: a refused martyr's title ("to me he is not a martyr", "he died for
        nothing") multiplies martyrdom's probability by condemnation_factor (True; phase 6).
    media_claims: a claim reported from the media and called a lie (`MEDIA`) is not a refuted
        claim of the group: advocacy is not damped for it (True; phase 6).
    refusal_factor: the speaker refusing to go back ("I will never go back to them", "لن أعود")
        multiplies the probability of intent to return by this (0.1; condemnation_factor, 0.3,
        until phase 6: out of fold Arabic neutral talk flagged 14.8% -> 13.9%, English unchanged).
    calibrate_arabic: also calibrate a second set of thresholds on the Arabic training rows alone,
        used for Arabic text (phase 7): the thresholds calibrated on English rows sit where
        English scores fall, and Arabic scores of the same sentences fall lower or higher by
        label.
    advocacy_yields: advocacy found by the classifier alone, below risk_yield, is dropped when
        another credibility risk (martyrdom, justification, return) clears its own threshold by
        more (phase 7): out of fold Arabic advocacy fired beside the sentence's real risk ("the
        brothers who did the operations are heroes", "the punishments were God's law"). The
        sentence keeps a risk either way (True; out of fold Arabic macro-F1 0.795 -> 0.798,
        French 0.811 -> 0.814, English 0.807 -> 0.808, any-risk recall unchanged).
    stable_thresholds: choose each label's threshold on the F-beta curve averaged over
        `threshold_bootstrap` bootstrap resamples of the pooled out-of-fold scores and smoothed
        over neighbouring grid points, then shrink it toward the taxonomy default by
        `threshold_prior_weight` pseudo-positives (True; phase 7b): the top of one jagged curve
        moved thresholds by up to 0.2 between refits (advocacy 0.25 -> 0.125, hypocrisy 0.525 ->
        0.65) and carried badly to the next sealed split. With 40 pseudo-positives (10 moved them
        about as much) the thresholds' range between the five fold fits fell from 0.160 to 0.092
        on average (max 0.300 -> 0.183), out of fold English macro-F1 0.809 -> 0.806, any-risk
        recall 0.941 -> 0.938, neutral talk flagged 9.2% -> 8.6%, Arabic 13.1% -> 8.6%.
    max_threshold_step: with `anchor_thresholds` given to `fit_heads` (the heads being replaced),
        no calibrated threshold moves further than this from its anchor (0.1).
    batch_size: sentences per encoder batch (64).
    cache: keep exemplar embeddings and fitted weights in the model cache directory (True).
    threads: encoder threads; None: one for the multilingual encoder (see multilingual.py), up to
        4 for MiniLM.
    balanced_risks: weigh the positives of risk classifiers by the full class ratio instead of
        its square root (False). Every classifier weighs its positives by the square root of
        (negatives / positives): fully balanced weights made ordinary first-person talk ("I used
        to play basketball") look like self-incrimination, unweighted ones never let an entry
        with a handful of exemplars fire. Risk recall comes from the lower threshold and cues.
    risk_gate: when no risk label fired but the pooled any-risk classifier reaches this
        probability (0.7), the best-scoring risk is added anyway, its score raised to its
        threshold; None turns the gate off. On the third blind check set it lifted any-risk
        recall from 0.81 to 0.94 (precision 0.87 -> 0.83). Off in phases 2-3; on at 0.7 since the
        heads read word features (phase 4, out of fold: any-risk recall 0.883 -> 0.908, precision
        0.875 -> 0.850, neutral flagged 7.3% -> 8.4%).
    theme_fallback: a sentence left with no label at all gets its best theme when that theme
        scores at least this (0.35); None turns it off. Across the dev and holdout sets it raised
        mean macro-F1 from 0.83 to 0.84 (0.71 -> 0.75 on the least-tuned set) with no new labels
        on neutral talk.
    gate_regularisation: inverse L2 strength C of that classifier (1.0).
    int8: run the encoder with per-channel int8 weights: twice the speed of fp32 (~620 vs ~290
        sentences per CPU-second) and scores that correlate 0.995 with fp32, but its activation
        scales are per batch, so a sentence's vector depends on its neighbours (cosine down to
        0.983 alone vs in a batch). Off by default: flags must not change with batching (False).
    """

    theme_threshold: float = 0.6
    risk_threshold: float = 0.25
    cue_weight: float = 0.3
    precise_cue_weight: float = 0.95
    undergone_factor: float = 0.1
    name_score: float = 0.9
    negated_factor: float = 0.4
    question_factor: float = 0.5
    first_person_factor: float = 0.3
    condemnation_factor: float = 0.3
    identifying_model_factor: float = 0.5
    advocacy_margin: float = 0.1
    cue_bonus: float = 0.5
    risk_yield: float = 0.6
    regularisation: float = 8.0
    batch_size: int = 64
    cache: bool = True
    threads: int | None = None
    int8: bool = False
    balanced_risks: bool = False
    risk_gate: float | None = 0.7
    theme_fallback: float | None = None
    gate_regularisation: float = 1.0
    calibrate: bool = True
    interview_exemplars: bool = True
    multilingual: bool = True
    risk_beta: float = 2.0
    theme_beta: float = 1.0
    language_shift: bool = True
    stance_v3: bool = True
    pivot_encoder: bool = False
    lexical: bool = True
    lexical_scale: float = 1.0
    neighbour_words: bool = True
    neighbour_weight: float = 0.5
    calibrate_english: bool = True
    translation_weight: float = 1.0
    stance_fr_ar: bool = True
    stance_ar: bool = True
    gate_stance: bool = True
    condemnation_damps_advocacy: bool = True
    refused_martyrdom: bool = True
    media_claims: bool = True
    refusal_factor: float = 0.1
    calibrate_arabic: bool = False
    advocacy_yields: bool = True
    stable_thresholds: bool = True
    threshold_bootstrap: int = 50
    threshold_prior_weight: float = 40.0
    max_threshold_step: float = 0.1
    cue_needs_model: float | None = None


@dataclass(frozen=True, slots=True)
class _Fitted:
    weights: np.ndarray  # (labels, dim)
    bias: np.ndarray  # (labels,)
    exemplars: np.ndarray  # (n, dim) unit vectors of the positive exemplars
    exemplar_label: np.ndarray  # (n,) label index of each exemplar row
    gate_weights: np.ndarray  # (dim,) the any-risk classifier
    gate_bias: float
    thresholds: np.ndarray | None = None  # (labels,) calibrated out of fold; None: the defaults
    version: str = ""  # identifies the heads (training data digest), recorded on every flag
    shift_languages: tuple[str, ...] = ()  # languages whose vectors are moved (see language_shifts)
    shifts: np.ndarray | None = None  # (len(shift_languages), dim)
    impute: np.ndarray | None = None  # pivot encoder: USE half -> MiniLM half for text without a pivot
    lexicon_vocab: np.ndarray | None = None  # word features (lexical.py) appended to the embedding
    lexicon_idf: np.ndarray | None = None
    lexical_scale: float = 1.0
    neighbours: tuple[np.ndarray, ...] | None = None  # NeighbourWords arrays (vectors, indptr, indices, data)
    neighbour_weight: float = 1.0
    arabic_thresholds: np.ndarray | None = None  # (labels,) calibrated on Arabic rows (calibrate_arabic)


class Flagger:
    """A loaded taxonomy, encoder and fitted classifiers. Load once with `Flagger.load()`."""

    def __init__(
        self, taxonomy: Taxonomy, encoder: Encoder | None, fitted: _Fitted | None, options: FlagOptions
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.options = options
        self.labels = taxonomy.ids
        self.thresholds = np.array(
            [
                e.threshold
                if e.threshold is not None
                else (options.risk_threshold if e.kind == "risk" else options.theme_threshold)
                for e in taxonomy.entries
            ]
        )
        if fitted is not None and fitted.thresholds is not None:
            self.thresholds = np.array(fitted.thresholds, dtype=float)
        self.language_thresholds: dict[str, np.ndarray] = {}
        if fitted is not None and fitted.arabic_thresholds is not None:
            self.language_thresholds["ar"] = np.array(fitted.arabic_thresholds, dtype=float)
        self._fitted = fitted
        self.model_version = fitted.version if fitted is not None else "cues-only"
        self._cues = CueMatcher(taxonomy)
        self._exemplar_texts = [x for e in taxonomy.entries for x in e.exemplars]
        self._label_rows = (
            [np.flatnonzero(fitted.exemplar_label == j) for j in range(len(self.labels))] if fitted else []
        )
        self._common_words = _common_words(encoder)
        self._lexicon = _lexicon_of(fitted)
        self._word_weights = None
        if self._lexicon is not None and fitted is not None:
            n = len(self._lexicon.vocab)
            both = np.vstack([fitted.weights[:, -n:], fitted.gate_weights[None, -n:]])
            self._word_weights = np.ascontiguousarray((fitted.lexical_scale * both).T, dtype=np.float32)
        self._neighbours = (
            NeighbourWords(*fitted.neighbours, weight=fitted.neighbour_weight)
            if fitted is not None and fitted.neighbours else None
        )

    @classmethod
    def load(
        cls,
        taxonomy: Taxonomy | str | Path | None = None,
        options: FlagOptions | None = None,
        encoder: Encoder | None = None,
        installed: Path | None = None,
    ) -> Flagger:
        """Load the encoder (unless given) and the classifiers for `taxonomy` (default: packaged):
        heads learned from corrections and installed in the directory `installed` when they fit
        this taxonomy, else the shipped heads, else heads fitted now (and cached)."""
        from pipeline.themes.heads import load_installed_heads

        options = options or FlagOptions()
        tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
        if encoder is None:
            if options.pivot_encoder:
                from pipeline.themes.pivot import PivotEncoder

                encoder = PivotEncoder.load(threads=options.threads)
            elif options.multilingual:
                encoder = MultilingualEncoder.load(threads=options.threads)
            else:
                encoder = Encoder.load(threads=options.threads, int8=options.int8)
        fitted = None
        if installed is not None:
            fitted = load_installed_heads(installed, fit_key(tax, encoder.key, encoder.backend, options))
        return cls(tax, encoder, fitted or _fit(tax, encoder, options), options)

    @property
    def reads_pivots(self) -> bool:
        """True when the encoder also reads an English pivot (`flag_texts(..., pivots=)`)."""
        from pipeline.themes.pivot import PivotEncoder

        return isinstance(self.encoder, PivotEncoder)

    def with_heads(self, fitted: _Fitted) -> Flagger:
        """The same taxonomy, encoder and options with other fitted heads (see learning.learn)."""
        return type(self)(self.taxonomy, self.encoder, fitted, self.options)

    @classmethod
    def cues_only(
        cls, taxonomy: Taxonomy | str | Path | None = None, options: FlagOptions | None = None
    ) -> Flagger:
        """A flagger without a model: cue phrases and names only (fast, for tests and fallbacks).
        With no classifier to add evidence to, every cue counts as the old full weight (0.6)."""
        tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
        return cls(tax, None, None, options or FlagOptions(cue_weight=CUES_ONLY_WEIGHT))

    def flag_texts(
        self,
        texts: Sequence[str],
        *,
        use_model: bool = True,
        language: str | Sequence[str | None] | None = None,
        pivots: Sequence[str | None] | None = None,
    ) -> list[SentenceFlags]:
        """Flags for each text. `language`: one code for all texts, one per text, or None to
        detect it per text (cues of that language only; the multilingual encoder reads all).
        `pivots`: an English translation per text where one exists (read by the pivot encoder;
        English text is its own pivot). `use_model=False` skips embeddings (cues and names only)."""
        texts = list(texts)
        if language is None or isinstance(language, str):
            langs = [language or detect_language(t) for t in texts]
        else:
            langs = [lang or detect_language(t) for t, lang in zip(texts, language, strict=True)]
        n, k = len(texts), len(self.labels)
        probs = np.zeros((n, k))
        best = np.full((n, k), -1)
        best_sim = np.zeros((n, k))
        gate = np.zeros(n)
        reads_all = isinstance(self.encoder, MultilingualEncoder)
        if use_model and self._fitted is not None and self.encoder is not None and n:
            fitted = self._fitted
            emb = self._embed(texts, langs, pivots)
            emb = apply_shifts(emb, langs, fitted.shift_languages, fitted.shifts)
            sims = emb @ fitted.exemplars.T
            d = emb.shape[1]
            logits = emb @ fitted.weights[:, :d].T + fitted.bias
            gate_logit = emb @ fitted.gate_weights[:d] + fitted.gate_bias
            if self._lexicon is not None:
                word_logits = self._word_logits(texts, langs, emb)
                logits += word_logits[:, :-1]
                gate_logit += word_logits[:, -1]
            probs = 1.0 / (1.0 + np.exp(-logits))
            gate = 1.0 / (1.0 + np.exp(-gate_logit))
            for j, rows in enumerate(self._label_rows):
                # The closest exemplar of each label, quoted as the reason when only the model fired.
                pick = sims[:, rows].argmax(axis=1)
                best[:, j] = rows[pick]
                best_sim[:, j] = sims[np.arange(n), best[:, j]]
            if not reads_all:
                # The English encoder cannot read other languages: only their cues count.
                other = np.array([lang != "en" for lang in langs])
                probs[other] = 0.0
                gate[other] = 0.0
        return [
            self._combine(texts[i], probs[i], best[i], best_sim[i], float(gate[i]), langs[i])
            for i in range(n)
        ]

    def _word_logits(self, texts: list[str], langs: list[str], emb: np.ndarray) -> np.ndarray:
        """What the word features add to each label's logit and (last column) the gate's; read
        sparsely, since a sentence uses a few dozen of the thousands of features."""
        assert self._lexicon is not None and self._word_weights is not None
        weights = self._word_weights  # (features, labels + 1)
        out = np.zeros((len(texts), weights.shape[1]))
        for i, (cols, vals) in enumerate(self._lexicon.rows(texts)):
            if len(cols):
                out[i] = vals @ weights[cols]
        foreign = [i for i, lang in enumerate(langs) if lang != "en"]
        if self._neighbours is not None and foreign:
            lent = self._neighbours.lend(self._lexicon.transform([texts[i] for i in foreign]), emb[foreign])
            out[foreign] = lent @ weights
        return out

    def _embed(self, texts: list[str], langs: list[str], pivots: Sequence[str | None] | None) -> np.ndarray:
        from pipeline.themes.pivot import PivotEncoder, impute

        assert self.encoder is not None and self._fitted is not None
        if not isinstance(self.encoder, PivotEncoder):
            return self.encoder.encode(texts, batch_size=self.options.batch_size)
        given = list(pivots) if pivots is not None else [None] * len(texts)
        piv = [p or (t if lang == "en" else None) for t, lang, p in zip(texts, langs, given, strict=True)]
        emb = self.encoder.encode(texts, batch_size=self.options.batch_size, pivots=piv)
        return impute(emb, self._fitted.impute)

    def adjusted(self, text: str, probs: np.ndarray, language: str) -> np.ndarray:
        """Classifier probabilities after the stance rules and cue evidence, before thresholds
        (used to calibrate thresholds on the same footing as flagging)."""
        return self._stance(text, probs, language)[0]

    def _stance(
        self, text: str, probs: np.ndarray, language: str
    ) -> tuple[np.ndarray, dict, set[str], set[str]]:
        """Probabilities after the stance rules and cues, the cue hits, the labels a cue backs, and
        the labels a stance rule damped (no cue backing them)."""
        opts = self.options
        probs = np.array(probs, dtype=float)
        if INTERVIEWER_QUESTION.match(text):
            probs = probs * opts.question_factor
        before = probs.copy()
        if language == "en":
            for label, rx in FIRST_PERSON.items():
                if opts.stance_v3 and label == ADMISSION_RISK:
                    rx = SPEAKER_ACTS
                if label in self.labels and not rx.search(text) and not INTERPRETED.search(text):
                    probs[self.labels.index(label)] *= opts.first_person_factor
        elif language == "fr" and opts.stance_fr_ar:
            for label, rx in FIRST_PERSON_FR.items():
                if label in self.labels and not rx.search(text) and not INTERPRETED_FR.search(text):
                    probs[self.labels.index(label)] *= opts.first_person_factor
        elif language == "ar" and opts.stance_ar:
            for label, present in ((ADMISSION_RISK, speaker_acts_ar), (WARNED_RISK, speaker_in_ar)):
                if label in self.labels and not present(text):
                    probs[self.labels.index(label)] *= opts.first_person_factor
        plain = ARABIC_MARKS.sub("", text) if language == "ar" else text
        if CONDEMNED_RISK in self.labels and self._condemns(text, plain):
            probs[self.labels.index(CONDEMNED_RISK)] *= opts.condemnation_factor
            if ADVOCACY_RISK in self.labels and opts.condemnation_damps_advocacy:
                probs[self.labels.index(ADVOCACY_RISK)] *= opts.condemnation_factor
        if MARTYRDOM_RISK in self.labels and opts.refused_martyrdom and REFUSES_MARTYRDOM.search(plain):
            probs[self.labels.index(MARTYRDOM_RISK)] *= opts.condemnation_factor
        if ADMISSION_RISK in self.labels and UNDERGONE.search(plain) and not DEED.search(text):
            # Being arrested, travelling or converting is something that happened, not a deed.
            probs[self.labels.index(ADMISSION_RISK)] *= opts.undergone_factor
        if ADMISSION_RISK in self.labels and opts.stance_v3 and DENIES.search(plain):
            probs[self.labels.index(ADMISSION_RISK)] *= opts.condemnation_factor
        if WARNED_RISK in self.labels and REFUSES_RETURN.search(plain):
            probs[self.labels.index(WARNED_RISK)] *= opts.refusal_factor
        if WARNED_RISK in self.labels and WARNS.search(plain):
            probs[self.labels.index(WARNED_RISK)] *= opts.condemnation_factor
            if ADVOCACY_RISK in self.labels and opts.stance_v3:
                probs[self.labels.index(ADVOCACY_RISK)] *= opts.condemnation_factor
        reported = (REPORTED_CLAIM.search(plain) or REFUTES.search(plain)) and not (
            opts.media_claims and MEDIA.search(plain))
        if ADVOCACY_RISK in self.labels and opts.stance_v3 and (reported or DISAVOWS.search(plain)):
            probs[self.labels.index(ADVOCACY_RISK)] *= opts.condemnation_factor
        damped = {label for j, label in enumerate(self.labels) if probs[j] < before[j]}
        hits = self._cues.find(text, language)
        cue_backed: set[str] = set()
        for j, label in enumerate(self.labels):
            positive = [h for h in hits.get(label, ()) if not h.negated]
            if positive:
                cue_backed.add(label)
                weight = opts.precise_cue_weight if any(h.precise for h in positive) else opts.cue_weight
                probs[j] = 1.0 - (1.0 - probs[j]) * (1.0 - weight)
            elif hits.get(label):
                probs[j] *= opts.negated_factor
        return probs, hits, cue_backed, damped - cue_backed

    def _combine(
        self,
        text: str,
        probs: np.ndarray,
        best: np.ndarray,
        best_sim: np.ndarray,
        gate: float = 0.0,
        language: str = "en",
    ) -> SentenceFlags:
        flags = self._combine_core(text, probs, best, best_sim, gate, language)
        return SentenceFlags(
            text=flags.text, labels=flags.labels, scores=flags.scores, why=flags.why,
            model_version=self.model_version,
        )

    def _combine_core(
        self, text: str, probs: np.ndarray, best: np.ndarray, best_sim: np.ndarray, gate: float, language: str
    ) -> SentenceFlags:
        opts = self.options
        thresholds = self.language_thresholds.get(language, self.thresholds)
        if INTERVIEWER_QUESTION.match(text):
            gate *= opts.question_factor
        if CONDEMNED_RISK in self.labels and self._condemns(text, ARABIC_MARKS.sub("", text)):
            gate *= opts.condemnation_factor  # else the pooled gate would put the risk back
        probs, hits, _, damped = self._stance(text, probs, language)
        names = find_names(text, self._common_words) if NAME_LABEL in self.labels else []
        details = find_details(text) if NAME_LABEL in self.labels else []
        scores: dict[str, float] = {}
        why: dict[str, str] = {}
        labels: list[str] = []
        cue_backed: set[str] = set()
        for j, label in enumerate(self.labels):
            p = float(probs[j])
            positive = [h for h in hits.get(label, ()) if not h.negated]
            reason = ""
            if positive or (label == NAME_LABEL and (names or details)):
                cue_backed.add(label)
            if positive:
                reason = _cue_reason(positive[0])
                if opts.cue_needs_model is not None and not any(h.precise for h in positive):
                    model = 1.0 - (1.0 - p) / (1.0 - opts.cue_weight)  # the score before the cue
                    if model < opts.cue_needs_model * thresholds[j]:
                        p = max(model, 0.0)
            if label == NAME_LABEL and label not in cue_backed:
                p *= opts.identifying_model_factor
            if label == NAME_LABEL and names and opts.name_score > p:
                p = opts.name_score
                more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
                reason = f'name found: "{names[0]}"{more}'
            elif label == NAME_LABEL and details and opts.name_score > p:
                p = opts.name_score
                reason = f'identifying detail found: "{details[0]}"'
            scores[label] = round(p, 4)
            if p >= thresholds[j]:
                labels.append(label)
                model = ""
                if best[j] >= 0:
                    exemplar = self._exemplar_texts[best[j]]
                    model = (
                        f"classifier {p:.2f} ≥ {thresholds[j]:.2f} on the {language} text;"
                        f' close to exemplar "{exemplar}" (similarity {best_sim[j]:.2f})'
                    )
                why[label] = "; ".join(x for x in (reason, model) if x) or f"classifier score ({language})"
        risk_ids = self.taxonomy.risk_ids
        if opts.risk_gate is not None and gate >= opts.risk_gate and not set(labels) & set(risk_ids):
            # Something risky, though no single risk is sure: show the likeliest one.
            top = max(risk_ids, key=lambda r: scores[r])
            # The likeliest risk was ruled out by a stance rule (no speaker acting, a warning, a
            # denial...): the pooled classifier, which reads the topic, must not raise it again.
            if not (opts.gate_stance and top in damped):
                j = self.labels.index(top)
                scores[top] = round(max(scores[top], float(thresholds[j])), 4)
                labels.append(top)
                exemplar = f'; closest: "{self._exemplar_texts[best[j]]}"' if best[j] >= 0 else ""
                why[top] = f"sounds like a risk (any-risk classifier {gate:.2f}){exemplar}"
                labels.sort(key=self.labels.index)
        labels = self._resolve_stance(labels, scores, cue_backed)
        if opts.advocacy_yields and ADVOCACY_RISK in labels and ADVOCACY_RISK not in cue_backed:
            j = self.labels.index(ADVOCACY_RISK)
            over = scores[ADVOCACY_RISK] - thresholds[j]
            others = [scores[r] - thresholds[self.labels.index(r)] for r in labels
                      if r in CREDIBILITY_RISKS and r != ADVOCACY_RISK]
            if scores[ADVOCACY_RISK] < opts.risk_yield and others and max(others) > over:
                labels.remove(ADVOCACY_RISK)
        themes = self.taxonomy.theme_ids
        if not labels and opts.theme_fallback is not None and themes:
            # A sentence from such an interview that leans towards one theme more likely carries it
            # than nothing; the per-theme threshold is set for sentences that also carry others.
            top = max(themes, key=lambda t: scores[t])
            j = self.labels.index(top)
            if scores[top] >= opts.theme_fallback and best[j] >= 0:
                labels.append(top)
                exemplar = self._exemplar_texts[best[j]]
                why[top] = f'close to exemplar "{exemplar}" (similarity {best_sim[j]:.2f})'
        why = {x: why[x] for x in labels}
        return SentenceFlags(text=text, labels=tuple(labels), scores=scores, why=why)

    def _condemns(self, text: str, plain: str) -> bool:
        """The sentence calls violence what it is (English; French and Arabic with stance_fr_ar)."""
        return bool(CONDEMNS.search(text) or (self.options.stance_fr_ar and CONDEMNS_FR_AR.search(plain)))

    def _resolve_stance(self, labels: list[str], scores: dict[str, float], cue_backed: set[str]) -> list[str]:
        """Settle a sentence that seems to speak both for the group (a credibility risk) and
        against it (a theme): the side with clearly stronger evidence wins. A cue counts for more
        than a classifier score; a risk found by the classifier alone yields to a cue-backed
        theme only when it is weak, since a missed risk costs more than a false alarm."""
        opts = self.options
        themes = set(self.taxonomy.theme_ids)

        def strength(label: str) -> float:
            return scores[label] + (opts.cue_bonus if label in cue_backed else 0.0)

        risks = [x for x in labels if x in CREDIBILITY_RISKS]
        if not risks:
            return labels
        theme_top = max((strength(x) for x in labels if x in themes and x in cue_backed), default=0.0)
        margin = opts.advocacy_margin
        weak = {
            r
            for r in risks
            if r not in cue_backed and scores[r] < opts.risk_yield and theme_top > strength(r) + margin
        }
        risks = [r for r in risks if r not in weak]
        risk_top = max((strength(r) for r in risks), default=None)
        keep = []
        for x in labels:
            if x in weak or (risk_top is not None and x in themes and strength(x) < risk_top + margin):
                continue
            keep.append(x)
        return keep


def _cue_reason(hit: CueHit) -> str:
    return f'cue "{hit.matched}" ({hit.language})'


def _common_words(encoder: Encoder | None) -> frozenset[str]:
    # The model's vocabulary doubles as a list of ordinary lower-case words, so that a capitalised
    # first word ("Then Ahmed came") is not taken for part of a name.
    try:
        directory = encoder.model_dir if encoder is not None else packaged_minilm_dir()
        words = (directory / "vocab.txt").read_text(encoding="utf-8").split()
    except (OSError, ModelError):
        return frozenset()
    return frozenset(w for w in words if w.isalpha() and w.islower())


def _training_set(tax: Taxonomy) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, targets (n, labels) and a mask (n, labels) saying which rows train which label."""
    k = len(tax.entries)
    texts: list[str] = []
    rows_y: list[np.ndarray] = []
    rows_m: list[np.ndarray] = []
    # A sentence listed under several entries is a positive for each of them, never a negative.
    owners: dict[str, list[int]] = {}
    for j, entry in enumerate(tax.entries):
        for x in entry.exemplars:
            owners.setdefault(x, []).append(j)
    for _j, entry in enumerate(tax.entries):
        for x in entry.exemplars:
            y = np.zeros(k)
            y[owners[x]] = 1
            texts.append(x)
            rows_y.append(y)
            rows_m.append(np.ones(k))
    for j, entry in enumerate(tax.entries):
        # A look-alike negative is evidence against its own entry only; it may belong to another.
        for x in entry.negatives:
            m = np.zeros(k)
            m[j] = 1
            texts.append(x)
            rows_y.append(np.zeros(k))
            rows_m.append(m)
    for x in tax.neutral:
        texts.append(x)
        rows_y.append(np.zeros(k))
        rows_m.append(np.ones(k))
    return texts, np.array(rows_y), np.array(rows_m)


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One training sentence beyond the taxonomy: its labels (empty: neutral talk) and, for a
    correction, the labels it must NOT carry (`without`); other labels are left unsaid."""

    text: str
    language: str
    labels: tuple[str, ...]
    without: tuple[str, ...] = ()
    group: str = ""  # items sharing a group (a sentence and its translations) stay in one fold


def interview_exemplars(tax: Taxonomy) -> list[LabelledText]:
    """The packaged interview-voice sentences (labels outside the taxonomy are dropped)."""
    from importlib import resources

    path = resources.files("pipeline.themes") / INTERVIEW_EXEMPLARS
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            x = json.loads(line)
            labels = tuple(lab for lab in x["labels"] if lab in tax.ids)
            out.append(LabelledText(x["text"], x["language"], labels, (), x.get("source_id", x["id"])))
    return out


def _extra_rows(tax: Taxonomy, extra: Sequence[LabelledText]) -> tuple[np.ndarray, np.ndarray]:
    """Targets and masks for extra sentences: a full row for plain labelled text; for a
    correction, only the labels it adds (positive) and removes (negative) are trained."""
    k = len(tax.ids)
    y = np.zeros((len(extra), k))
    m = np.zeros((len(extra), k))
    for i, x in enumerate(extra):
        for lab in x.labels:
            y[i, tax.ids.index(lab)] = 1
        if x.without:
            for lab in (*x.labels, *x.without):
                m[i, tax.ids.index(lab)] = 1
        else:
            m[i] = 1
    return y, m


def fit_heads(
    tax: Taxonomy,
    encoder: Encoder | MultilingualEncoder,
    options: FlagOptions,
    extra: Sequence[LabelledText] = (),
    base_thresholds: np.ndarray | None = None,
    base_arabic_thresholds: np.ndarray | None = None,
    anchor_thresholds: np.ndarray | None = None,
) -> _Fitted:
    """Fit the label heads on the taxonomy's exemplars plus `extra` sentences, and calibrate
    per-label thresholds out of fold on the extra sentences (risks for recall, themes for
    precision) unless `base_thresholds` (and `base_arabic_thresholds`) are given. With
    `anchor_thresholds` (the heads being replaced), a calibrated threshold moves at most
    `options.max_threshold_step` from its anchor."""
    texts, y, mask = _training_set(tax)
    ey, em = _extra_rows(tax, extra)
    if options.translation_weight != 1.0:
        em[[x.language != "en" for x in extra]] *= options.translation_weight
    all_texts = texts + [x.text for x in extra]
    if options.cache:
        emb = _embed_cached(all_texts, encoder, options)
    else:
        emb = encoder.encode(all_texts, batch_size=options.batch_size)
    y_all, m_all = np.vstack([y, ey]), np.vstack([mask, em])
    shift_langs: tuple[str, ...] = ()
    shifts = None
    impute_map = None
    from pipeline.themes.pivot import USE_DIM, PivotEncoder, fit_impute, impute

    if isinstance(encoder, PivotEncoder):
        # Training rows are read as flag-text reads them: an English row is its own pivot; a
        # translation has none, so its MiniLM half is estimated from its USE half.
        row_langs = ["en"] * len(texts) + [x.language for x in extra]
        english = np.array([lang == "en" for lang in row_langs])
        emb = np.array(emb, copy=True)
        impute_map = fit_impute(emb[english, :USE_DIM], emb[english, USE_DIM:])
        emb[~english, USE_DIM:] = np.nan
        emb = impute(emb, impute_map)
    if options.language_shift:
        shift_langs, shifts = language_shifts(extra, emb[len(texts) :])
        langs = ["en"] * len(texts) + [x.language for x in extra]
        emb = apply_shifts(emb, langs, shift_langs, shifts)
    n_pos = sum(len(e.exemplars) for e in tax.entries)
    exemplars = emb[:n_pos].copy()
    lexicon = None
    neighbours = None
    if options.lexical and len(extra) >= LEXICAL_MIN_ROWS:
        lexicon = Lexicon.fit(all_texts)
        lex = lexicon.transform(all_texts)
        if options.neighbour_words:
            neighbours, lex = _lend_words(emb, lex, len(texts), extra, options.neighbour_weight)
        emb = np.hstack([emb, options.lexical_scale * lex])
    balanced = [options.balanced_risks and e.kind == "risk" for e in tax.entries]
    weights, bias = fit_logistic(emb, y_all, m_all, options.regularisation, balanced)
    exemplar_label = np.concatenate([np.full(len(e.exemplars), j) for j, e in enumerate(tax.entries)])
    is_risk = [e.kind == "risk" for e in tax.entries]
    gate_w, gate_b = fit_risk_gate(emb, y_all, m_all, is_risk, options.gate_regularisation)
    thresholds = base_thresholds
    arabic_thresholds = base_arabic_thresholds if base_thresholds is not None else None
    if thresholds is None and options.calibrate and extra:
        calibrated = _calibrate(tax, emb, y_all, m_all, len(texts), extra, options, balanced, (weights, bias))
        thresholds = calibrated["en" if options.calibrate_english else ""]
        arabic_thresholds = calibrated.get("ar")
        if anchor_thresholds is not None:
            thresholds = bound_thresholds(thresholds, anchor_thresholds, options.max_threshold_step)
    version = hashlib.sha256(
        f"{tax.digest}|{encoder.key}|{options.regularisation}|{CACHE_VERSION}|{_betas(options)}|"
        f"{options.language_shift}|{options.stance_v3}|{_lexical_key(options, len(extra))}"
        f"{_later_options_key(options)}".encode()
        + "\n".join(f"{x.text}|{x.labels}|{x.without}" for x in extra).encode()
        # Bounded by an anchor, the same rows give other thresholds: other heads.
        + (b"" if anchor_thresholds is None else np.round(np.asarray(anchor_thresholds, float), 4).tobytes())
    ).hexdigest()[:12]
    version = f"{encoder.key}-{version}"
    if anchor_thresholds is not None and options.max_threshold_step != 0.1:
        # Another bound on the same anchor gives other thresholds: other heads (phase 8: -s0).
        version += f"-s{options.max_threshold_step:g}"
    return _Fitted(weights, bias, exemplars, exemplar_label, gate_w, gate_b, thresholds, version,
                   shift_langs, shifts, impute_map,
                   np.array(lexicon.vocab, dtype=str) if lexicon else None,
                   lexicon.idf if lexicon else None, options.lexical_scale,
                   (neighbours.vectors, neighbours.indptr, neighbours.indices, neighbours.data) if neighbours
                   else None, options.neighbour_weight, arabic_thresholds)


def _lend_words(
    emb: np.ndarray, lex: np.ndarray, n_base: int, extra: Sequence[LabelledText], weight: float
) -> tuple[NeighbourWords, np.ndarray]:
    """Neighbour words from the English interview sentences, lent to the training rows in other
    languages (never from their own original, which flag time will not have)."""
    ref = [n_base + i for i, x in enumerate(extra) if x.language == "en"]
    neighbours = NeighbourWords.build(emb[ref], lex[ref], weight=weight)
    position = {}
    for p, i in enumerate(ref):
        position.setdefault(extra[i - n_base].group, set()).add(p)
    foreign = [n_base + i for i, x in enumerate(extra) if x.language != "en"]
    exclude = [position.get(extra[i - n_base].group, set()) if extra[i - n_base].group else set()
               for i in foreign]
    lex = np.array(lex, copy=True)
    if foreign:
        lex[foreign] = neighbours.lend(lex[foreign], emb[foreign], exclude)
    return neighbours, lex


# Word features need many sentences: on the taxonomy's few exemplars alone they learn the
# exemplars' words and leave the embedding, which generalises, too little weight.
LEXICAL_MIN_ROWS = 200


def _lexical_key(options: FlagOptions, n_extra: int) -> str:
    # Empty without word features, so heads fitted without them keep their key.
    return f"lex{options.lexical_scale}" if options.lexical and n_extra >= LEXICAL_MIN_ROWS else ""


def _lexicon_of(fitted: _Fitted | None) -> Lexicon | None:
    if fitted is None or fitted.lexicon_vocab is None or fitted.lexicon_idf is None:
        return None
    return Lexicon(fitted.lexicon_vocab.tolist(), fitted.lexicon_idf)


def language_shifts(
    extra: Sequence[LabelledText], emb: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray | None]:
    """Per language, the mean of (English original - translation) over the translated training
    rows (a translation shares its original's group); languages with fewer than 10 pairs get none."""
    english = {x.group: i for i, x in enumerate(extra) if x.language == "en" and x.group}
    diffs: dict[str, list[np.ndarray]] = {}
    for i, x in enumerate(extra):
        if x.language != "en" and x.group in english:
            diffs.setdefault(x.language, []).append(emb[english[x.group]] - emb[i])
    langs = tuple(sorted(lang for lang, d in diffs.items() if len(d) >= 10))
    if not langs:
        return (), None
    return langs, np.stack([np.mean(diffs[lang], axis=0) for lang in langs]).astype(np.float32)


def apply_shifts(
    emb: np.ndarray, langs: Sequence[str], shift_langs: Sequence[str], shifts: np.ndarray | None
) -> np.ndarray:
    """`emb` with each row of a shifted language moved and renormalised (a copy when any moves)."""
    if shifts is None or not len(shift_langs):
        return emb
    out = None
    for j, lang in enumerate(shift_langs):
        rows = np.array([x == lang for x in langs])
        if rows.any():
            out = np.array(emb, copy=True) if out is None else out
            moved = out[rows] + shifts[j]
            out[rows] = moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
    return emb if out is None else out


FOLDS = 5
# Thresholds maximise F-beta out of fold (FlagOptions.risk_beta / theme_beta): recall counts twice
# for risks (a missed risk costs more than a false alarm), equally for themes. Chosen on the dev
# split (bench/RESULTS.md): requiring 0.95 recall per risk flagged 55% of neutral talk; F1 for
# themes beat F0.5 there.


def _betas(options: FlagOptions) -> str:
    # The phase-2 key wrote the module constants 2.0|1.0 here; unchanged defaults keep that key.
    return f"{options.risk_beta}|{options.theme_beta}"


def f_beta(gold: np.ndarray, pred: np.ndarray, beta: float) -> float:
    """F-beta of boolean predictions."""
    tp = float((gold & pred).sum())
    p = tp / max(float(pred.sum()), 1.0)
    r = tp / max(float(gold.sum()), 1.0)
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def fold_of(x: LabelledText) -> int:
    """A stable fold for a sentence and its translations."""
    return int(hashlib.sha256((x.group or x.text).encode()).hexdigest()[:8], 16) % FOLDS


def _calibrate(
    tax: Taxonomy,
    emb: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    n_base: int,
    extra: Sequence[LabelledText],
    options: FlagOptions,
    balanced: Sequence[bool],
    init: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Per-label thresholds from out-of-fold scores of the extra sentences (see FlagOptions.risk_beta):
    under "en" from the English rows, under "" from every row, and with `calibrate_arabic` under
    "ar" from the Arabic rows."""
    probe = Flagger(tax, None, None, options)
    groups = np.array([fold_of(x) for x in extra])
    oof = np.zeros((len(extra), len(tax.ids)))
    for g in range(FOLDS):
        test = np.flatnonzero(groups == g)
        if not len(test):
            continue
        train = np.concatenate([np.arange(n_base), n_base + np.flatnonzero(groups != g)])
        w, b = fit_logistic(emb[train], y[train], mask[train], options.regularisation, balanced, init)
        p = 1.0 / (1.0 + np.exp(-(emb[n_base + test] @ w.T + b)))
        for row, i in zip(p, test, strict=True):
            oof[i] = probe.adjusted(extra[i].text, row, extra[i].language)
    gold = y[n_base:]
    known = mask[n_base:] > 0
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)

    def thresholds(rows_of: np.ndarray, default: np.ndarray) -> np.ndarray:
        out = np.array(default, dtype=float)
        for j, entry in enumerate(tax.entries):
            rows = rows_of[:, j]
            g, s = gold[rows, j] > 0, oof[rows, j]
            if g.sum() < 3:
                continue
            beta = options.risk_beta if entry.kind == "risk" else options.theme_beta
            if options.stable_thresholds:
                t = stable_threshold(g, s, grid, beta, options.threshold_bootstrap, seed=j)
                k = options.threshold_prior_weight
                out[j] = round((g.sum() * t + k * out[j]) / (g.sum() + k), 4)
            else:
                out[j] = max(grid, key=lambda t, g=g, s=s, beta=beta: (f_beta(g, s >= t, beta), t))
        return out

    langs = np.array([[x.language] for x in extra])
    base = thresholds(known & (langs == "en") if options.calibrate_english else known, probe.thresholds)
    out = {"en" if options.calibrate_english else "": base}
    if options.calibrate_arabic and (langs == "ar").any():
        # Labels with too few Arabic rows keep the base threshold.
        out["ar"] = thresholds(known & (langs == "ar"), base)
    return out


def f_beta_curves(gold: np.ndarray, scores: np.ndarray, grid: np.ndarray, beta: float,
                  weights: np.ndarray) -> np.ndarray:
    """F-beta of `scores >= t` for every t of `grid` (columns) under each row of `weights`
    (per-sentence counts of a bootstrap resample; rows)."""
    pred = (scores[:, None] >= grid[None, :]).astype(float)
    tp = weights @ (pred * gold[:, None])
    p = tp / np.maximum(weights @ pred, 1.0)
    r = tp / np.maximum(weights @ gold.astype(float), 1.0)[:, None]
    den = beta**2 * p + r
    return np.where(den > 0, (1 + beta**2) * p * r / np.where(den > 0, den, 1.0), 0.0)


def stable_threshold(gold: np.ndarray, scores: np.ndarray, grid: np.ndarray, beta: float,
                     resamples: int = 50, seed: int = 0) -> float:
    """The grid threshold at the top of the F-beta curve averaged over `resamples` Poisson
    bootstrap resamples of the sentences and smoothed over neighbouring grid points: the middle
    of a plateau rather than the luckiest point of one curve (FlagOptions.stable_thresholds)."""
    rng = np.random.default_rng(seed)
    weights = np.vstack([np.ones(len(gold)), rng.poisson(1.0, (max(resamples, 1), len(gold)))])
    curve = f_beta_curves(gold.astype(bool), scores, grid, beta, weights).mean(axis=0)
    smooth = np.convolve(np.pad(curve, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    best = np.flatnonzero(smooth >= smooth.max() - 1e-9)
    return float(grid[best[len(best) // 2]])


def bound_thresholds(thresholds: np.ndarray, anchor: np.ndarray, step: float) -> np.ndarray:
    """`thresholds` moved at most `step` from `anchor` (FlagOptions.max_threshold_step)."""
    anchor = np.asarray(anchor, dtype=float)
    return np.clip(np.asarray(thresholds, dtype=float), anchor - step, anchor + step)


def _stable_key(options: FlagOptions) -> str:
    if not options.stable_thresholds:
        return ""
    return f"|stable{options.threshold_bootstrap},{options.threshold_prior_weight}"


def _later_options_key(options: FlagOptions) -> str:
    """The options added since phase 4, in both digests (model version and fit key): each only
    when in use, so the keys of older option sets (and the shipped heads' key) stay the same."""
    return (
        f"{f'|neighbours{options.neighbour_weight}' if options.neighbour_words else ''}"
        f"{'|cal-en' if options.calibrate_english else ''}"
        f"{f'|tw{options.translation_weight}' if options.translation_weight != 1.0 else ''}"
        f"{'|stance-fr-ar' if options.stance_fr_ar else ''}"
        f"{'|stance-ar' if options.stance_ar else ''}"
        f"{'|p6-rules' if options.condemnation_damps_advocacy or options.refused_martyrdom else ''}"
        f"{'|media' if options.media_claims else ''}"
        f"{f'|refusal{options.refusal_factor}' if options.refusal_factor != 0.3 else ''}"
        f"{'|cal-ar' if options.calibrate_arabic else ''}"
        f"{_stable_key(options)}"
    )


def fit_key(tax: Taxonomy, encoder_key: str, encoder_backend: str, options: FlagOptions) -> str:
    """Digest of everything the fitted heads depend on: taxonomy, packaged interview exemplars,
    encoder and the options used in fitting. Shipped heads are used only when theirs matches."""
    extra = interview_exemplars(tax) if options.interview_exemplars else []
    return hashlib.sha256(
        f"{CACHE_VERSION}|{tax.digest}|{encoder_key}|{encoder_backend}|{options.regularisation}|"
        f"{options.balanced_risks}|{options.gate_regularisation}|{options.calibrate}|{len(extra)}|"
        f"{options.cue_weight}|{options.first_person_factor}|{options.condemnation_factor}|"
        f"{options.undergone_factor}|{options.precise_cue_weight}|{_betas(options)}"
        f"{'|shift' if options.language_shift else ''}{'|stance3' if options.stance_v3 else ''}"
        f"{'|pivot' if options.pivot_encoder else ''}{_lexical_key(options, len(extra))}"
        f"{_later_options_key(options)}".encode()
        + "\n".join(f"{x.text}|{x.labels}" for x in extra).encode()
    ).hexdigest()[:20]


def _fit(tax: Taxonomy, encoder: Encoder | MultilingualEncoder, options: FlagOptions) -> _Fitted:
    from pipeline.themes.heads import load_shipped_heads

    key = fit_key(tax, encoder.key, encoder.backend, options)
    shipped = load_shipped_heads(key)
    if shipped is not None:
        return shipped
    cache = model_cache_dir() / "themes" / f"flagger-{key}.npz"
    if options.cache and cache.is_file():
        try:
            return load_fitted(cache)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    extra = interview_exemplars(tax) if options.interview_exemplars else []
    fitted = fit_heads(tax, encoder, options, extra)
    if options.cache:
        save_fitted(cache, fitted)
    return fitted


def load_fitted(path: Path) -> _Fitted:
    """Heads written by `save_fitted`."""
    with np.load(path) as z:
        names = ("weights", "bias", "exemplars", "exemplar_label", "gate_weights")
        arrays = [z[name] for name in names]
        arrays[0] = arrays[0].astype(np.float64)  # the weights, stored as float32
        thresholds = z["thresholds"] if "thresholds" in z and z["thresholds"].size else None
        version = str(z["version"]) if "version" in z else ""
        langs = tuple(str(x) for x in z["shift_languages"]) if "shift_languages" in z else ()
        shifts = z["shifts"] if langs else None
        impute_map = z["impute"] if "impute" in z and z["impute"].size else None
        vocab = z["lexicon_vocab"] if "lexicon_vocab" in z and z["lexicon_vocab"].size else None
        idf = z["lexicon_idf"] if vocab is not None else None
        scale = float(z["lexical_scale"]) if "lexical_scale" in z else 1.0
        names = ("neighbour_vectors", "neighbour_indptr", "neighbour_indices", "neighbour_data")
        present = "neighbour_indptr" in z and z["neighbour_indptr"].size
        neighbours = tuple(z[n] for n in names) if present else None
        if neighbours is not None and neighbours[0].dtype == np.float16:
            neighbours = (neighbours[0].astype(np.float32), *neighbours[1:])
        return _Fitted(*arrays, gate_bias=float(z["gate_bias"]), thresholds=thresholds, version=version,
                       shift_languages=langs, shifts=shifts, impute=impute_map, lexicon_vocab=vocab,
                       lexicon_idf=idf, lexical_scale=scale, neighbours=neighbours,
                       neighbour_weight=float(z["neighbour_weight"]) if "neighbour_weight" in z else 1.0,
                       arabic_thresholds=z["arabic_thresholds"]
                       if "arabic_thresholds" in z and z["arabic_thresholds"].size else None)


def fit_risk_gate(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, is_risk: Sequence[bool], c: float
) -> tuple[np.ndarray, float]:
    """One balanced logistic regression for "carries some risk": every risk exemplar against the
    themes, the neutral talk and the risks' look-alike negatives. Pooling the risks gives it six
    times the positives of any one risk classifier, so it generalises further."""
    from sklearn.linear_model import LogisticRegression

    cols = [j for j, r in enumerate(is_risk) if r]
    if not cols:
        return np.zeros(x.shape[1]), -10.0
    target = (y[:, cols].sum(axis=1) > 0).astype(int)
    # Rows masked out of every risk classifier are other entries' look-alikes: leave them out.
    rows = mask[:, cols].any(axis=1)
    if target[rows].min() == target[rows].max():
        return np.zeros(x.shape[1]), -10.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(x[rows], target[rows])
    return model.coef_[0], float(model.intercept_[0])


def _embed_cached(texts: list[str], encoder: Encoder, options: FlagOptions) -> np.ndarray:
    """Embeddings of training texts, remembered per text so an edited taxonomy only encodes its
    new sentences."""
    path = model_cache_dir() / "themes" / f"texts-{encoder.key}-{encoder.backend}.npz"
    known: dict[str, np.ndarray] = {}
    try:
        with np.load(path) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        pass
    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:24] for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        vectors = encoder.encode([t for _, t in missing], batch_size=options.batch_size)
        known.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
        _save_arrays(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)


GTOL = 1e-5  # L-BFGS stops when no gradient component of the mean loss exceeds this


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    c: float,
    balanced: Sequence[bool] | None = None,
    init: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One L2-regularised logistic regression per column of `y` on rows where `mask`. Columns
    marked in `balanced` weigh their few positives as much as all the negatives; the others weigh
    each positive by the square root of that ratio, so that an entry with only a handful of
    exemplars can still reach its threshold without every entry turning trigger-happy.

    The columns are independent problems (sklearn's objective: 0.5 |w|^2 + C * weighted log-loss,
    intercept not penalised) solved together in one L-BFGS run: one matrix product per step for
    all labels instead of a solver per label, several times faster (cross-validation refits it
    dozens of times; `flagger learn` once). `init`: weights and bias to start from (a fit on
    nearly the same rows converges in a fraction of the steps; the optimum is the same)."""
    from scipy.optimize import minimize

    n, d = x.shape
    k = y.shape[1]
    weights = np.zeros((k, d))
    bias = np.zeros(k)
    sample = np.zeros((n, k))
    live: list[int] = []
    for j in range(k):
        rows = mask[:, j] > 0
        target = y[rows, j]
        if not len(target) or target.min() == target.max():
            bias[j] = 10.0 if len(target) and target[0] else -10.0
            continue
        ratio = float((target == 0).sum()) / float((target == 1).sum())
        full = balanced is not None and balanced[j]
        pos = ratio if full else math.sqrt(ratio)
        # A mask above 0 is also the row's weight (FlagOptions.translation_weight).
        sample[:, j] = np.where(rows, np.where(y[:, j] > 0, pos, 1.0) * mask[:, j], 0.0)
        live.append(j)
    if not live:
        return weights, bias
    xs = np.asarray(x, dtype=np.float32)  # float32 products: half the time, ample precision
    ys, ss = y[:, live].astype(np.float32), sample[:, live].astype(np.float32)
    m = len(live)
    scale = 1.0 / (c * float(ss.sum()))  # as sklearn: the tolerance applies to the mean loss

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: m * d].reshape(m, d)
        b = theta[m * d :]
        z = xs @ w.T.astype(np.float32) + b.astype(np.float32)
        loss = float((ss * (np.logaddexp(0.0, z) - ys * z)).sum(dtype=np.float64))
        gz = ss * (0.5 * (1.0 + np.tanh(0.5 * z)) - ys)  # weighted (sigmoid(z) - y), overflow-free
        gw = (gz.T @ xs).astype(np.float64)
        grad = np.concatenate([(w + c * gw).ravel(), c * gz.sum(axis=0, dtype=np.float64)])
        return scale * (0.5 * float((w * w).sum()) + c * loss), scale * grad

    start = np.zeros(m * (d + 1))
    if init is not None:
        start = np.concatenate([np.asarray(init[0], float)[live].ravel(), np.asarray(init[1], float)[live]])
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these products are small, and on a shared machine threads that wait for
    # a core burnt 20 times the CPU time (87 vs 4 CPU-s for a cross-validation run).
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(objective, start, jac=True, method="L-BFGS-B",
                       options={"maxiter": 3000, "gtol": GTOL})
    weights[live] = res.x[: m * d].reshape(m, d)
    bias[live] = res.x[m * d :]
    return weights, bias


def save_fitted(path: Path, fitted: _Fitted) -> None:
    """Write fitted heads (atomically; a read-only cache only costs recomputation)."""
    _save_arrays(
        path,
        compress=True,
        # float32 on disk (phase 7: keeps the shipped file under 5 MB); read back as float64.
        weights=np.asarray(fitted.weights, dtype=np.float32),
        bias=fitted.bias,
        exemplars=fitted.exemplars,
        exemplar_label=fitted.exemplar_label,
        gate_weights=fitted.gate_weights,
        gate_bias=np.array(fitted.gate_bias),
        thresholds=np.array(fitted.thresholds if fitted.thresholds is not None else []),
        version=np.array(fitted.version),
        shift_languages=np.array(list(fitted.shift_languages), dtype=str),
        shifts=np.array(fitted.shifts if fitted.shifts is not None else np.zeros((0, 0))),
        impute=np.array(fitted.impute if fitted.impute is not None else np.zeros((0, 0))),
        lexicon_vocab=np.array(fitted.lexicon_vocab if fitted.lexicon_vocab is not None else [], dtype=str),
        lexicon_idf=np.array(fitted.lexicon_idf if fitted.lexicon_idf is not None else []),
        lexical_scale=np.array(fitted.lexical_scale),
        neighbour_weight=np.array(fitted.neighbour_weight),
        arabic_thresholds=np.array(fitted.arabic_thresholds if fitted.arabic_thresholds is not None else []),
        # The neighbours' sentence vectors as float16 (phase 8: split 8 and the spoken-Arabic rows
        # took the file over 5 MB; read back as float32, labels checked in bench/RESULTS.md).
        **{name: np.array(a, dtype=np.float16) if name == "neighbour_vectors" else np.array(a)
           for name, a in zip(
            ("neighbour_vectors", "neighbour_indptr", "neighbour_indices", "neighbour_data"),
            fitted.neighbours or (np.zeros(0),) * 4, strict=True)},
    )


def _save_arrays(path: Path, compress: bool = False, **arrays: np.ndarray) -> None:
    """Write an .npz atomically; a read-only cache only costs recomputation next time.
    `compress`: deflate it at level 9 (lossless; the heads' word list shrinks the shipped file by a
    quarter, and level 9 keeps it under 5 MB with split 7 in the training rows)."""
    try:
        with atomic_path(path) as temp, open(temp, "wb") as f:
            if compress:
                with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                    for name, array in arrays.items():
                        with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            else:
                np.savez(f, **arrays)
    except OSError:
        pass
