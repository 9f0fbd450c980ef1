"""Issue-15 phase 2: option variants compared on the DEV split only, out of fold (each dev
fold flagged by heads fitted and calibrated without it; other training rows always in).

    .venv/bin/python bench/themes_tune.py [--extra FILE.jsonl] [--variant NAME ...]

The sealed splits are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.themes_real_eval import print_report, read_split, report  # noqa: E402

VARIANTS = {
    "shipped": {},
    "gate0.5": {"risk_gate": 0.5},
    "gate0.6": {"risk_gate": 0.6},
    "gate0.7": {"risk_gate": 0.7},
}


def main() -> None:
    from pipeline.themes import Flagger
    from pipeline.themes.scoring import FOLDS, LabelledText, fit_heads, fold_of

    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=Path, action="append", default=[], help="more training rows (JSONL)")
    ap.add_argument("--variant", action="append", default=None, choices=sorted(VARIANTS))
    args = ap.parse_args()
    base = Flagger.load()
    tax = base.taxonomy
    items = read_split("dev")
    dev = [LabelledText(x["text"], x["language"], tuple(x["labels"]), (), x.get("source_id", x["id"]))
           for x in items]
    extra = []
    for path in args.extra:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                x = json.loads(line)
                extra.append(LabelledText(x["text"], x["language"], tuple(x["labels"]), (),
                                          "x-" + x.get("source_id", x["id"])))
    for name in args.variant or list(VARIANTS):
        opts = replace(base.options, **VARIANTS[name])
        preds: list[set[str]] = [set() for _ in items]
        for g in range(FOLDS):
            train = [x for x in dev if fold_of(x) != g] + extra
            flagger = Flagger(tax, base.encoder, fit_heads(tax, base.encoder, opts, train), opts)
            idx = [i for i, x in enumerate(dev) if fold_of(x) == g]
            flags = flagger.flag_texts([items[i]["text"] for i in idx], language=None)
            for i, f in zip(idx, flags, strict=True):
                preds[i] = set(f.labels)
        print(f"== {name} (extra rows {len(extra)})")
        rep = report(items, preds, tax.ids, tax.risk_ids)
        print_report(rep)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
