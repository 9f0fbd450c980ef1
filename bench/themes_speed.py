"""Issue-15 speed of the flagger: cold load (encoder checksum + weights + shipped heads) and warm
flagging of the dev split's sentences, in wall seconds and process CPU seconds (which hold under
load), with the load average printed next to them.

    .venv/bin/python bench/themes_speed.py [--repeat 3] [--threads 2]

On a quiet 2-core machine the wall figures are the ones the targets name (>= 500 sentences/s
warm, cold load <= 3 s). Reads only the dev split.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="encoder threads (0: the encoder's default)")
    ap.add_argument("--options", default="{}", help="FlagOptions overrides as JSON (default: shipped)")
    args = ap.parse_args()
    w0, c0 = time.perf_counter(), time.process_time()
    from pipeline.themes import Flagger
    from pipeline.themes.scoring import FlagOptions

    flagger = Flagger.load(options=FlagOptions(threads=args.threads or None, **json.loads(args.options)))
    load_wall, load_cpu = time.perf_counter() - w0, time.process_time() - c0
    path = REPO / "bench" / "eval" / "themes_real_dev.jsonl"
    texts = [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    flagger.flag_texts(texts[:64], language=None)  # first call: lazy allocations
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.repeat):
        flagger.flag_texts(texts, language=None)
    n = len(texts) * args.repeat
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"cold load (import + Flagger.load): {load_wall:.2f} s wall, {load_cpu:.2f} CPU-s")
    print(f"warm: {n} sentences in {wall:.2f} s wall = {n / wall:.0f} sentences/s; "
          f"{cpu:.2f} CPU-s = {n / cpu:.0f} sentences per CPU-s"
          f" ({args.threads or 'default'} encoder threads)")
    print(f"load average {load}, model {flagger.model_version}")


if __name__ == "__main__":
    main()
