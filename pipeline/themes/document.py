"""A whole transcript flagged at once, and the plain-dict form written to `<stem>.flags.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.records import Sentence, SentenceFlags, Transcript
from pipeline.themes.attach import flag_sentences
from pipeline.themes.credibility import CredibilityWarning, credibility_warnings, risk_summary
from pipeline.themes.scoring import Flagger

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TranscriptFlags:
    """Sentences of one transcript with their flags and the interview's credibility warnings."""

    sentences: tuple[Sentence, ...]
    flags: tuple[SentenceFlags, ...]
    warnings: tuple[CredibilityWarning, ...]
    translated: tuple[Sentence, ...] = ()  # English sentences the flags came from, if translated


def translated_sentences(transcript: Transcript) -> tuple[Sentence, ...]:
    """English sentences of the transcript's translation (none when it has no translation)."""
    from pipeline.sentences import build_sentences

    tr = transcript.translation
    if tr is None:
        return ()
    words = tuple(w for s in tr.segments for w in s.words)
    if words:
        return build_sentences(words, tr.language or "en")
    # Translations without word times: each segment is a sentence on the original's clock.
    return tuple(
        Sentence(index=i, start=s.start, end=s.end, text=s.text.strip(), language=tr.language or "en")
        for i, s in enumerate(x for x in tr.segments if x.text.strip())
    )


def flag_transcript(transcript: Transcript, flagger: Flagger) -> TranscriptFlags:
    """Build sentences from word times and flag them (through the English translation if any)."""
    from pipeline.sentences import build_sentences

    sentences = build_sentences(transcript.words, transcript.language)
    is_english = transcript.language in ("", "en") or transcript.language.startswith("en-")
    english = () if is_english else translated_sentences(transcript)
    language = (transcript.language or "en").split("-")[0]
    # The multilingual encoder reads the original; the English translation, when there is one,
    # is read too and the two combined (see flag_sentences).
    flags = flag_sentences(sentences, flagger, translated=english or None, language=language)
    return TranscriptFlags(
        sentences=tuple(sentences),
        flags=tuple(flags),
        warnings=credibility_warnings(sentences, flags),
        translated=tuple(english),
    )


def flags_to_dict(result: TranscriptFlags, flagger: Flagger, source: str = "") -> dict[str, Any]:
    """The JSON document of a flagged transcript. Times in seconds."""
    return {
        "format": FORMAT_VERSION,
        "transcript": source,
        "taxonomy": {"path": flagger.taxonomy.path, "digest": flagger.taxonomy.digest},
        "encoder": flagger.encoder.backend if flagger.encoder is not None else None,
        "options": asdict(flagger.options),
        "model_version": flagger.model_version,
        "sentences": [
            {
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "labels": list(f.labels),
                "scores": f.scores,
                "why": f.why,
                "model_version": f.model_version,
            }
            for s, f in zip(result.sentences, result.flags, strict=True)
        ],
        "translation_sentences": [
            {"index": t.index, "start": t.start, "end": t.end, "text": t.text} for t in result.translated
        ],
        "risk_summary": risk_summary(result.flags),
        "credibility_warnings": [
            {**asdict(w), "risks": list(w.risks), "message": w.message} for w in result.warnings
        ],
    }
