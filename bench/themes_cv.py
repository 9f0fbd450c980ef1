"""Issue-15 phase 3: cheap dev evaluation of flagger variants, out of fold, on every retired
split (dev, sealed splits 1-8, whose figures are recorded) plus the written extra rows, and on
the published defectors' sentences of ../shared/eval (evaluated only, never trained on).

Each item is flagged by heads fitted, and thresholds calibrated, without its fold (a sentence and
its translations share a fold). Sentence vectors are computed once and kept in a temporary .npz,
so a variant costs only the fits. The current sealed split (`themes_real_test9.jsonl`) is never
read here.

    .venv/bin/python bench/themes_cv.py [--variant NAME ...] [--extra FILE.jsonl ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.themes_real_eval import print_report, report  # noqa: E402
from pipeline.themes.multilingual import MultilingualEncoder  # noqa: E402

EVAL = REPO / "bench" / "eval"
POOL = ("themes_real_dev.jsonl", "themes_real_test.jsonl", "themes_real_test2.jsonl",
        "themes_real_test3.jsonl", "themes_real_test4.jsonl", "themes_real_test5.jsonl",
        "themes_real_test6.jsonl", "themes_real_test7.jsonl", "themes_real_test8.jsonl")
# Published defectors' words (../shared/eval): flagged by every fold's heads, never trained on.
HELDOUT = REPO.parent / "shared" / "eval" / "themes_dev.jsonl"
CACHE = Path(tempfile.gettempdir()) / "counterclips-themes-cv-usem3.npz"

# name: (FlagOptions overrides, flag-time overrides applied to fitted heads)
VARIANTS: dict[str, tuple[dict, dict]] = {
    "shipped": ({}, {}),
    "phase3-options": ({"lexical": False, "neighbour_words": False}, {"risk_gate": None}),
    "gate0.5": ({}, {"risk_gate": 0.5}),
    "gate0.7": ({}, {"risk_gate": 0.7}),
    "gate0.85": ({}, {"risk_gate": 0.85}),
    "riskbeta3": ({"risk_beta": 3.0}, {}),
    "riskbeta1.5": ({"risk_beta": 1.5}, {}),
    "riskbeta1": ({"risk_beta": 1.0}, {}),
    "themebeta0.7": ({"theme_beta": 0.7}, {}),
    "shift": ({"language_shift": True}, {}),
    "shift-rb1.5": ({"language_shift": True, "risk_beta": 1.5}, {}),
    "shift-tb1.5": ({"language_shift": True, "theme_beta": 1.5}, {}),
    "shift-C8": ({"language_shift": True, "regularisation": 8.0}, {}),
    "shift-C2": ({"language_shift": True, "regularisation": 2.0}, {}),
    "shift-gate0.7": ({"language_shift": True}, {"risk_gate": 0.7}),
    "v3": ({"language_shift": True, "stance_v3": True}, {}),
    "v3-rb1.5": ({"language_shift": True, "stance_v3": True, "risk_beta": 1.5}, {}),
    "v3-gate0.7": ({"language_shift": True, "stance_v3": True}, {"risk_gate": 0.7}),
    "v3-rb1.5-gate0.6": ({"language_shift": True, "stance_v3": True, "risk_beta": 1.5}, {"risk_gate": 0.6}),
    "v3-rb3": ({"language_shift": True, "stance_v3": True, "risk_beta": 3.0}, {}),
    "v3-tb0.7": ({"language_shift": True, "stance_v3": True, "theme_beta": 0.7}, {}),
    "v3-rb3-tb0.7": ({"language_shift": True, "stance_v3": True, "risk_beta": 3.0, "theme_beta": 0.7}, {}),
    "v3-rb2.5-tb0.7": ({"language_shift": True, "stance_v3": True, "risk_beta": 2.5, "theme_beta": 0.7}, {}),
    "v3-rb3-C2": ({"language_shift": True, "stance_v3": True, "risk_beta": 3.0, "regularisation": 2.0}, {}),
    "v3-fallback0.4": ({"language_shift": True, "stance_v3": True}, {"theme_fallback": 0.4}),
    "v3-rb3-gate0.8": ({"language_shift": True, "stance_v3": True, "risk_beta": 3.0}, {"risk_gate": 0.8}),
    "v3-pivot": ({"language_shift": True, "stance_v3": True, "pivot_encoder": True}, {}),
    "v3-pivot-rb3": ({"language_shift": True, "stance_v3": True, "pivot_encoder": True, "risk_beta": 3.0},
                     {}),
    "v3-pivot-rb1.5": ({"language_shift": True, "stance_v3": True, "pivot_encoder": True, "risk_beta": 1.5},
                       {}),
    "v3-pivot-noshift": ({"stance_v3": True, "pivot_encoder": True}, {}),
    "stance3": ({"stance_v3": True}, {}),
    "lex": ({"lexical": True}, {}),
    "lex0.5": ({"lexical": True, "lexical_scale": 0.5}, {}),
    "lex2": ({"lexical": True, "lexical_scale": 2.0}, {}),
    "lex1.5": ({"lexical": True, "lexical_scale": 1.5}, {}),
    "lex-rb3": ({"lexical": True, "risk_beta": 3.0}, {}),
    "lex-rb4": ({"lexical": True, "risk_beta": 4.0}, {}),
    "lex-C8": ({"lexical": True, "regularisation": 8.0}, {}),
    "lex-C2": ({"lexical": True, "regularisation": 2.0}, {}),
    "lex-gate0.7": ({"lexical": True}, {"risk_gate": 0.7}),
    "lex-nw": ({"lexical": True, "neighbour_words": True}, {}),
    "lex-nw0.5": ({"lexical": True, "neighbour_words": True, "neighbour_weight": 0.5}, {}),
    "lex-nw0.3": ({"lexical": True, "neighbour_words": True, "neighbour_weight": 0.3}, {}),
    "lex-gate0.8": ({"lexical": True}, {"risk_gate": 0.8}),
    "lex-rb2.5": ({"lexical": True, "risk_beta": 2.5}, {}),
    "lex-gate0.5": ({"lexical": True}, {"risk_gate": 0.5}),
    "lex-gate0.6": ({"lexical": True}, {"risk_gate": 0.6}),
    "lex-gate0.65": ({"lexical": True}, {"risk_gate": 0.65}),
    "lex-gate0.75": ({"lexical": True}, {"risk_gate": 0.75}),
    "no-nw": ({"neighbour_words": False}, {}),
    "cal-en": ({"calibrate_english": True}, {}),
    "stance-fr-ar": ({"stance_fr_ar": True}, {}),
    "cal-en-stance-fr-ar": ({"calibrate_english": True, "stance_fr_ar": True}, {}),
    "p5-nw0.3": ({"calibrate_english": True, "stance_fr_ar": True, "neighbour_weight": 0.3}, {}),
    "p5-nw1": ({"calibrate_english": True, "stance_fr_ar": True, "neighbour_weight": 1.0}, {}),
    "p5-gate0.8": ({"calibrate_english": True, "stance_fr_ar": True}, {"risk_gate": 0.8}),
    "p5-gate0.6": ({"calibrate_english": True, "stance_fr_ar": True}, {"risk_gate": 0.6}),
    "p5": ({}, {}),
    "p5-cf0.3": ({"condemnation_factor": 0.3}, {}),
    "p5-C8": ({"calibrate_english": True, "stance_fr_ar": True, "regularisation": 8.0}, {}),
    "p5-rb2.5": ({"calibrate_english": True, "stance_fr_ar": True, "risk_beta": 2.5}, {}),
    "tw0.5": ({"translation_weight": 0.5}, {}),
    "tw0.3": ({"translation_weight": 0.3}, {}),
    "cal-en-tw0.5": ({"calibrate_english": True, "translation_weight": 0.5}, {}),
    "cal-en-tw0.3": ({"calibrate_english": True, "translation_weight": 0.3}, {}),
    "no-shift": ({"language_shift": False}, {}),
    "C2": ({"regularisation": 2.0}, {}),
    "C8": ({"regularisation": 8.0}, {}),
    "p6-no-stance-ar": ({"stance_ar": False}, {}),
    "p6": ({}, {}),
    "p6-nogate": ({}, {"risk_gate": None}),
    "p6-no-gate-stance": ({}, {"gate_stance": False}),
    "p6-no-ar": ({"stance_ar": False}, {}),
    "p6-no-rules": ({"condemnation_damps_advocacy": False, "refused_martyrdom": False}, {}),
    "p6-tw0.7": ({"translation_weight": 0.7}, {}),
    "p6-tw0.5": ({"translation_weight": 0.5}, {}),
    "p6-gate0.75": ({}, {"risk_gate": 0.75}),
    "p6-gate0.8": ({}, {"risk_gate": 0.8}),
    "p6-tb0.8": ({"theme_beta": 0.8}, {}),
    "p6-no-media": ({"media_claims": False}, {}),
    "p6-refusal0.1": ({"refusal_factor": 0.1}, {}),
    "p6-refusal0.3": ({"refusal_factor": 0.3}, {}),
    "p6-no-gate-stance-no-ar": ({"stance_ar": False}, {"gate_stance": False}),
    "p7": ({}, {}),
    "p7-cal-ar": ({"calibrate_arabic": True}, {}),
    "p7-adv-yields": ({}, {"advocacy_yields": True}),
    "p7b-old-thresholds": ({"stable_thresholds": False}, {}),
    "p7b": ({}, {}),
    "p7b-prior0": ({"threshold_prior_weight": 0.0}, {}),
    "p7b-prior40": ({"threshold_prior_weight": 40.0}, {}),
    # As shipped: each fold's calibrated thresholds bounded by phase 7's shipped ones.
    "p7b-anchored": ({"anchor": True}, {}),
    # Phase 8: an ordinary cue keeps its evidence only with the classifier at this share of the threshold.
    "p8-cue-model0.5": ({"anchor": True}, {"cue_needs_model": 0.5}),
    "p8-cue-model0.25": ({"anchor": True}, {"cue_needs_model": 0.25}),
    "p8-cue-model0.75": ({"anchor": True}, {"cue_needs_model": 0.75}),
}
# Phase 7's shipped thresholds (heads usem3-0db566fd0af8-d13a1ac2db88), the anchor of phase 7b's refit.
PHASE7_THRESHOLDS = np.array([0.375, 0.65, 0.375, 0.325, 0.375, 0.55, 0.55, 0.125, 0.25, 0.375, 0.225,
                              0.175, 0.125])


class CachedEncoder(MultilingualEncoder):
    """An encoder (by default the multilingual one) with every vector remembered in a temporary
    file."""

    def __init__(self, inner: MultilingualEncoder, cache: Path | None = None) -> None:
        super().__init__(getattr(inner, "_model", None), inner.model_dir)
        self.key = inner.key
        # One cache per encoder key: the key changes with what the encoder reads (phase 8's
        # spoken-Arabic rewriting), and a text's vector with it.
        cache = cache or CACHE.with_name(f"{CACHE.stem}-{inner.key}.npz")
        self._inner = inner
        self._cache = cache
        self._known: dict[str, np.ndarray] = {}
        try:
            with np.load(cache) as z:
                self._known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            pass

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001 - as the parent
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:24] for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._known}.items())
        if missing:
            vecs = self._inner.encode([t for _, t in missing], batch_size=batch_size)
            self._known.update({k: v for (k, _), v in zip(missing, vecs, strict=True)})
            fd, tmp = tempfile.mkstemp(suffix=".npz", dir=self._cache.parent)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, keys=np.array(list(self._known)), vectors=np.stack(list(self._known.values())))
            os.replace(tmp, self._cache)
        if not keys:
            return self._inner.encode([])
        return np.stack([self._known[k] for k in keys]).astype(np.float32)


def print_threshold_spread(tax, fold_fits: list) -> None:  # noqa: ANN001
    """How far each label's calibrated threshold moves between the five fold fits (each trained
    on 80% of the rows): the stability measure of phase 7b."""
    th = np.array([f.thresholds for f in fold_fits if f.thresholds is not None])
    if len(th) < 2:
        return
    spread = th.max(axis=0) - th.min(axis=0)
    print(f"threshold fold-to-fold range: mean {spread.mean():.3f}, max {spread.max():.3f}; "
          f"std mean {th.std(axis=0).mean():.3f}")
    for j, label in enumerate(tax.ids):
        print(f"   {label:26s} mean {th[:, j].mean():.3f} range {th[:, j].min():.3f}-{th[:, j].max():.3f}")


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> None:
    from pipeline.themes import Flagger
    from pipeline.themes.scoring import FOLDS, FlagOptions, LabelledText, fit_heads, fold_of

    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", default=None, choices=sorted(VARIANTS))
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="more rows (JSONL), trained on and evaluated out of fold like the pool")
    ap.add_argument("--train-only", type=Path, action="append", default=[],
                    help="rows always trained on, never evaluated")
    ap.add_argument("--fold-train", type=Path, action="append", default=[],
                    help="rows trained on out of fold (in their source sentence's fold), never evaluated: "
                         "e.g. translations of pool sentences, so the evaluated items stay the same")
    ap.add_argument("--errors", action="append", default=[], metavar="LABEL",
                    help="print the out-of-fold false alarms and misses of LABEL (dev data)")
    ap.add_argument("--errors-lang", default="en")
    ap.add_argument("--per-label", default=None, metavar="LANG", help="also print LANG's per-label figures")
    ap.add_argument("--subset", action="append", default=[], metavar="PREFIX",
                    help="also report the items whose id starts with PREFIX (and their translations), "
                         "e.g. t8- for retired split 8, whose Arabic is Levantine")
    ap.add_argument("--errors-summary", action="store_true",
                    help="print missed risks and labelled neutral sentences (dev data)")
    args = ap.parse_args()
    t0 = time.process_time()
    base = Flagger.load()
    encoder = CachedEncoder(base.encoder)
    pivot_encoder = None
    if any(VARIANTS[v][0].get("pivot_encoder") for v in args.variant or VARIANTS):
        from pipeline.themes.encoder import Encoder
        from pipeline.themes.pivot import PivotEncoder

        minilm = CachedEncoder(Encoder.load(threads=1), CACHE.with_name(CACHE.stem + "-minilm.npz"))
        pivot_encoder = PivotEncoder(encoder, minilm)
    tax = base.taxonomy
    items = [x for name in POOL for x in read(EVAL / name)]
    for path in args.extra:
        items += read(path)
    rows = [LabelledText(x["text"], x["language"], tuple(x["labels"]), (), x.get("source_id", x["id"]))
            for x in items]
    always = [LabelledText(x["text"], x["language"], tuple(x["labels"]), (),
                           "x-" + x.get("source_id", x["id"]))
              for path in args.train_only for x in read(path)]
    fold_rows = [LabelledText(x["text"], x["language"], tuple(x["labels"]), (), x.get("source_id", x["id"]))
                 for path in args.fold_train for x in read(path)]
    held = [x | {"language": "en"} for x in read(HELDOUT)] if HELDOUT.is_file() else []
    encoder.encode([x["text"] for x in items] + [x.text for x in always] + [x.text for x in fold_rows]
                   + [x["text"] for x in held])
    print(f"{len(items)} items, {len(always)} train-only rows, {len(fold_rows)} rows trained out of fold; "
          f"setup {time.process_time() - t0:.1f} CPU-s")
    folds = np.array([fold_of(x) for x in rows])
    fold_folds = [fold_of(x) for x in fold_rows]
    fits: dict[tuple, object] = {}  # variants differing only at flag time share their fits
    for name in args.variant or list(VARIANTS):
        fit_over, flag_over = VARIANTS[name]
        anchor = PHASE7_THRESHOLDS if fit_over.get("anchor") else None
        opts = replace(FlagOptions(), **{k: v for k, v in fit_over.items() if k != "anchor"})
        enc = pivot_encoder if opts.pivot_encoder else encoder
        t1 = time.process_time()
        preds: list[set[str]] = [set() for _ in items]
        held_preds: list[set[str]] = [set() for _ in held]
        for g in range(FOLDS):
            train = [x for x, f in zip(rows, folds, strict=True) if f != g] + always
            train += [x for x, f in zip(fold_rows, fold_folds, strict=True) if f != g]
            key = (tuple(sorted(fit_over.items())), g)
            if key not in fits:
                fits[key] = fit_heads(tax, enc, opts, train, anchor_thresholds=anchor)
            fitted = fits[key]
            flagger = Flagger(tax, enc, fitted, replace(opts, **flag_over))
            idx = np.flatnonzero(folds == g)
            flags = flagger.flag_texts([items[i]["text"] for i in idx], language=None)
            for i, f in zip(idx, flags, strict=True):
                preds[i] = set(f.labels)
            hidx = [i for i in range(len(held)) if i % FOLDS == g]
            for i, f in zip(hidx, flagger.flag_texts([held[i]["text"] for i in hidx], language="en"),
                            strict=True):
                held_preds[i] = set(f.labels)
        load = os.getloadavg()[0]
        print(f"== {name} ({time.process_time() - t1:.0f} CPU-s, load {load:.1f})")
        print_threshold_spread(tax, [fits[(tuple(sorted(fit_over.items())), g)] for g in range(FOLDS)])
        rep = report(items, preds, tax.ids, tax.risk_ids)
        print_report(rep)
        for prefix in args.subset:
            sub = [i for i, x in enumerate(items) if x.get("source_id", x["id"]).startswith(prefix)]
            print(f"-- subset {prefix}")
            print_report(report([items[i] for i in sub], [preds[i] for i in sub], tax.ids, tax.risk_ids))
        if args.per_label in rep:
            for label, (p, r, f, n) in rep[args.per_label]["per_label"].items():
                print(f"   {args.per_label} {label:26s} P {p:.2f} R {r:.2f} F1 {f:.2f} n={n}")
        if held:
            r = report(held, held_preds, tax.ids, tax.risk_ids)["en"]
            print(f"shared dev (published words, never trained on) n={r['n']}: macro-F1 {r['macro_f1']:.3f}"
                  f"  any-risk recall {r['risk_recall']:.3f}  precision {r['risk_precision']:.3f}"
                  f"  neutral flagged {r['neutral_flagged']:.3f}")
        if args.errors_summary:
            risks = set(tax.risk_ids)
            for x, p in zip(items, preds, strict=True):
                if x["language"] != args.errors_lang:
                    continue
                gold = set(x["labels"])
                if (gold & risks and not p & risks) or (not gold and p) or (p & risks and not gold & risks):
                    kind = "RISK MISSED" if gold & risks and not p & risks else (
                        "NEUTRAL FLAGGED" if not gold else "RISK FALSE")
                    print(f"  {kind} gold={sorted(gold)} pred={sorted(p)} :: {x['text']}")
        for label in args.errors:
            for x, p in zip(items, preds, strict=True):
                if x["language"] == args.errors_lang and (label in p) != (label in x["labels"]):
                    kind = "FALSE ALARM" if label in p else "MISS"
                    print(f"  {label} {kind} gold={sorted(x['labels'])} pred={sorted(p)} :: {x['text']}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
