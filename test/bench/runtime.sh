#!/usr/bin/env bash
# The runtime part of `npm run bench`: per-request overhead of the generated app + runtime over ComfyUI's own
# execution time, against the real ComfyUI of the test tier, beside comfy-cli's `comfy run --wait`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/env.sh
bash test/comfyui/setup.sh
ensure_venv .venv-bench requirements-bench.txt comfy
PROJECT="$(mktemp -d)"
trap 'rm -rf "$PROJECT"' EXIT
comfy_test_project "$PROJECT"
.venv/bin/python test/bench/runtime_overhead.py --project "$PROJECT" --comfy-cli .venv-bench/bin/comfy "$@"
echo
# The job list over 10,000 jobs (GET /jobs's logic on the local store), with the runtime serve just used.
.venv/bin/python test/bench/job_list.py --runtime "$PROJECT/synth.out/apps/local"
echo
# A 200 MB job result through the job routes: time to first byte, Range reads, the server's peak memory.
.venv/bin/python test/bench/job_result.py --runtime "$PROJECT/synth.out/apps/local"
echo
.venv-comfy/bin/python test/bench/cold_start.py --runs 3
