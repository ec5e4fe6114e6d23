import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { MODAL_CLI_VERSION } from '../lib/versions';
import {
  alive,
  calls,
  deploy,
  hasState,
  manifest,
  modes,
  type Project,
  project,
  start,
  state,
  TOKEN,
  until,
} from './standin';

// `modal-cdk deploy`, `diff` and `logs` with the stand-in `modal` (test/standin.ts).
// Each test runs whole CLI processes, and on a fresh clone the first one also compiles the TypeScript
// (the SWC cache is cold): jest's 5 s default is too tight on a loaded 2-core CI machine.
jest.setTimeout(30_000);

describe('modal-cdk deploy', () => {
  test('runs modal deploy <entry> --name --env --tag <hash prefix> in synth.out for each app, records each, prints URLs', async () => {
    const p = project();
    const run = await deploy(p, ['--all', '--yes']);
    expect(run.code).toBe(0);
    const apps = manifest(p).apps;
    expect(
      calls(p)
        .map((c) => c.argv)
        .sort(),
    ).toEqual(
      apps
        .map((a: { id: string; modalName: string; hash: string }) => [
          'deploy',
          `apps/${a.id}/app.py`,
          '--name',
          a.modalName,
          '--env',
          'main',
          '--tag',
          a.hash.slice(0, 12),
        ])
        .sort(),
    );
    expect(calls(p).every((c) => c.cwd === path.join(p.dir, 'synth.out') && c.token)).toBe(true);
    expect(Object.keys(state(p).apps).sort()).toEqual(['flux', 'upscale']);
    expect(state(p).apps.flux).toMatchObject({
      hash: apps[0].hash,
      modalName: 'example-flux',
      urls: ['https://ryla--example-flux-comfyui-fastapi-app.modal.run'],
    });
    expect(run.out).toMatch(/^\[flux\] ✓ App deployed in/m);
    expect(run.out).toMatch(
      /^flux\s+deployed\s+[\d.]+ s\s+https:\/\/ryla--example-flux-comfyui-fastapi-app\.modal\.run$/m,
    );
    expect(existsSync(path.join(p.dir, '.modal-cdk', 'deployed', 'main', 'flux', 'app.py'))).toBe(true);
    expect(run.out + run.err).not.toContain('as-test'); // the token never reaches the output

    const again = await deploy(p, ['--all', '--yes']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('Nothing to deploy');
    expect(calls(p)).toHaveLength(2); // unchanged: no Modal call

    const forced = await deploy(p, ['--app', 'upscale', '--force', '--yes']);
    expect(forced.code).toBe(0);
    expect(calls(p).map((c) => c.argv[3])).toEqual(expect.arrayContaining(['example-upscale']));
    expect(calls(p)).toHaveLength(3);
  });

  test('usage errors exit 2 without a Modal call: unknown app (listing the ids), neither --app nor --all, a bad number, no terminal without --yes', async () => {
    const p = project();
    const unknown = await deploy(p, ['--app', 'wan26', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown app id "wan26": expected one of flux, upscale');
    expect((await deploy(p, ['--yes'])).code).toBe(2);
    const bad = await deploy(p, ['--all', '--concurrency', '0', '--yes']);
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('--concurrency: got "0"')]);
    const noTty = await deploy(p, ['--all']);
    expect([noTty.code, noTty.err]).toEqual([2, expect.stringContaining('pass --yes')]);
    expect(calls(p)).toEqual([]);
  });

  test('--dry-run prints the plan and the exact commands, and runs nothing', async () => {
    const p = project();
    const run = await deploy(p, ['--all', '--dry-run'], {});
    expect(run.code).toBe(0);
    expect(run.out).toContain('flux: new in this environment');
    expect(run.out).toMatch(
      /^ {2}modal deploy apps\/flux\/app\.py --name example-flux --env main --tag [0-9a-f]{12}$/m,
    );
    // What warm GPUs cost before any request: none for flux; upscale's Berlin working hours (60 of 168 h).
    // Beside it, what a cold start costs the first user (an estimate: models, warm-up, snapshot or not).
    expect(run.out).toContain(
      'Standing cost (warm GPUs with no traffic):\n  flux: no warm L40S (a cold start after each quiet spell); a cold start ≈ 77s (17.2 GB of models, 1 endpoint(s) warmed; an estimate)\n',
    );
    expect(run.out).toContain(
      '  upscale: 0.357 warm L40S on average ≈ $16.72 a day, $501.74 in 30 days; a cold start ≈ 42s (3.9 GB of models, 0 endpoint(s) warmed; an estimate)\n',
    );
    expect(calls(p)).toEqual([]);
    expect(hasState(p)).toBe(false);
  });

  test('a client-policy violation stops before any Modal call (exit 1)', async () => {
    const p = project({ clientPolicy: 'policy.yaml' });
    writeFileSync(path.join(p.dir, 'policy.yaml'), 'gpus:\n  allowed: [H100]\n');
    const run = await deploy(p, ['--all', '--yes']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/app flux: GPU "L40S" is not allowed by policy\.yaml \(rule 1\)/);
    expect(calls(p)).toEqual([]);
  });

  test('pre-flight: no token, or no modal on PATH, is a clear error before any call', async () => {
    const p = project();
    const noToken = await deploy(p, ['--all', '--yes'], {});
    expect(noToken.code).toBe(1);
    expect(noToken.err).toContain('[Modal token] none found: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET');
    expect(calls(p)).toEqual([]);
    const noModal = await deploy(p, ['--all', '--yes'], TOKEN, false);
    expect(noModal.code).toBe(1);
    expect(noModal.err).toContain(
      `[modal] the modal CLI is not on PATH: install it with \`pip install modal==${MODAL_CLI_VERSION}\``,
    );
    // A token stored by `modal token new` counts too.
    writeFileSync(
      path.join(p.dir, '.modal.toml'),
      '[acme]\ntoken_id = "ak-stored"\ntoken_secret = "as-stored"\nactive = true\n',
    );
    expect((await deploy(p, ['--all', '--yes'], {})).code).toBe(0);
  });

  test('a hang is killed at --timeout with its whole process tree, and counts as failed', async () => {
    const p = project();
    modes(p, { 'example-flux': 'hang' });
    const started = Date.now();
    const run = await deploy(p, ['--app', 'flux', '--timeout', '1', '--yes']);
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(run.err).toContain('no result within 1 s, so the modal process tree was killed');
    const [call] = calls(p);
    const child = Number(readFileSync(path.join(p.standin, 'child.example-flux'), 'utf8'));
    await until(() => !alive(call.pid) && !alive(child), 3000);
    expect(hasState(p)).toBe(false);
  });

  test('a transient failure is retried with backoff; a build error is not', async () => {
    const p = project();
    modes(p, { 'example-flux': 'transient', 'example-upscale': 'build-error' });
    const run = await deploy(p, ['--all', '--yes']);
    expect(run.code).toBe(1);
    const byApp = (name: string) => calls(p).filter((c) => c.argv[3] === name).length;
    expect([byApp('example-flux'), byApp('example-upscale')]).toEqual([2, 1]);
    expect(run.out).toContain('[flux] modal-cdk: transient failure (attempt 1 of 3); retrying in 0.05 s');
    expect(run.err).toContain(
      "[upscale] failed: modal exited with 1: the deploy failed: see the app's output above (not retried",
    );
    // One app failing among several: the other finished and only it is recorded.
    expect(Object.keys(state(p).apps)).toEqual(['flux']);
  });

  test('a failure that stays transient gives up after deploy.retries', async () => {
    const p = project({ deploy: { retries: 1, retryDelaySeconds: 0.01 } });
    modes(p, { 'example-flux': 'flaky-always' });
    const run = await deploy(p, ['--app', 'flux', '--yes']);
    expect(run.code).toBe(1);
    expect(calls(p)).toHaveLength(2);
    expect(run.err).toContain('modal exited with 1 after 2 attempts: the network or Modal failed');
  });

  test('Modal\'s "Deployment skipped: no changes detected!" is a success', async () => {
    const p = project();
    modes(p, { 'example-flux': 'skip' });
    const run = await deploy(p, ['--app', 'flux', '--yes']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^flux\s+unchanged \(Modal skipped it\)/m);
    expect(state(p).apps.flux.hash).toBe(manifest(p).apps[0].hash);
  });

  test('SIGINT kills the running deploy; what finished stays recorded', async () => {
    const p = project({ deploy: { concurrency: 2 } });
    modes(p, { 'example-flux': 'success', 'example-upscale': 'hang' });
    const { child, done } = start(p, ['deploy', '--all', '--yes']);
    await until(() => calls(p).length === 2 && hasState(p));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(1);
    expect(run.err).toContain('interrupted');
    const hung = calls(p).find((c) => c.argv[3] === 'example-upscale')!;
    await until(() => !alive(hung.pid), 3000);
    expect(Object.keys(state(p).apps)).toEqual(['flux']);
    expect(existsSync(path.join(p.dir, '.modal-cdk', 'locks', 'main.lock'))).toBe(false);
  });

  test('one deploy per environment: a second is refused while the first holds the lock; a stale lock is taken over', async () => {
    const p = project();
    modes(p, { 'example-flux': 'slow:2' });
    const first = start(p, ['deploy', '--app', 'flux', '--yes']);
    await until(() => calls(p).length === 1);
    const second = await deploy(p, ['--app', 'upscale', '--yes']);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(
      /another deploy to environment "main" is running \(process \d+ on .* since .*\): wait for it to finish/,
    );
    expect((await first.done).code).toBe(0);
    expect(calls(p)).toHaveLength(1);

    writeFileSync(
      path.join(p.dir, '.modal-cdk', 'locks', 'main.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: require('node:os').hostname(), since: 'earlier' }),
    );
    expect((await deploy(p, ['--app', 'upscale', '--yes'])).code).toBe(0);
  });
});

describe('modal-cdk diff', () => {
  test('shows never deployed, unchanged, and a unified diff against the deployed copy', async () => {
    const p = project();
    const before = await start(p, ['diff', '--app', 'flux']).done;
    expect(before.out).toContain('flux: never deployed to "main" (every file is new)');
    expect(before.out).toContain('+++ synth.out/apps/flux/app.py');
    await deploy(p, ['--all', '--yes']);
    const same = await start(p, ['diff']).done;
    expect(same.out).toMatch(/^flux: unchanged since its deploy to "main"/m);
    expect(same.out).toMatch(/^upscale: unchanged/m);
    // Pretend the deployed flux was an older version: one line differs.
    const deployed = path.join(p.dir, '.modal-cdk', 'deployed', 'main', 'flux', 'app.py');
    writeFileSync(deployed, readFileSync(deployed, 'utf8').replace(/timeout=(\d+)/, 'timeout=60'));
    const s = state(p);
    s.apps.flux.hash = 'older';
    writeFileSync(path.join(p.dir, '.modal-cdk', 'state', 'main.json'), JSON.stringify(s));
    const changed = await start(p, ['diff', '--app', 'flux']).done;
    expect(changed.code).toBe(0);
    expect(changed.out).toContain('flux: changed since its deploy');
    expect(changed.out).toMatch(/^-\s+timeout=60,$/m);
    expect(changed.out).toMatch(/^\+\s+timeout=\d+,$/m);
    expect(calls(p)).toHaveLength(2);
  });
});

describe('modal-cdk logs', () => {
  const logs = (p: Project, args: string[]) => start(p, ['logs', ...args]).done;

  test('runs modal app logs <Modal name> --env with --since/--tail/--follow, and prints what it says', async () => {
    const p = project();
    modes(p, { 'example-flux': 'success' });
    const run = await logs(p, ['--app', 'flux', '--since', '2h', '--tail', '50']);
    expect([run.code, run.err]).toEqual([0, '']);
    expect(run.out).toBe('example-flux: container started\nexample-flux: request done in 1.2 s\n');
    expect(calls(p).map((c) => c.argv)).toEqual([
      ['app', 'logs', 'example-flux', '--env', 'main', '--since', '2h', '--tail', '50'],
    ]);
  });

  test('a fetch that never ends is cut at the limit (default 30 s; --timeout): the modal tree killed, what arrived printed, one line says so', async () => {
    const p = project();
    modes(p, { 'example-flux': 'hang' });
    const started = Date.now();
    const run = await logs(p, ['--app', 'flux', '--timeout', '1']);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(run.code).toBe(1);
    expect(run.out).toBe('example-flux: container started\n');
    expect(run.err).toBe(
      'modal-cdk: logs of flux (example-flux) cut after 1 s (--timeout): what arrived is above; modal app logs did not finish\n',
    );
    const [call] = calls(p);
    const child = Number(readFileSync(path.join(p.standin, 'child.example-flux'), 'utf8'));
    await until(() => !alive(call.pid) && !alive(child), 3000);
  });

  test('--follow ends at --timeout as a normal end (exit 0); Ctrl-C ends a follow with no limit, killing modal', async () => {
    const p = project();
    modes(p, { 'example-flux': 'hang' });
    const cut = await logs(p, ['--app', 'flux', '--follow', '--timeout', '1']);
    expect([cut.code, cut.err]).toEqual([
      0,
      'modal-cdk: logs of flux (example-flux) cut after 1 s (--timeout): what arrived is above\n',
    ]);
    expect(calls(p)[0].argv).toEqual(['app', 'logs', 'example-flux', '--env', 'main', '--follow']);

    const { child, done } = start(p, ['logs', '--app', 'flux', '-f']);
    await until(() => calls(p).length === 2);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    await until(() => !alive(calls(p)[1].pid), 3000);
  });

  test('usage errors exit 2 before any Modal call; a modal failure is exit 1 with its hint', async () => {
    const p = project();
    for (const [args, message] of [
      [[], 'expected --app <id>'],
      [['--app', 'nope'], 'unknown app id "nope": expected one of flux, upscale'],
      [['--app', 'flux', '--timeout', '0'], '--timeout: got "0", expected whole seconds ≥ 1'],
      [
        ['--app', 'flux', '--tail', 'all'],
        '--tail: got "all", expected a whole number from 1 to 20000 (what modal app logs fetches at most)',
      ],
      [
        ['--app', 'flux', '--tail', '-3'],
        '--tail: got "-3", expected a whole number from 1 to 20000 (what modal app logs fetches at most)',
      ],
      [['--app', 'flux', '--timeout', '-5'], '--timeout: got "-5", expected whole seconds ≥ 1'],
      [
        ['--app', 'flux', '--since', 'yesterday'],
        '--since: got "yesterday", expected a relative time such as 30m, 2h or 1d (whole s, m, h or d) or an ISO 8601 date-time such as 2026-03-01T05:00:00 — what modal app logs takes',
      ],
      [
        ['--app', 'flux', '--since', '2026-02-30'],
        expect.stringContaining('--since: got "2026-02-30", expected a relative time'),
      ],
      [
        ['--app', 'flux', '--sinec', '2h'],
        'unknown option --sinec: did you mean --since? (this command takes --app, --since, --tail, --follow, --timeout, --env, --help)',
      ],
      [
        ['--app', 'flux', '-f', '--since', '1h'],
        'expected --follow alone, or --since/--tail without it: modal app logs streams new entries or fetches old ones, not both',
      ],
    ] as [string[], string][]) {
      const run = await logs(p, args);
      expect([run.code, run.err]).toEqual([
        2,
        typeof message === 'string' ? `modal-cdk logs: ${message}\n(see modal-cdk logs --help)\n` : message,
      ]);
    }
    expect(calls(p)).toEqual([]);
    modes(p, { 'example-flux': 'flaky-always' });
    const failed = await logs(p, ['--app', 'flux']);
    expect(failed.code).toBe(1);
    expect([failed.out, failed.err]).toEqual([
      'Error: Could not connect to the Modal server.\n',
      'modal-cdk: modal app logs exited with 1: the network or Modal failed; try again\n',
    ]);
  });
});
