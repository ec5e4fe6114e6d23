#!/usr/bin/env bash
# The package tier of `npm test`: modal-cdk as another team installs it. `npm pack` (which builds dist/),
# install the tarball into a fresh directory, check the CLI runs with only the package's dependencies,
# `npx modal-cdk init`, install the project's dev tools, then its own `npm run synth` and `npm test`.
# Reaches the npm registry only.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step() { echo "package tier: $*"; }

step "npm pack"
npm pack --silent --pack-destination "$WORK" > "$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; exit 1; }
TARBALL="$(ls "$WORK"/modal-cdk-*.tgz)"
mkdir "$WORK/my-app"
cd "$WORK/my-app"

step "npm install the tarball into a fresh directory"
npm install --no-audit --no-fund --silent "$TARBALL" > install.log 2>&1 || { cat install.log; exit 1; }
# Only the package's dependencies are installed now: no TypeScript tools, no @swc/core.
test ! -e node_modules/@swc/core && test ! -e node_modules/typescript
npx --no-install modal-cdk --help | grep -q "Usage: modal-cdk <command>"
npx --no-install modal-cdk workflow check node_modules/modal-cdk/dist/templates/init/workflows/sdxl-turbo.json | grep -q "no problems"

step "npx modal-cdk init, then install its dev tools"
npx --no-install modal-cdk init > init.log
grep -q 'Wrote a modal-cdk project "my-app"' init.log
npm install --no-audit --no-fund --silent > install2.log 2>&1 || { cat install2.log; exit 1; }

step "npm run synth"
npm run --silent synth > synth.log 2>&1 || { cat synth.log; exit 1; }
grep -q "Synthesized 1 app(s), 1 endpoint(s)" synth.log
! grep -q "warning" synth.log || { echo "a new project's synth warns:"; cat synth.log; exit 1; }
test -f synth.out/apps/sdxl/app.py

step "the templates the package ships precompiled render what compiling them at run time renders"
ls node_modules/modal-cdk/dist/templates/app.py.hbs.js > /dev/null
find node_modules/modal-cdk/dist/templates -name '*.hbs.js' -delete
npx --no-install modal-cdk synth -q -o compiled.out
diff -r synth.out compiled.out > templates.diff || { echo "precompiled and compiled templates differ:"; head -40 templates.diff; exit 1; }
rm -rf compiled.out

step "npm test"
npm test --silent > test.log 2>&1 || { cat test.log; exit 1; }
grep -q "Tests: *4 passed, 4 total" test.log || { cat test.log; exit 1; }

step "a type error in the app fails npm test"
sed -i "s/gpu: 'L40S',/gpu: 42,/" bin/app.ts
if npm test --silent > typeerror.log 2>&1; then echo "npm test passed with a type error in bin/app.ts"; exit 1; fi
grep -q "bin/app.ts" typeerror.log
echo "package tier: 5 passed, 0 failed"
