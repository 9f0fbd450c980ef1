"""`python -m tests.flows.pausing_ingest ARGS`: the `counterclips` command, but pausing after the
ingest step named in COUNTERCLIPS_INGEST_PAUSE_AFTER commits, so a crash-recovery test can
`kill -9` it at a known point. Test support only: the product has no pause hook."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from flows.cli import main
from flows.services import ingesting

PAUSE_ENV = "COUNTERCLIPS_INGEST_PAUSE_AFTER"
_ingest_media = ingesting.ingest_media


def _pausing_ingest(*args: Any, progress: ingesting.Progress | None = None, **kwargs: Any) -> Any:
    pause_after = os.environ.get(PAUSE_ENV)

    def say(step: str, message: str) -> None:
        if step == pause_after and message == f"{step} done":
            # One line only: the test reads stderr line by line through select().
            print(f"counterclips: paused after {step}", file=sys.stderr, flush=True)
            time.sleep(3600)
        if progress is not None:
            progress(step, message)

    return _ingest_media(*args, progress=say, **kwargs)


if __name__ == "__main__":
    ingesting.ingest_media = _pausing_ingest
    sys.exit(main(sys.argv[1:]))
