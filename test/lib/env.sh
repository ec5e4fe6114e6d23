# Shell helpers, sourced by the test and bench scripts (from the repository root).

# ensure_venv VENV REQUIREMENTS EXECUTABLE: VENV from the pinned REQUIREMENTS file, rebuilt only when that
# file changes (its sha256 is kept in the venv) or VENV/bin/EXECUTABLE is missing.
ensure_venv() {
  local venv=$1 requirements=$2 executable=$3
  if [ ! -x "$venv/bin/$executable" ] || ! sha256sum --status -c "$venv/.requirements.sha256" 2>/dev/null; then
    echo "creating $venv from $requirements"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    sha256sum "$requirements" > "$venv/.requirements.sha256"
  fi
}

# comfy_test_project DIR: a project in DIR whose stack is the weight-free test/fixtures/comfy-stack.ts.
comfy_test_project() {
  printf '{ "app": "ts-node --swc %s/test/fixtures/comfy-stack.ts" }\n' "$PWD" > "$1/cdk-like.json"
}
