#!/usr/bin/env bash
# The real-ComfyUI tier of `npm test`: build (once) the real ComfyUI, synthesize the weight-free test stack
# into a temp project, and drive it through `modal-cdk serve` (test/comfyui/test_real_comfyui.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/comfyui/setup.sh
PROJECT="$(mktemp -d)"
trap 'rm -rf "$PROJECT"' EXIT
printf '{ "app": "ts-node --swc %s/test/fixtures/comfy-stack.ts" }\n' "$PWD" > "$PROJECT/cdk-like.json"
COMFY_TIER_PROJECT="$PROJECT" .venv/bin/python -m pytest test/comfyui -q -p no:cacheprovider
