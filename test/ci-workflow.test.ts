import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEPLOY_HELP } from '../lib/cli/deploy-command';
import { VERIFY_HELP } from '../lib/cli/verify-command';
import { BASE_PIP_PACKAGES } from '../lib/synth/image-layers';
import { MODAL_CLI_VERSION } from '../lib/versions';
import buildClientsStack from './fixtures/clients-stack';
import { demoStack, ROOT } from './helpers';
import { CONTEXT_ENV_VAR } from '../lib/context';
import { configForEnv, loadConfig } from '../lib/cli/config';
import { applyConfigContext } from '../lib/cli/synthesize';

// synth.out/ci/deploy-modal.yml: valid YAML, run on a push to main, naming only commands that exist; and
// the pins it and the image share with the test environment.
const workflow = parse(buildClientsStack().synth().files.get('ci/deploy-modal.yml')!);
const steps: { uses?: string; run?: string; env?: Record<string, string> }[] = workflow.jobs.deploy.steps;
const scripts: Record<string, string> = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

test('runs on a push to main, one deploy per environment at a time', () => {
  expect(workflow.on.push.branches).toEqual(['main']);
  expect(workflow.concurrency).toEqual({ group: 'deploy-modal-main', 'cancel-in-progress': false });
});

test('npm ci, then npm run deploy -- --all --yes with the Modal token from repository secrets, then verify with its report kept', () => {
  const runs = steps.filter((s) => s.run).map((s) => s.run);
  expect(runs).toEqual([
    `pip install modal==${MODAL_CLI_VERSION}`,
    'npm ci',
    'npm run deploy -- --all --yes',
    'npm run verify -- --all --report verify-report.md',
  ]);
  expect(steps.find((s) => s.run?.startsWith('npm run verify'))!.env).toMatchObject({
    MODAL_PROXY_TOKEN_ID: '${{ secrets.MODAL_PROXY_TOKEN_ID }}',
    MODAL_PROXY_TOKEN_SECRET: '${{ secrets.MODAL_PROXY_TOKEN_SECRET }}',
  });
  const keep = steps[steps.length - 1] as { uses?: string; if?: string; with?: Record<string, string> };
  expect([keep.uses, keep.if, keep.with?.path]).toEqual(['actions/upload-artifact@v4', 'always()', 'verify-report.md']);
  expect(steps.find((s) => s.run?.startsWith('npm run deploy'))!.env).toEqual({
    MODAL_TOKEN_ID: '${{ secrets.MODAL_TOKEN_ID }}',
    MODAL_TOKEN_SECRET: '${{ secrets.MODAL_TOKEN_SECRET }}',
  });
});

test('every npm script it runs exists, and deploy takes its flags', () => {
  for (const run of steps.map((s) => s.run).filter((r): r is string => Boolean(r))) {
    const script = /^npm run (\S+)/.exec(run)?.[1];
    if (script) expect(Object.keys(scripts)).toContain(script);
  }
  expect(scripts.deploy).toBe('node bin/modal-cdk.js deploy');
  // deploy.test.ts runs `deploy --all --yes`; here: the flags are the ones its help documents.
  const help = DEPLOY_HELP;
  expect(help).toMatch(/--all\s+Deploy every app/);
  expect(help).toMatch(/-y, --yes\s+Do not ask for confirmation/);
  expect(scripts.verify).toBe('node bin/modal-cdk.js verify');
  expect(VERIFY_HELP).toMatch(/--report <file\.md>\s+Also write a markdown report/);
});

test('the modal version CI installs is the one the tests import the apps with', () => {
  const pinned = /^modal==(\S+)$/m.exec(readFileSync(path.join(ROOT, 'requirements-test.txt'), 'utf8'))?.[1];
  expect(pinned).toBe(MODAL_CLI_VERSION);
  expect(steps.filter((s) => s.uses).map((s) => s.uses!.split('@')[0])).toEqual([
    'actions/checkout',
    'actions/setup-node',
    'actions/setup-python',
    'actions/cache',
    'actions/upload-artifact',
  ]);
});

test('the FastAPI and websocket-client the image installs are the ones the tests run the app and runtime with', () => {
  const testPins = readFileSync(path.join(ROOT, 'requirements-test.txt'), 'utf8');
  for (const name of ['fastapi', 'websocket-client']) {
    const image = BASE_PIP_PACKAGES.find((p) => p.replace(/\[.*\]/, '').startsWith(`${name}==`));
    expect(image?.split('==')[1]).toBe(new RegExp(`^${name}==(\\S+)$`, 'm').exec(testPins)?.[1]);
  }
});

test('with a release path: deploy and verify in staging, then promote to main what passed', () => {
  const { project } = demoStack({ project: { releasePath: { from: 'staging', to: 'main' } } });
  const release = parse(project.synth().files.get('ci/deploy-modal.yml')!);
  const runs = (release.jobs.deploy.steps as { run?: string }[]).filter((s) => s.run).map((s) => s.run);
  expect(runs.slice(-3)).toEqual([
    'npm run deploy -- --all --yes --env staging',
    'npm run verify -- --all --report verify-report.md --env staging',
    'npm run promote -- --from staging --to main --yes',
  ]);
  expect(scripts.promote).toBe('node bin/modal-cdk.js promote');
});

test("an environment's web suffix is in every URL of the clients and docs (https://<workspace>-<suffix>--…)", () => {
  const saved = process.env[CONTEXT_ENV_VAR];
  const config = { ...loadConfig(ROOT), clientPolicy: undefined, modal: { workspace: 'acme', environment: 'staging' } };
  applyConfigContext(
    configForEnv({ ...config, environments: { staging: { webSuffix: 'stg', context: {} } } }, 'staging'),
  );
  try {
    const files = buildClientsStack().synth().files;
    const urls = Object.values(JSON.parse(files.get('clients/endpoints.json')!).endpoints).map(
      (e) => (e as { url: string }).url,
    );
    expect(urls.every((u) => u.startsWith('https://acme-stg--cli-'))).toBe(true);
    expect(files.get('docs/ENDPOINT-APP-MAPPING.md')).toContain(
      'https://acme-stg--cli-images-comfyui-fastapi-app.modal.run/draw',
    );
  } finally {
    if (saved === undefined) delete process.env[CONTEXT_ENV_VAR];
    else process.env[CONTEXT_ENV_VAR] = saved;
  }
});
