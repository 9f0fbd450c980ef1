"""Issue-15 evaluation of theme and risk flags on the interview-voice corpus in bench/eval/:
macro-F1 over the 13 labels, any-risk recall and precision, the share of neutral sentences that get
any label, per language, and French/Arabic against the English originals of the same items.

    .venv/bin/python bench/themes_real_eval.py [--split dev|test] [--cues-only] [--errors]

The test split is sealed: run it once per recorded result (bench/eval/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.themes_eval import evaluate  # noqa: E402

EVAL = REPO / "bench" / "eval"


def read_split(split: str) -> list[dict]:
    path = EVAL / f"themes_real_{split}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def report(items: list[dict], preds: list[set[str]], labels: tuple[str, ...], risks: tuple[str, ...]) -> dict:
    """Metrics per language, plus French/Arabic and their English originals on the same items."""
    out: dict[str, dict] = {}
    by_id = {x["id"]: i for i, x in enumerate(items)}
    for lang in ("en", "fr", "ar"):
        idx = [i for i, x in enumerate(items) if x["language"] == lang]
        if not idx:
            continue
        gold = [set(items[i]["labels"]) for i in idx]
        pred = [preds[i] for i in idx]
        res = evaluate(gold, pred, labels, risks)
        neutral = [p for g, p in zip(gold, pred, strict=True) if not g]
        res["neutral_flagged"] = sum(bool(p) for p in neutral) / max(len(neutral), 1)
        res["n"] = len(idx)
        if lang != "en":
            src = [by_id[items[i]["source_id"]] for i in idx]
            en = evaluate(gold, [preds[i] for i in src], labels, risks)
            res["en_same_items_macro_f1"] = en["macro_f1"]
            res["en_same_items_risk_recall"] = en["risk_recall"]
        out[lang] = res
    return out


def print_report(rep: dict) -> None:
    for lang, r in rep.items():
        extra = ""
        if "en_same_items_macro_f1" in r:
            f1, rec = r["en_same_items_macro_f1"], r["en_same_items_risk_recall"]
            extra = f"  (English of same items: F1 {f1:.3f}, recall {rec:.3f})"
        print(
            f"{lang} n={r['n']}: macro-F1 {r['macro_f1']:.3f}  any-risk recall {r['risk_recall']:.3f}"
            f"  precision {r['risk_precision']:.3f}  neutral flagged {r['neutral_flagged']:.3f}{extra}"
        )
    en = rep.get("en")
    if en:
        for label, (p, r, f, s) in en["per_label"].items():
            print(f"   {label:26s} P {p:.2f} R {r:.2f} F1 {f:.2f} n={s}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev", choices=("dev", "test", "test2", "test3", "test4", "test5",
                                                            "test6", "test7", "test8", "test9"))
    ap.add_argument("--near-dup", type=float, default=0.80,
                    help="also report without items whose English text has a training sentence this close "
                         "(USE cosine)")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--legacy", action="store_true", help="the flagger's old call, without languages")
    ap.add_argument("--cv", action="store_true", help="dev: each fold flagged by heads fitted without it")
    args = ap.parse_args()
    if args.cv:
        return cross_validate()
    from pipeline.themes import Flagger

    t0 = time.perf_counter()
    flagger = Flagger.load()
    load = time.perf_counter() - t0
    items = read_split(args.split)
    texts = [x["text"] for x in items]
    t0 = time.perf_counter()
    if args.legacy:
        flags = flagger.flag_texts(texts)
    else:
        flags = flagger.flag_texts(texts, language=None)
    dt = time.perf_counter() - t0
    preds = [set(f.labels) for f in flags]
    tax = flagger.taxonomy
    rep = report(items, preds, tax.ids, tax.risk_ids)
    print_report(rep)
    print(f"load {load:.2f} s, {len(texts) / dt:.0f} sentences/s; model {flagger.model_version}; "
          f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.split in ("test3", "test4", "test5", "test6", "test7", "test8", "test9"):
        near = near_duplicates(flagger, items, args.near_dup)
        keep = [i for i, x in enumerate(items) if x.get("source_id", x["id"]) not in near]
        print(f"\nwithout {len(near)} English items (and their translations) that have a training "
              f"sentence at USE cosine >= {args.near_dup}: {len(keep)} items")
        print_report(report([items[i] for i in keep], [preds[i] for i in keep], tax.ids, tax.risk_ids))
    print_by_variety(items, preds, tax.ids, tax.risk_ids)
    if args.errors and args.split == "dev":
        for x, p, f in zip(items, preds, flags, strict=True):
            if set(x["labels"]) != p:
                print(f"[{x['language']}] gold={sorted(x['labels'])} pred={sorted(p)} :: {x['text']}")
                for k in p:
                    print(f"      {k}: {f.why.get(k)}")


def print_by_variety(items: list[dict], preds: list[set[str]], labels: tuple[str, ...],
                     risks: tuple[str, ...]) -> None:
    """Arabic figures per variety (split 9 on: `variety` on each Arabic row), each against the
    English originals of the same items."""
    varieties = sorted({x["variety"] for x in items if x.get("variety")})
    for variety in varieties:
        ar = [i for i, x in enumerate(items) if x.get("variety") == variety]
        sources = {items[i]["source_id"] for i in ar}
        idx = [i for i, x in enumerate(items) if x["id"] in sources] + ar
        r = report([items[i] for i in idx], [preds[i] for i in idx], labels, risks)["ar"]
        print(f"ar {variety} n={r['n']}: macro-F1 {r['macro_f1']:.3f} (English of same items "
              f"{r['en_same_items_macro_f1']:.3f})  any-risk recall {r['risk_recall']:.3f} (English "
              f"{r['en_same_items_risk_recall']:.3f})  precision {r['risk_precision']:.3f}  neutral "
              f"flagged {r['neutral_flagged']:.3f}")


def near_duplicates(flagger, items: list[dict], threshold: float) -> set[str]:  # noqa: ANN001
    """Ids of English items whose closest English training sentence (taxonomy or packaged
    interview exemplars) reaches `threshold` cosine with the multilingual encoder. Uses text only,
    never the flags."""
    from pipeline.themes.multilingual import MultilingualEncoder
    from pipeline.themes.scoring import _training_set, interview_exemplars

    encoder = flagger.encoder
    if not isinstance(encoder, MultilingualEncoder):
        encoder = MultilingualEncoder.load()
    train = _training_set(flagger.taxonomy)[0]
    train += [x.text for x in interview_exemplars(flagger.taxonomy) if x.language == "en"]
    english = [x for x in items if x["language"] == "en"]
    a = MultilingualEncoder.encode(encoder, [x["text"] for x in english])
    b = MultilingualEncoder.encode(encoder, train)
    best = (a @ b.T).max(axis=1)
    return {x["id"] for x, m in zip(english, best, strict=True) if m >= threshold}


def cross_validate() -> None:
    """Honest dev figures: the packaged interview exemplars ARE the dev split, so each fold is
    flagged by heads fitted (and thresholds calibrated) on the other folds only."""
    from pipeline.themes import Flagger
    from pipeline.themes.scoring import FOLDS, fit_heads, fold_of, interview_exemplars

    base = Flagger.load()
    tax, opts = base.taxonomy, base.options
    extra = interview_exemplars(tax)
    items = read_split("dev")
    preds: list[set[str]] = [set() for _ in items]
    for g in range(FOLDS):
        train = [x for x in extra if fold_of(x) != g]
        flagger = base.with_heads(fit_heads(tax, base.encoder, opts, train))
        idx = [i for i, x in enumerate(items) if fold_of(extra[i]) == g]
        flags = flagger.flag_texts([items[i]["text"] for i in idx], language=None)
        for i, f in zip(idx, flags, strict=True):
            preds[i] = set(f.labels)
    print_report(report(items, preds, tax.ids, tax.risk_ids))


if __name__ == "__main__":
    main()
