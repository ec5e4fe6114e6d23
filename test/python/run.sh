#!/usr/bin/env bash
# The Python tier of `npm test`: a venv from requirements-test.txt (rebuilt only when that file changes),
# a fresh synth of a stack (argument: ryla or example), then pytest (real `modal` import, offline) and ruff.
set -euo pipefail
cd "$(dirname "$0")/../.."

source test/lib/env.sh
VENV=.venv
ensure_venv "$VENV" requirements-test.txt python

# The stack to test: "ryla" (default: what `npm run synth` builds; every test) or "example" (bin/example.ts
# and a CPU app, test/fixtures/python-tier-stack.ts; the tests of the tool itself, which hold for any stack).
STACK="${1:-ryla}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
case "$STACK" in
  ryla) node bin/modal-cdk.js synth --output "$OUT/synth.out" --quiet; TESTS=(test/python) ;;
  example)
    # bin/example.ts plus an app on the CPU (test/fixtures/python-tier-stack.ts).
    printf '{ "app": "ts-node --swc %s/test/fixtures/python-tier-stack.ts", "modal": { "workspace": "example" } }\n' "$PWD" > "$OUT/cdk-like.json"
    (cd "$OUT" && node "$OLDPWD/bin/modal-cdk.js" synth --output synth.out --quiet)
    TESTS=(test/python/test_apps.py test/python/test_jobs_modal.py test/python/test_request_models.py test/python/test_clients.py test/python/test_contract_properties.py test/python/test_runtime_outputs.py test/python/test_runtime_edges.py test/python/test_warmup.py) ;;
  *) echo "usage: test/python/run.sh [ryla|example]" >&2; exit 2 ;;
esac

# No token, no config file, no network: the import must work offline, as on a fresh CI machine.
env -u MODAL_TOKEN_ID -u MODAL_TOKEN_SECRET -u MODAL_PROFILE \
  HOME="$OUT/home" MODAL_CONFIG_PATH="$OUT/home/.modal.toml" \
  MODAL_CDK_SYNTH_OUT="$OUT/synth.out" \
  "$VENV/bin/python" -m pytest "${TESTS[@]}" -q -p no:cacheprovider

echo "ruff check synth.out:"
(cd "$OUT" && "$OLDPWD/$VENV/bin/ruff" check --no-cache synth.out)
