"""Theme and risk flagging on the labelled dev sentences: per-label P/R/F1, macro-F1, any-risk
recall and precision, load time and sentences per second; also the holdout sets in bench/.
Writes its section of bench/RESULTS.md (only for the default dev set).

    .venv/bin/python bench/themes_eval.py [--data FILE.jsonl] [--errors] [--no-write] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "themes_dev.jsonl"
RESULTS = REPO / "bench" / "RESULTS.md"
HOLDOUTS = REPO / "bench" / "themes_holdout*.jsonl"  # sentences written for checks, not exemplars
SECTION = "## Theme and risk flagging (issue 3, `bench/themes_eval.py`)"


def read_set(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(
    gold: list[set[str]], pred: list[set[str]], labels: tuple[str, ...], risks: tuple[str, ...]
) -> dict:
    per: dict[str, tuple[float, float, float, int]] = {}
    for label in labels:
        tp = sum(label in g and label in p for g, p in zip(gold, pred, strict=True))
        fp = sum(label not in g and label in p for g, p in zip(gold, pred, strict=True))
        fn = sum(label in g and label not in p for g, p in zip(gold, pred, strict=True))
        per[label] = (*prf(tp, fp, fn), tp + fn)
    risky_g = [bool(g & set(risks)) for g in gold]
    risky_p = [bool(p & set(risks)) for p in pred]
    tp = sum(a and b for a, b in zip(risky_g, risky_p, strict=True))
    fp = sum(b and not a for a, b in zip(risky_g, risky_p, strict=True))
    fn = sum(a and not b for a, b in zip(risky_g, risky_p, strict=True))
    rp, rr, _ = prf(tp, fp, fn)
    return {
        "per_label": per,
        "macro_f1": float(np.mean([v[2] for v in per.values()])),
        "risk_recall": rr,
        "risk_precision": rp,
    }


def labels_at(scores: list[dict[str, float]], thresholds: dict[str, float]) -> list[set[str]]:
    return [{k for k, v in s.items() if k in thresholds and v >= thresholds[k]} for s in scores]


def cross_fitted(
    gold: list[set[str]], scores: list[dict[str, float]], labels: tuple[str, ...], risks: tuple[str, ...]
) -> dict:
    """Thresholds tuned on one half of the sentences, scored on the other half, both ways (a guard
    against reading the shipped thresholds' fit to this set as skill)."""
    grid = [round(x, 2) for x in np.arange(0.2, 0.95, 0.05)]
    n = len(gold)
    idx = np.arange(n)
    rng = np.random.default_rng(0)
    preds: list[set[str]] = [set() for _ in range(n)]
    for fold_a in np.array_split(rng.permutation(idx), 2):
        tune = [i for i in idx if i not in set(fold_a)]
        chosen = {}
        for label in labels:
            def f1_at(t: float, label: str = label, tune: list = tune) -> float:
                tp = sum(label in gold[i] and scores[i][label] >= t for i in tune)
                fp = sum(label not in gold[i] and scores[i][label] >= t for i in tune)
                fn = sum(label in gold[i] and scores[i][label] < t for i in tune)
                return prf(tp, fp, fn)[2] - 0.001 * abs(t - 0.5)

            chosen[label] = max(grid, key=f1_at)
        for i in fold_a:
            preds[i] = labels_at([scores[i]], chosen)[0]
    return evaluate(gold, preds, labels, risks)


def measure_speed(flagger, texts: list[str], n: int = 2000) -> tuple[float, float]:
    """Sentences per second of wall time, and per second of this process's CPU time divided by
    the cores used (what an idle machine would give; the project machine is shared)."""
    # Repeats are fine: nothing in the flagger caches sentences.
    batch = (texts * (n // len(texts) + 1))[:n]
    flagger.flag_texts(batch[:64])
    start, cpu = time.perf_counter(), time.process_time()
    flagger.flag_texts(batch)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    cores = min(os.cpu_count() or 1, 4)
    return n / wall, n / (cpu / cores)


# Figures measured before a set was used for any tuning; later runs of a set that errors were
# read from are optimistic, so these stay in the record.
HISTORY = """\
How far to trust these figures. The exemplars and cues were written from the issue's theme
definitions; the dev set was read once for the kinds of things said, never copied. After that:

- first run on the dev set, before any tuning: macro-F1 0.791, any-risk recall 0.952, precision
  0.870. Cues, look-alike negatives and thresholds were then adjusted while reading dev errors, so
  the dev figures above are optimistic.
- `bench/themes_holdout.jsonl` (48 sentences written blind for this check, never exemplars):
  first run macro-F1 0.754, any-risk recall 0.944, precision 0.773; then used for tuning too.
- `bench/themes_holdout2.jsonl` (44 sentences, written after that tuning, run blind on the
  system as it then was): macro-F1 0.783, any-risk recall 1.000, precision 0.842; then read for
  errors as well.
- `bench/themes_holdout3.jsonl` (44 sentences, written after more exemplars were added, run blind):
  macro-F1 0.748, any-risk recall **0.812**, precision 0.867. The risk misses were sentences
  with no cue whose single-risk scores were far below threshold ("I am waiting, when the brothers
  call, I will answer"). The pooled any-risk gate (`FlagOptions.risk_gate`) was added and its
  threshold chosen on the sets so far.
- `bench/themes_holdout4.jsonl` (40 sentences, written after the gate, run blind): macro-F1
  **0.679**, any-risk recall 0.933, precision 0.824. Themes were missed with scores of 0.2-0.45,
  so the one-theme fallback (`FlagOptions.theme_fallback`) was added afterwards, along with
  damping of model-only `identifying_details` and one cue; now no set is blind.
- Folding holdouts 1-3 into the exemplars was tried and did not help on holdout 4 (reverted).
- `bench/themes_holdout5.jsonl` and `bench/themes_holdout6.jsonl` (47 sentences each, written by
  another hand, in more varied voices: far-right and al-Shabaab accounts, euphemisms, look-alikes
  that condemn violence), run blind on the system as it was after holdout 4: macro-F1 **0.684**
  and **0.561**, any-risk recall 0.810 and 0.833, precision 0.739 and 0.652. Holdout 5's errors
  were then read (more varied exemplars, condemnation look-alikes, religious and prison talk as
  neutral, a narrower "first chance" cue, multi-label exemplars, the first-person and
  condemnation rules in scoring); holdout 6 was run once afterwards: macro-F1 0.591, any-risk
  recall 0.889, precision 0.640. Its errors were not read.
Holdouts 1-4 were written by the same person as the exemplars and share their voice; the two sets
by another hand scored far lower. The blind figures (macro-F1 0.56-0.78, any-risk recall
0.81-1.0, precision 0.65-0.87) are the best guide to the hidden set: macro-F1 ≥ 0.75 and any-risk
recall ≥ 0.95 are both at risk there.

Speed: on the quiet machine at the start of the session (load average 0.1) the fp32 encoder
alone ran 740 sentences/s wall on 2 threads (sentence-transformers on torch: 370/s); cues, names
and scoring add about 0.2 ms per sentence, so roughly 600 sentences/s end to end. Under the
shared load of this session it measured far lower (wall figure above). `FlagOptions(int8=True)`
doubles encoder speed but makes a sentence's vector depend on its batch neighbours.
"""


def format_section(
    res: dict,
    cv: dict,
    extra: list[tuple[str, int, dict]],
    speed: tuple[float, float, float],
    load_s: float,
    cold_s: float | None,
    n: int,
    backend: str,
) -> str:
    wall, by_cpu, load_avg = speed
    lines = [
        SECTION,
        "",
        f"Dev set: {n} sentences (`../shared/eval/themes_dev.jsonl`), none of them used as exemplars.",
        f"Encoder: all-MiniLM-L6-v2 (fp32) on {backend}; logistic regressions fitted on the taxonomy's "
        "exemplars at load, combined with cue phrases and name detection.",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for label, (p, r, f, sup) in res["per_label"].items():
        lines.append(f"| {label} | {p:.2f} | {r:.2f} | {f:.2f} | {sup} |")
    lines += [
        "",
        f"- macro-F1 (13 labels): **{res['macro_f1']:.3f}** (goal ≥ 0.75)",
        f"- any-risk recall: **{res['risk_recall']:.3f}** (goal ≥ 0.95), "
        f"any-risk precision: **{res['risk_precision']:.3f}** (goal ≥ 0.75)",
        "- thresholds cross-fitted on halves of the dev set: "
        f"macro-F1 {cv['macro_f1']:.3f}, any-risk recall {cv['risk_recall']:.3f}, "
        f"precision {cv['risk_precision']:.3f}",
    ]
    for name, size, r in extra:
        lines.append(
            f"- `{name}` ({size} sentences): macro-F1 {r['macro_f1']:.3f}, any-risk recall "
            f"{r['risk_recall']:.3f}, precision {r['risk_precision']:.3f}"
        )
    lines += [
        f"- speed after load: **{wall:.0f} sentences/s** wall clock with the machine's load average at "
        f"{load_avg:.1f} (shared by seven engineers); {by_cpu:.0f} sentences/s by this process's CPU "
        "time per core (goal ≥ 500 on 2 cores)",
        f"- load (warm cache): **{load_s:.2f} s** (goal < 5 s)"
        + (f"; first load ever (ONNX export, exemplar encoding, fit): {cold_s:.1f} s" if cold_s else ""),
        "",
        HISTORY,
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    content = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(content):
        content = pattern.sub(lambda _: text + "\n", content)
    else:
        content = content.rstrip() + "\n\n" + text + "\n"
    RESULTS.write_text(content, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--taxonomy", type=Path, default=None)
    ap.add_argument("--errors", action="store_true", help="print every wrong sentence")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--cold", action="store_true", help="also time a load with an empty model cache")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from pipeline.themes import RISK_IDS, THEME_IDS, Flagger

    cold_s = None
    if args.cold:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            old = os.environ.get("COUNTERCLIPS_MODEL_DIR")
            os.environ["COUNTERCLIPS_MODEL_DIR"] = d
            start = time.perf_counter()
            Flagger.load(args.taxonomy)
            cold_s = time.perf_counter() - start
            if old is None:
                del os.environ["COUNTERCLIPS_MODEL_DIR"]
            else:
                os.environ["COUNTERCLIPS_MODEL_DIR"] = old
    Flagger.load(args.taxonomy)  # make sure the cache is warm before timing the load
    start = time.perf_counter()
    flagger = Flagger.load(args.taxonomy)
    load_s = time.perf_counter() - start

    rows = read_set(args.data)
    texts = [r["text"] for r in rows]
    gold = [set(r["labels"]) for r in rows]
    flags = flagger.flag_texts(texts)
    pred = [set(f.labels) for f in flags]
    labels = THEME_IDS + RISK_IDS
    res = evaluate(gold, pred, labels, RISK_IDS)
    cv = cross_fitted(gold, [f.scores for f in flags], labels, RISK_IDS)
    speed, speed_cpu = measure_speed(flagger, texts)
    load_avg = os.getloadavg()[0]

    print(f"{'label':26} {'P':>5} {'R':>5} {'F1':>5} {'n':>3}")
    for label, (p, r, f, sup) in res["per_label"].items():
        print(f"{label:26} {p:5.2f} {r:5.2f} {f:5.2f} {sup:3d}")
    print(
        f"macro-F1 {res['macro_f1']:.3f}  any-risk recall {res['risk_recall']:.3f}  "
        f"precision {res['risk_precision']:.3f}"
    )
    print(f"cross-fitted thresholds: macro-F1 {cv['macro_f1']:.3f}  any-risk recall {cv['risk_recall']:.3f}  "
          f"precision {cv['risk_precision']:.3f}")
    cold = f"  cold load {cold_s:.1f} s" if cold_s else ""
    print(f"speed {speed:.0f} sentences/s wall, {speed_cpu:.0f}/s by CPU time (load average {load_avg:.1f})")
    print(f"load {load_s:.2f} s{cold}")
    if args.errors:
        for r, f in zip(rows, flags, strict=True):
            if set(r["labels"]) != set(f.labels):
                top = sorted(f.scores.items(), key=lambda kv: -kv[1])[:3]
                print(f"\n{r['id']} {r['text']}\n  gold {sorted(r['labels'])}")
                print(f"  pred {sorted(f.labels)}\n  top {top}")
    extra = []
    if args.data == DEFAULT_DATA:
        for path in sorted(HOLDOUTS.parent.glob(HOLDOUTS.name)):
            hold = read_set(path)
            hold_flags = flagger.flag_texts([r["text"] for r in hold])
            hold_gold = [set(x["labels"]) for x in hold]
            r = evaluate(hold_gold, [set(f.labels) for f in hold_flags], labels, RISK_IDS)
            extra.append((f"bench/{path.name}", len(hold), r))
            print(f"{path.name}: macro-F1 {r['macro_f1']:.3f}  any-risk recall {r['risk_recall']:.3f}  "
                  f"precision {r['risk_precision']:.3f}")
    if not args.no_write and args.data == DEFAULT_DATA:
        speeds = (speed, speed_cpu, load_avg)
        backend = flagger.encoder.backend
        write_section(format_section(res, cv, extra, speeds, load_s, cold_s, len(rows), backend))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
