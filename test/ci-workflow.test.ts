import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEPLOY_HELP } from '../lib/cli/deploy-command';
import { VERIFY_HELP } from '../lib/cli/verify-command';
import { BASE_PIP_PACKAGES } from '../lib/synth/image-layers';
import { MODAL_CLI_VERSION } from '../lib/versions';
import buildClientsStack from './fixtures/clients-stack';
import { ROOT } from './helpers';

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
