"""Theme and risk flagging (issue 3). Heavy libraries load inside `Flagger.load()`, not on import."""

from __future__ import annotations

from pipeline.themes.attach import attach_targets, flag_sentences
from pipeline.themes.credibility import CredibilityWarning, credibility_warnings, risk_summary
from pipeline.themes.document import TranscriptFlags, flag_transcript, flags_to_dict
from pipeline.themes.language import detect_language
from pipeline.themes.learning import (
    Correction,
    CorrectionError,
    GuardReport,
    RecallGuardError,
    export_corrections,
    import_corrections,
    learn,
    recall_guard,
)
from pipeline.themes.scoring import Flagger, FlagOptions
from pipeline.themes.taxonomy import (
    CREDIBILITY_RISKS,
    RISK_IDS,
    THEME_IDS,
    Taxonomy,
    TaxonomyEntry,
    default_taxonomy_path,
    load_taxonomy,
)

__all__ = [
    "CREDIBILITY_RISKS",
    "Correction",
    "CorrectionError",
    "GuardReport",
    "RecallGuardError",
    "detect_language",
    "export_corrections",
    "import_corrections",
    "learn",
    "recall_guard",
    "RISK_IDS",
    "THEME_IDS",
    "CredibilityWarning",
    "FlagOptions",
    "Flagger",
    "Taxonomy",
    "TaxonomyEntry",
    "TranscriptFlags",
    "attach_targets",
    "credibility_warnings",
    "default_taxonomy_path",
    "flag_sentences",
    "flag_transcript",
    "flags_to_dict",
    "load_taxonomy",
    "risk_summary",
]
