#!/usr/bin/env bash
# The package tier of `npm test`: modal-cdk as another team installs it. `npm pack` (which builds dist/),
# install the tarball into a fresh directory, check the CLI runs with only the package's dependencies,
# `npx modal-cdk init`, install the project's dev tools, then its own `npm run synth` and `npm test`.
# Then a newcomer's next step: `npx modal-cdk import <workflow.json>`, `npm run synth`, `npm test`.
# Reaches the npm registry only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step() { echo "package tier: $*"; }
# `modal-cdk synth` into $1, which must equal the synth.out/ npm run synth wrote; $2 says what differed.
synth_same_as_first() {
  npx --no-install modal-cdk synth -q -o "$1"
  diff -r synth.out "$1" > "$1.diff" || { echo "$2:"; head -40 "$1.diff"; exit 1; }
  rm -rf "$1" "$1.diff"
}
export MODAL_CDK_CACHE_DIR="$WORK/code-cache"  # the built CLI's V8 code cache (bin/launcher.js), checked below

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

step "the CLI's code cache: one per command, a corrupt one replaced, MODAL_CDK_CACHE_DIR=off runs without"
cache="$(ls "$MODAL_CDK_CACHE_DIR"/*-synth-*.bin)"
test "$(stat -c %s "$cache")" -gt 100000
stale="${cache%-*.bin}-0000000000000000.bin"  # another build's cache of this command: replaced with it below
cp "$cache" "$stale"
head -c 5000 /dev/urandom > "$cache"
synth_same_as_first corrupt.out "a synth with a corrupt code cache differs"
test "$(stat -c %s "$cache")" -gt 100000 || { echo "the corrupt code cache was not rewritten"; exit 1; }
test ! -e "$stale" || { echo "another build's code cache was left behind"; exit 1; }
rm -rf "$MODAL_CDK_CACHE_DIR"
MODAL_CDK_CACHE_DIR=off synth_same_as_first uncached.out "a synth without a code cache differs"
test ! -e "$MODAL_CDK_CACHE_DIR" && test ! -e off

step "an exception in the app is shown at the user's file:line, with no frames of the bundle"
cp bin/app.ts app.ts.orig
sed -i "s/  return project;/  if (project) throw new Error('boom');\n  return project;/" bin/app.ts
if npx --no-install modal-cdk synth -q -o thrown.out > thrown.log 2>&1; then echo "synth passed with a throwing app"; exit 1; fi
grep -q "your stack threw while building the tree: Error: boom" thrown.log || { cat thrown.log; exit 1; }
grep -Eq "bin/app.ts:[0-9]+:" thrown.log || { echo "no bin/app.ts:line in:"; cat thrown.log; exit 1; }
! grep -q "modal-cdk.js" thrown.log || { echo "frames of the bundle shown:"; cat thrown.log; exit 1; }
mv app.ts.orig bin/app.ts

step "the built CLI deploys through the modal CLI (the recording stand-in first on PATH; execa is bundled)"
mkdir standin
PATH="$ROOT/test/fixtures/standin:$PATH" MODAL_TOKEN_ID=ak-package MODAL_TOKEN_SECRET=as-package STANDIN_DIR="$PWD/standin" STANDIN_LOG="$PWD/standin/log" \
  npx --no-install modal-cdk deploy --all --yes --skip-volume-check > deploy.log 2>&1 || { cat deploy.log; exit 1; }
grep -q '"argv":\["deploy","apps/sdxl/app.py","--name","my-app-sdxl"' standin/log || { cat standin/log deploy.log; exit 1; }
grep -q "sdxl  deployed" deploy.log || { cat deploy.log; exit 1; }

step "the templates the package ships precompiled render what compiling them at run time renders"
ls node_modules/modal-cdk/dist/templates/app.py.hbs.js > /dev/null
find node_modules/modal-cdk/dist/templates -name '*.hbs.js' -delete
synth_same_as_first compiled.out "precompiled and compiled templates differ"

step "npm test"
npm test --silent > test.log 2>&1 || { cat test.log; exit 1; }
grep -q "Tests: *4 passed, 4 total" test.log || { cat test.log; exit 1; }

step "a type error in the app fails npm test"
sed -i "s/gpu: 'L40S',/gpu: 42,/" bin/app.ts
if npm test --silent > typeerror.log 2>&1; then echo "npm test passed with a type error in bin/app.ts"; exit 1; fi
grep -q "bin/app.ts" typeerror.log
sed -i "s/gpu: 42,/gpu: 'L40S',/" bin/app.ts

step "a newcomer's workflow: npx modal-cdk import, then npm run synth"
cp "$ROOT/test/fixtures/import/sdxl_turbo_txt2img.json" "$WORK/my_workflow.json"
npx --no-install modal-cdk import "$WORK/my_workflow.json" > import.log 2>&1 || { cat import.log; exit 1; }
grep -q 'Imported workflows/my_workflow.json as app "my-workflow", endpoint /my-workflow' import.log || { cat import.log; exit 1; }
grep -q "addMyWorkflow(project);" bin/app.ts || { echo "the app was not added to bin/app.ts"; cat import.log; exit 1; }
npm run --silent synth > synth2.log 2>&1 || { cat synth2.log; exit 1; }
grep -q "Synthesized 2 app(s), 2 endpoint(s)" synth2.log || { cat synth2.log; exit 1; }
test -f synth.out/apps/my-workflow/app.py
npm test --silent > test2.log 2>&1 || { echo "npm test fails after import:"; cat test2.log; exit 1; }
echo "package tier: 9 passed, 0 failed"
