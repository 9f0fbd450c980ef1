#!/usr/bin/env bash
# The two front-door commands: `bash run.sh demo` and `bash run.sh test`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh
cmd=${1:-demo}; shift || true
case "$cmd" in
  demo) exec .venv/bin/counterclips demo "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash run.sh demo|test [args]" >&2; exit 2 ;;
esac
