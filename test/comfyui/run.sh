#!/usr/bin/env bash
# The real-ComfyUI tier of `npm test`: build (once) the real ComfyUI releases (setup.sh: 0.3.75 from PyPI, the
# trees of ../shared/comfyui/), synthesize the weight-free test stack into a temp project, and drive it through
# `modal-cdk serve` (test/comfyui/test_real_comfyui.py) on 0.3.75 and again on 0.28.2; check every workflow
# of the RYLA and example stacks against ComfyUI's validation on the release its app pins
# (test/comfyui/test_ryla_workflows.py); execute RYLA's SDXL endpoints on random-weight checkpoints
# (test/comfyui/test_execute_sdxl.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/env.sh
bash test/comfyui/setup.sh
PROJECT="$(mktemp -d)"
trap 'rm -rf "$PROJECT"' EXIT
comfy_test_project "$PROJECT"
# Its synth.out/ (serve writes it again), for the tests that import the app without serving it.
if ! (cd "$PROJECT" && node "$OLDPWD/bin/modal-cdk.js" synth --quiet 2>synth-test.err); then cat "$PROJECT/synth-test.err" >&2; exit 1; fi
# The stack `npm run synth` builds, whose workflows test_ryla_workflows.py checks on each app's release.
if ! node bin/modal-cdk.js synth --output "$PROJECT/ryla.out" --quiet 2>"$PROJECT/synth.err"; then cat "$PROJECT/synth.err" >&2; exit 1; fi
# The example stack (bin/example.ts), whose workflows test_ryla_workflows.py checks on their apps' releases too.
mkdir "$PROJECT/example"
printf '{ "app": "ts-node --swc %s/bin/example.ts", "modal": { "workspace": "example" } }\n' "$PWD" > "$PROJECT/example/cdk-like.json"
if ! (cd "$PROJECT/example" && node "$OLDPWD/bin/modal-cdk.js" synth --output ../example.out --quiet 2>../synth.err); then
  cat "$PROJECT/synth.err" >&2
  exit 1
fi
# Random-weight SDXL checkpoints for the CPU execution tier (test_execute_sdxl.py), kept in .cache/weights
# between runs (about 1 minute and 7 GB the first time; kept while their .random-weights.json matches).
.venv-comfy/bin/python test/weights/generate.py --manifest "$PROJECT/ryla.out/manifest.json" --app instantid \
  --out .cache/weights --only sd_xl_turbo_1.0_fp16.safetensors sdxl_lightning_4step.safetensors >"$PROJECT/weights.log" \
  || { cat "$PROJECT/weights.log" >&2; exit 1; }
export COMFY_TIER_PROJECT="$PROJECT" RYLA_SYNTH_OUT="$PROJECT/ryla.out" EXAMPLE_SYNTH_OUT="$PROJECT/example.out"
.venv/bin/python -m pytest test/comfyui -q -p no:cacheprovider
# The runtime's tests again on 0.28.2, the default release of new projects: every route, jobs, cancel, uploads,
# outputs, health, the exit watcher, the snapshot phases and the import gate, against its HTTP/websocket API.
# (Each stack's per-release tests above already ran on their own releases.)
echo "comfyui tier: the runtime tests on ComfyUI 0.28.2"
COMFYUI_RELEASE=0.28.2 .venv/bin/python -m pytest -q -p no:cacheprovider -k "not on_its_release and not stand_ins" \
  test/comfyui/test_real_comfyui.py test/comfyui/test_jobs.py test/comfyui/test_job_results.py test/comfyui/test_edges.py \
  test/comfyui/test_snapshot_phases.py test/comfyui/test_import_gate.py
