"""The flagger's model in a workspace (issue 15): load it with the heads learned from reviewers'
corrections, refit them (`flagger learn`) behind the recall guard, and move corrections between
teams as JSONL with registry terms redacted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clips_metadata.workspace import Workspace

if TYPE_CHECKING:
    from clips_metadata.store import Store
    from pipeline.themes import Flagger, GuardReport


def load_flagger(workspace: Workspace | None = None) -> Flagger:
    """The packaged flagger, with the heads `flagger learn` installed in `workspace` when any."""
    from pipeline.themes import Flagger
    from pipeline.themes.heads import workspace_heads_dir

    installed = workspace_heads_dir(workspace.root) if workspace is not None else None
    return Flagger.load(installed=installed)


@dataclass(frozen=True, slots=True)
class SplitFigures:
    """Figures of one model on a labelled split (see `split_figures`)."""

    macro_f1: float
    risk_recall: float
    risk_precision: float
    neutral_flagged: float
    n: int

    def line(self) -> str:
        return (f"macro-F1 {self.macro_f1:.3f}, any-risk recall {self.risk_recall:.3f} at precision "
                f"{self.risk_precision:.3f}, neutral flagged {self.neutral_flagged:.1%} ({self.n} sentences)")


@dataclass(frozen=True, slots=True)
class LearnResult:
    """What `learn_and_install` did: figures before and after, the guard's report, and where
    the new heads went (None when `dry_run`)."""

    before: SplitFigures
    after: SplitFigures
    guard: GuardReport
    old_version: str
    new_version: str
    installed: Path | None
    corrections: int


def read_split(path: Path) -> list[dict[str, Any]]:
    """A labelled JSONL split: `text`, `labels`, optional `language`."""
    import json

    from pipeline.themes.learning import CorrectionError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorrectionError(f"{path}: cannot read the split ({exc})") from None


def split_figures(flagger: Flagger, split: Sequence[dict[str, Any]]) -> SplitFigures:
    """Macro-F1 over the taxonomy's labels, any-risk recall and precision, share of neutral
    items with any label."""
    tax = flagger.taxonomy
    risks = set(tax.risk_ids)
    flags = flagger.flag_texts([x["text"] for x in split], language=[x.get("language") for x in split])
    f1s = []
    pairs = [(set(x["labels"]), set(f.labels)) for x, f in zip(split, flags, strict=True)]
    for label in tax.ids:
        tp = sum(1 for g, p in pairs if label in g and label in p)
        fp = sum(1 for g, p in pairs if label not in g and label in p)
        fn = sum(1 for g, p in pairs if label in g and label not in p)
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    gold = [bool(set(x["labels"]) & risks) for x in split]
    pred = [bool(set(f.labels) & risks) for f in flags]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    neutral = [f for x, f in zip(split, flags, strict=True) if not x["labels"]]
    return SplitFigures(
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        risk_recall=tp / max(sum(gold), 1),
        risk_precision=tp / max(sum(pred), 1),
        neutral_flagged=sum(1 for f in neutral if f.labels) / max(len(neutral), 1),
        n=len(split),
    )


def learn_and_install(
    store: Store,
    workspace: Workspace,
    sealed_split: Sequence[dict[str, Any]],
    *,
    base: Flagger | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> LearnResult:
    """Refit the heads on the taxonomy's exemplars plus every stored correction, compare both
    models on `sealed_split`, and install the new heads in the workspace. Raises
    RecallGuardError (nothing installed) when the new model loses any-risk recall there."""
    from clips_metadata.corrections_repo import CorrectionsRepo
    from pipeline.themes import Correction, learn, recall_guard
    from pipeline.themes.heads import install_heads, workspace_heads_dir
    from pipeline.themes.scoring import fit_key

    old = base or load_flagger(workspace)
    stored = CorrectionsRepo(store).all()
    corrections = [Correction(c.text, c.language, c.added, c.removed, c.reason) for c in stored]
    say(f"refitting on the exemplars and {len(corrections)} correction(s)")
    new = learn(old.taxonomy, corrections, old)
    before, after = split_figures(old, sealed_split), split_figures(new, sealed_split)
    guard = recall_guard(old, new, sealed_split)
    target = None
    if not dry_run:
        key = fit_key(old.taxonomy, old.encoder.key, old.encoder.backend, old.options)
        target = install_heads(new._fitted, workspace_heads_dir(workspace.root), key)
    return LearnResult(before, after, guard, old.model_version, new.model_version, target, len(corrections))


def export_corrections_file(store: Store, path: Path, terms: Sequence[str] | None = None) -> int:
    """Write every stored correction to `path` as JSONL, registry terms (default: the store's
    registry) redacted."""
    from clips_metadata.corrections_repo import CorrectionsRepo
    from pipeline.themes import Correction, export_corrections

    stored = CorrectionsRepo(store).all()
    terms = registry_terms(store) if terms is None else terms
    return export_corrections(
        (Correction(c.text, c.language, c.added, c.removed, c.reason) for c in stored), path, terms
    )


def import_corrections_file(
    store: Store, path: Path, *, actor: str, terms: Sequence[str] | None = None
) -> int:
    """Store the corrections of a JSONL file (checked against the taxonomy, this registry's terms
    redacted too); returns how many."""
    from clips_metadata.corrections_repo import CorrectionsRepo
    from pipeline.themes import import_corrections, load_taxonomy

    terms = registry_terms(store) if terms is None else terms
    items = import_corrections(path, load_taxonomy(), terms)
    return CorrectionsRepo(store).add_imported(
        ((c.text, c.language, c.add, c.remove, c.reason) for c in items), actor=actor
    )


def registry_terms(store: Store) -> list[str]:
    """Every real name and identifying word of the registry (what must never leave)."""
    from pipeline.terms import IdentifyingWord, TermError

    out: list[str] = []
    for person in store.list_interviewees():
        out += [n for n in person.real_names if n.strip()]
        for spec in person.identifying_words:
            try:
                out.append(IdentifyingWord.parse(spec).term)
            except TermError:
                continue
    return out
