#!/usr/bin/env bash
# The Python tier of `npm test`: a venv from requirements-test.txt (rebuilt only when that file changes),
# a fresh synth of the stack `npm run synth` builds, then pytest (real `modal` import, offline) and ruff.
set -euo pipefail
cd "$(dirname "$0")/../.."

source test/lib/env.sh
VENV=.venv
ensure_venv "$VENV" requirements-test.txt python

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
node bin/modal-cdk.js synth --output "$OUT/synth.out" --quiet

# No token, no config file, no network: the import must work offline, as on a fresh CI machine.
env -u MODAL_TOKEN_ID -u MODAL_TOKEN_SECRET -u MODAL_PROFILE \
  HOME="$OUT/home" MODAL_CONFIG_PATH="$OUT/home/.modal.toml" \
  MODAL_CDK_SYNTH_OUT="$OUT/synth.out" \
  "$VENV/bin/python" -m pytest test/python -q -p no:cacheprovider

echo "ruff check synth.out:"
(cd "$OUT" && "$OLDPWD/$VENV/bin/ruff" check --no-cache synth.out)
