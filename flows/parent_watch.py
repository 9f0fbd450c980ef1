"""Run a Python module as a child that stops when its parent process dies, however it dies.

`python .../flows/parent_watch.py FD -m MODULE ARGS...` runs MODULE as `python -m MODULE ARGS...`
would, while a thread blocks reading FD: the read end of a pipe whose write end only the parent
holds. When the parent exits (even by SIGKILL, which runs no atexit hook) the kernel closes that
end, the read returns, and the child sends itself SIGTERM, so uvicorn shuts down as it does on
a normal stop. A pipe rather than Linux's PR_SET_PDEATHSIG, because the death signal follows the
parent *thread* that spawned the child, and the server may be started from a worker thread.
It is run by path and imports only the standard library, so it needs no installed package.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

GRACE = 10.0  # seconds a graceful stop may take before the child exits hard


def _watch(fd: int) -> None:
    try:
        while os.read(fd, 64):  # the parent never writes; only EOF (or an error) ends this
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE)
    os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "-m":
        raise SystemExit("usage: python parent_watch.py FD -m MODULE [ARGS...]")
    fd, module = int(argv[0]), argv[2]
    threading.Thread(target=_watch, args=(fd,), name="parent-watch", daemon=True).start()
    sys.argv = [module, *argv[3:]]
    sys.path[0] = os.getcwd()  # as `python -m` sets it, not this script's folder
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
