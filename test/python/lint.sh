#!/usr/bin/env bash
# The Python half of `npm run lint`: ruff's formatter checks the runtime every app ships and the Python
# tests (ruff.toml: line length 120). `npm run format` rewrites them. The venv is test/python/run.sh's.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/env.sh
ensure_venv .venv requirements-test.txt python
if [ "${1:-}" = "--format" ]; then
  .venv/bin/ruff format --no-cache templates/runtime test
else
  .venv/bin/ruff format --check --no-cache templates/runtime test
fi
