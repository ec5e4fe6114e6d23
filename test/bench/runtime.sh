#!/usr/bin/env bash
# The runtime part of `npm run bench`: per-request overhead of the generated app + runtime over ComfyUI's own
# execution time, against the real ComfyUI of the test tier, beside comfy-cli's `comfy run --wait`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/comfyui/setup.sh
VENV=.venv-bench
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/comfy" ] || ! sha256sum --status -c "$STAMP" 2>/dev/null; then
  echo "bench: creating $VENV from requirements-bench.txt"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements-bench.txt
  sha256sum requirements-bench.txt > "$STAMP"
fi
PROJECT="$(mktemp -d)"
trap 'rm -rf "$PROJECT"' EXIT
printf '{ "app": "ts-node --swc %s/test/fixtures/comfy-stack.ts" }\n' "$PWD" > "$PROJECT/cdk-like.json"
.venv/bin/python test/bench/runtime_overhead.py --project "$PROJECT" --comfy-cli "$VENV/bin/comfy" "$@"
