import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { calls, deploy, manifest, modes, type Project, project, start, state } from './standin';
import { tempDir } from './helpers';

// Day-2 commands with the stand-in `modal` (test/standin.ts, test/fixtures/standin/modal): status, models,
// rollback and deploy's volume check. verify is in verify.test.ts (HTTP) and test/comfyui (real ComfyUI).
jest.setTimeout(30_000);

const run = (p: Project, args: string[]) => start(p, args).done;
const hashes = (p: Project) =>
  Object.fromEntries(manifest(p).apps.map((a: { id: string; hash: string }) => [a.id, a.hash]));
const write = (p: Project, file: string, json: unknown) =>
  writeFileSync(path.join(p.standin, file), JSON.stringify(json));
const listed = (entries: [string, string][]) =>
  entries.map(([name, s], i) => ({
    app_id: `ap-${i}`,
    description: name,
    state: s,
    tasks: '0',
    created_at: '2026-12-01 10:00:00+00:00',
    stopped_at: null,
  }));
const LORA = ['volumes', 'example-models', 'loras', 'example-style.safetensors'];
/** Modal lists both apps as deployed, each at the version this project deployed (`h`: their hashes). */
const listedAsDeployed = (p: Project, h: Record<string, string>) => {
  write(
    p,
    'apps.json',
    listed([
      ['example-flux', 'deployed'],
      ['example-upscale', 'deployed'],
    ]),
  );
  write(p, 'history.example-flux.json', [{ version: 'v1', time_deployed: 'x', tag: h.flux.slice(0, 12) }]);
  write(p, 'history.example-upscale.json', [{ version: 'v1', time_deployed: 'x', tag: h.upscale.slice(0, 12) }]);
};

describe('modal-cdk status', () => {
  test('compares synth, the state file and Modal (app list + newest history tag): each state, exit 1 on drift', async () => {
    const p = project();
    expect((await deploy(p, ['--all', '--yes'])).code).toBe(0);
    const h = hashes(p);
    write(
      p,
      'apps.json',
      listed([
        ['example-flux', 'stopped'],
        ['example-flux', 'deployed'],
        ['example-upscale', 'deployed'],
      ]),
    );
    write(p, 'history.example-flux.json', [
      { version: 'v2', time_deployed: 'x', tag: h.flux.slice(0, 12) },
      { version: 'v1', time_deployed: 'x', tag: 'aaaaaaaaaaaa' },
    ]);
    write(p, 'history.example-upscale.json', [{ version: 'v1', time_deployed: 'x', tag: h.upscale.slice(0, 12) }]);
    const ok = await run(p, ['status']);
    expect([ok.code, ok.err]).toEqual([0, '']);
    expect(ok.out).toMatch(
      new RegExp(
        `^flux\\s+example-flux\\s+${h.flux.slice(0, 12)}\\s+${h.flux.slice(0, 12)}\\s+deployed v2 tag ${h.flux.slice(0, 12)}\\s+up to date$`,
        'm',
      ),
    );
    expect(
      calls(p)
        .filter((c) => c.argv[0] === 'app')
        .map((c) => c.argv),
    ).toEqual([
      ['app', 'list', '--env', 'main', '--json'],
      ['app', 'history', 'example-flux', '--env', 'main', '--json'],
      ['app', 'history', 'example-upscale', '--env', 'main', '--json'],
    ]);

    // Someone deployed upscale by hand (another tag); flux is stopped; then missing.
    write(p, 'history.example-upscale.json', [{ version: 'v2', time_deployed: 'x', tag: 'bbbbbbbbbbbb' }]);
    write(
      p,
      'apps.json',
      listed([
        ['example-flux', 'stopped'],
        ['example-upscale', 'deployed'],
      ]),
    );
    const drift = await run(p, ['status', '--json']);
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.out).map((r: { app: string; status: string }) => [r.app, r.status])).toEqual([
      ['flux', 'stopped'],
      ['upscale', 'deployed from elsewhere'],
    ]);
    write(p, 'apps.json', listed([['example-upscale', 'deployed']]));
    expect(JSON.parse((await run(p, ['status', '--json'])).out)[0]).toMatchObject({
      app: 'flux',
      status: 'missing on Modal',
      modal: { state: null },
    });

    // The stack changed since the recorded deploy, which Modal still runs.
    const file = path.join(p.dir, '.modal-cdk', 'state', 'main.json');
    const recorded = JSON.parse(readFileSync(file, 'utf8'));
    recorded.apps.upscale = { ...recorded.apps.upscale, hash: 'c'.repeat(64), tag: 'cccccccccccc' };
    writeFileSync(file, JSON.stringify(recorded));
    write(p, 'history.example-upscale.json', [{ version: 'v3', time_deployed: 'x', tag: 'cccccccccccc' }]);
    expect(JSON.parse((await run(p, ['status', '--json'])).out)[1]).toMatchObject({
      app: 'upscale',
      status: 'changed since deploy',
      deployedHash: 'c'.repeat(64),
    });
  });

  test('a Modal failure is exit 1 with why, not a drift report', async () => {
    const p = project();
    modes(p, { default: 'flaky-always' });
    const failed = await run(p, ['status']);
    expect([failed.code, failed.out]).toEqual([1, '']);
    expect(failed.err).toContain(
      'modal-cdk status: could not ask Modal: modal app list exited with 1: the network or Modal failed',
    );
  });
});

describe("modal-cdk models and deploy's volume check", () => {
  test('ls lists each VolumeModel with its volume path and whether the volume has it (exit 1 when missing)', async () => {
    const p = project();
    const present = await run(p, ['models', 'ls', '--app', 'flux']);
    expect([present.code, present.err]).toEqual([0, '']);
    expect(present.out).toMatch(
      /^example\/flux\/StyleLora\s+example-models\s+loras\/example-style\.safetensors\s+file, 10 bytes$/m,
    );
    expect(calls(p, true).map((c) => c.argv)).toEqual([
      ['volume', 'ls', 'example-models', '/loras', '--env', 'main', '--json'],
    ]);
    rmSync(path.join(p.standin, ...LORA));
    const missing = await run(p, ['models', 'ls', '--app', 'flux']);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/loras\/example-style\.safetensors\s+missing$/m);
    expect(missing.err).toContain('1 missing: modal-cdk models upload --app flux --from <dir> puts them there');
    rmSync(path.join(p.standin, 'volumes'), { recursive: true }); // the volume itself does not exist
    expect((await run(p, ['models', 'ls', '--app', 'flux'])).out).toMatch(/missing$/m);
    expect((await run(p, ['models', 'ls', '--app', 'upscale'])).out).toBe(
      'upscale has no VolumeModel: every model file it uses is in its image.\n',
    );
  });

  test('deploy refuses an app whose volume file is missing, naming it, before any deploy; --skip-volume-check deploys', async () => {
    const p = project();
    rmSync(path.join(p.standin, ...LORA));
    const refused = await deploy(p, ['--all', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      '[example/flux/StyleLora] app flux: loras/example-style.safetensors is not on volume example-models in "main": the app would start without it — upload it (modal-cdk models upload --app flux --from <dir>), or pass --skip-volume-check',
    );
    expect(calls(p)).toEqual([]);
    const skipped = await deploy(p, ['--all', '--yes', '--skip-volume-check']);
    expect(skipped.code).toBe(0);
    expect(calls(p, true).filter((c) => c.argv[0] === 'volume')).toHaveLength(1); // only the refused run listed
  });

  test('upload puts the missing files from --from and checks their size after; --dry-run prints the commands', async () => {
    const p = project();
    rmSync(path.join(p.standin, ...LORA));
    const local = tempDir('modal-cdk-models-');
    mkdirSync(path.join(local, 'loras'));
    writeFileSync(path.join(local, 'loras', 'example-style.safetensors'), 'the real lora bytes');
    const dry = await run(p, ['models', 'upload', '--app', 'flux', '--from', local, '--dry-run']);
    expect([dry.code, dry.out]).toEqual([
      0,
      `Would run: modal volume put example-models ${path.join(local, 'loras', 'example-style.safetensors')} /loras/example-style.safetensors --env main\n`,
    ]);
    expect(calls(p, true)).toEqual([]);

    writeFileSync(path.join(p.standin, 'mode.volume-put'), 'truncate');
    const short = await run(p, ['models', 'upload', '--app', 'flux', '--from', local]);
    expect(short.code).toBe(1);
    expect(short.err).toContain(
      'loras/example-style.safetensors: 18 bytes on example-models, expected 19 (the local file): upload it again',
    );
    rmSync(path.join(p.standin, 'mode.volume-put'));
    rmSync(path.join(p.standin, ...LORA));
    const ok = await run(p, ['models', 'upload', '--app', 'flux', '--from', local]);
    expect([ok.code, ok.err]).toEqual([0, '']);
    expect(ok.out).toContain('1 of 1 uploaded and checked.');
    expect(readFileSync(path.join(p.standin, ...LORA), 'utf8')).toBe('the real lora bytes');
    const again = await run(p, ['models', 'upload', '--app', 'flux', '--from', local]);
    expect(again.out).toContain('loras/example-style.safetensors: already on example-models (19 bytes), left alone');
  });

  test('usage: subcommand, --app, --from that exists and has the files', async () => {
    const p = project();
    for (const [args, message] of [
      [['models'], 'expected a sub-command, ls or upload, before the options, got nothing'],
      [
        ['models', '--app', 'flux', 'ls'],
        'expected a sub-command, ls or upload, before the options, got the option --app first',
      ],
      [['models', 'rm', '--app', 'flux'], 'expected a sub-command, ls or upload, before the options, got "rm"'],
      [['models', 'ls'], 'expected --app <id>'],
      [['models', 'upload', '--app', 'flux'], 'upload: expected --from <dir>, the local folder laid out as the volume'],
      [['models', 'upload', '--app', 'flux', '--from', '/nonexistent'], '--from: "/nonexistent" does not exist'],
      [['models', 'ls', '--app', 'nope'], 'unknown app id "nope": expected one of flux, upscale'],
    ] as [string[], string][]) {
      const r = await run(p, args);
      expect([r.code, r.err]).toEqual([2, `modal-cdk models: ${message}\n(see modal-cdk models --help)\n`]);
    }
    rmSync(path.join(p.standin, ...LORA));
    const empty = tempDir('modal-cdk-models-');
    const absent = await run(p, ['models', 'upload', '--app', 'flux', '--from', empty]);
    expect([absent.code, absent.err]).toEqual([
      1,
      `modal-cdk models upload: not in ${empty}: loras/example-style.safetensors (example/flux/StyleLora): expected the folder laid out as the volume\n`,
    ]);
  });
});

describe('modal-cdk rollback', () => {
  test('rolls back to the version before the newest, then records its tag, hash and new version; status agrees', async () => {
    const p = project();
    expect((await deploy(p, ['--all', '--yes'])).code).toBe(0);
    const h = hashes(p);
    const file = path.join(p.dir, '.modal-cdk', 'state', 'main.json');
    const recorded = JSON.parse(readFileSync(file, 'utf8'));
    recorded.tags.aaaaaaaaaaaa = 'a'.repeat(64); // an earlier deploy from here
    writeFileSync(file, JSON.stringify(recorded));
    write(p, 'history.example-flux.json', [
      { version: 'v2', time_deployed: 'x', tag: h.flux.slice(0, 12) },
      { version: 'v1', time_deployed: 'x', tag: 'aaaaaaaaaaaa' },
    ]);
    const r = await run(p, ['rollback', '--app', 'flux', '--yes']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain('✓ Deployment rollback successful!');
    expect(r.out).toContain('Rolled back example-flux in "main" from v2 to v1 (tag aaaaaaaaaaaa), now v3');
    expect(
      calls(p)
        .filter((c) => c.argv[0] === 'app')
        .map((c) => c.argv),
    ).toEqual([
      ['app', 'history', 'example-flux', '--env', 'main', '--json'],
      ['app', 'rollback', 'example-flux', 'v1', '--env', 'main'],
      ['app', 'history', 'example-flux', '--env', 'main', '--json'],
    ]);
    expect(state(p).apps.flux).toMatchObject({ hash: 'a'.repeat(64), tag: 'aaaaaaaaaaaa', version: 'v3' });
    expect(existsSync(path.join(p.dir, '.modal-cdk', 'deployed', 'main', 'flux'))).toBe(false);
    write(
      p,
      'apps.json',
      listed([
        ['example-flux', 'deployed'],
        ['example-upscale', 'deployed'],
      ]),
    );
    write(p, 'history.example-upscale.json', [{ version: 'v1', time_deployed: 'x', tag: h.upscale.slice(0, 12) }]);
    // Modal's newest version (v3, untagged) is the one recorded: ours, and the stack differs from it.
    expect(JSON.parse((await run(p, ['status', '--json'])).out)[0]).toMatchObject({
      app: 'flux',
      status: 'changed since deploy',
    });
    // The next deploy deploys the stack's content again.
    expect((await deploy(p, ['--app', 'flux', '--dry-run'])).out).toContain('flux: changed (aaaaaaaaaaaa →');
  });

  test('--to picks a version; unknown versions, a failed rollback and no terminal are refused, the state untouched', async () => {
    const p = project();
    write(p, 'history.example-flux.json', [
      { version: 'v3', time_deployed: 'x', tag: 'cccccccccccc' },
      { version: 'v2', time_deployed: 'x' },
      { version: 'v1', time_deployed: 'x', tag: 'aaaaaaaaaaaa' },
    ]);
    const to = await run(p, ['rollback', '--app', 'flux', '--to', 'v2', '--yes']);
    expect(to.code).toBe(0);
    expect(state(p).apps.flux).toMatchObject({ hash: 'unknown (restored v2)', tag: '', version: 'v4' });
    const unknown = await run(p, ['rollback', '--app', 'flux', '--to', 'v9', '--yes']);
    expect([unknown.code, unknown.err]).toEqual([
      1,
      'modal-cdk rollback: v9 is not a version of example-flux in "main" (versions: v4, v3, v2, v1)\n',
    ]);
    const newest = await run(p, ['rollback', '--app', 'flux', '--to', 'v4', '--yes']);
    expect(newest.err).toBe(
      'modal-cdk rollback: v4 is already the newest version of example-flux: nothing to roll back\n',
    );
    modes(p, { 'example-flux': 'not-deployed' });
    const before = readFileSync(path.join(p.dir, '.modal-cdk', 'state', 'main.json'), 'utf8');
    const refused = await run(p, ['rollback', '--app', 'flux', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("Error: App 'example-flux' is not deployed.");
    expect(refused.err).toBe(
      'modal-cdk rollback: modal app rollback exited with 1: see its output above; the state file is unchanged\n',
    );
    expect(readFileSync(path.join(p.dir, '.modal-cdk', 'state', 'main.json'), 'utf8')).toBe(before);
    for (const [args, message] of [
      [['--app', 'flux'], 'not a terminal, so no one can confirm: pass --yes to roll back without asking'],
      [
        ['--app', 'flux', '--to', '3', '--yes'],
        '--to: got "3", expected a version as modal app history names it, e.g. v3',
      ],
      [['--yes'], 'expected --app <id>'],
    ] as [string[], string][]) {
      const r = await run(p, ['rollback', ...args]);
      expect([r.code, r.err]).toEqual([2, `modal-cdk rollback: ${message}\n(see modal-cdk rollback --help)\n`]);
    }
  });
});

describe('modal-cdk destroy', () => {
  test('stops each app with modal app stop, records it, and status then says stopped; volumes untouched', async () => {
    const p = project();
    expect((await deploy(p, ['--all', '--yes'])).code).toBe(0);
    const h = hashes(p);
    listedAsDeployed(p, h);
    const stopped = await run(p, ['destroy', '--app', 'flux', '--yes']);
    expect([stopped.code, stopped.err]).toEqual([0, '']);
    expect(stopped.out).toContain('Stopped example-flux in "main" (volumes and secrets untouched)');
    expect(
      calls(p)
        .filter((c) => c.argv[1] === 'stop')
        .map((c) => c.argv),
    ).toEqual([['app', 'stop', 'example-flux', '--yes', '--env', 'main']]);
    expect(calls(p).some((c) => c.argv[0] === 'volume' && c.argv[1] !== 'ls')).toBe(false);
    expect(state(p).stopped).toEqual({ flux: { modalName: 'example-flux', stoppedAt: expect.any(String) } });
    expect(existsSync(path.join(p.standin, ...LORA))).toBe(true);
    const status = await run(p, ['status', '--json']);
    expect(JSON.parse(status.out).map((r: { app: string; status: string }) => [r.app, r.status])).toEqual([
      ['flux', 'stopped'],
      ['upscale', 'up to date'],
    ]);
    // Stopped apps may drop out of Modal's list: the state still says what happened.
    write(p, 'apps.json', listed([['example-upscale', 'deployed']]));
    expect(JSON.parse((await run(p, ['status', '--json'])).out)[0].status).toBe('stopped');
    // A deploy brings it back and clears the record.
    expect((await deploy(p, ['--app', 'flux', '--force', '--yes'])).code).toBe(0);
    expect(state(p).stopped).toEqual({});
  });

  test('refusals: no --app, an unknown app, no terminal without --yes; a failed stop is exit 1 and not recorded', async () => {
    const p = project();
    for (const [args, message] of [
      [['destroy'], 'expected --app <id> (repeat for several)'],
      [
        ['destroy', '--app', 'flux'],
        'not a terminal, so no one can confirm: pass --yes to stop the apps without asking',
      ],
      [['destroy', '--app', 'nope', '--yes'], 'unknown app id "nope": expected one of flux, upscale'],
    ] as [string[], string][]) {
      const r = await run(p, args);
      expect([r.code, r.err]).toEqual([2, `modal-cdk destroy: ${message}\n(see modal-cdk destroy --help)\n`]);
    }
    expect(calls(p)).toEqual([]);
    modes(p, { 'example-upscale': 'already-stopped' });
    const failed = await run(p, ['destroy', '--app', 'upscale', '--app', 'flux', '--yes']);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('modal-cdk destroy: modal app stop example-upscale exited with 1');
    expect(state(p).stopped).toEqual({ flux: { modalName: 'example-flux', stoppedAt: expect.any(String) } });
    expect((await run(p, ['destroy', '--help'])).out).toMatch(/Never touches the apps' Modal Volumes .* or Secrets/s);
  });
});

describe('modal-cdk scale', () => {
  const pythonCalls = (p: Project) =>
    existsSync(path.join(p.standin, 'python.log'))
      ? readFileSync(path.join(p.standin, 'python.log'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];

  test("runs update_autoscaler through the project's Python, records it, and status shows live scaling unlike the stack", async () => {
    const p = project();
    expect((await deploy(p, ['--all', '--yes'])).code).toBe(0);
    const h = hashes(p);
    const scaled = await run(p, [
      'scale',
      '--app',
      'flux',
      '--min',
      '2',
      '--scaledown',
      '10m',
      '--python',
      'standin-python',
    ]);
    expect([scaled.code, scaled.err]).toEqual([0, '']);
    expect(scaled.out).toContain('Scaled example-flux in "main": min 2, max 4, buffer 0, scaledown 10m; recorded');
    const [argv] = pythonCalls(p);
    expect(argv[0]).toBe('-c');
    expect(argv[1]).toContain('modal.Cls.from_name(a["app"], a["cls"], environment_name=a["env"])');
    expect(argv[1]).toContain('cls().update_autoscaler(**a["settings"])');
    expect(JSON.parse(argv[2])).toEqual({
      app: 'example-flux',
      cls: 'ComfyUI',
      env: 'main',
      settings: { min_containers: 2, scaledown_window: 600 },
    });
    expect(state(p).scaling.flux).toMatchObject({
      minContainers: 2,
      maxContainers: 4,
      bufferContainers: 0,
      scaledownWindowSeconds: 600,
    });
    expect(calls(p).filter((c) => c.argv[0] === 'deploy')).toHaveLength(2); // no redeploy
    listedAsDeployed(p, h);
    const status = await run(p, ['status']);
    expect(status.out).toMatch(
      /^flux .*up to date; live scaling minContainers 2 \(stack 0\), scaledownWindowSeconds 600 \(stack 300\)$/m,
    );
    expect(JSON.parse((await run(p, ['status', '--json'])).out)[0].liveScaling).toEqual({
      minContainers: { live: 2, stack: 0 },
      scaledownWindowSeconds: { live: 600, stack: 300 },
    });
    // A deploy resets the autoscaler (Modal does) and the record.
    expect((await deploy(p, ['--app', 'flux', '--force', '--yes'])).code).toBe(0);
    expect(state(p).scaling).toEqual({});
  });

  test("refusals: no setting, bad numbers, min over max, over the client policy's limits; a failure records nothing", async () => {
    const p = project({ clientPolicy: 'policy.yaml' });
    writeFileSync(path.join(p.dir, 'policy.yaml'), 'scaling:\n  maxWarmContainers: 2\n  maxContainers: 6\n');
    for (const [args, message] of [
      [['--app', 'flux'], 'expected at least one of --min, --max, --buffer, --scaledown'],
      [['--app', 'flux', '--min', '-1'], '--min: got "-1", expected a whole number ≥ 0'],
      [['--app', 'flux', '--max', '0'], '--max: got "0", expected a whole number ≥ 1'],
      [
        ['--app', 'flux', '--scaledown', 'soon'],
        '--scaledown: got "soon", expected a duration such as 30s or 5m (at least 2 s)',
      ],
      [
        ['--app', 'flux', '--min', '5'],
        "flux: 5 warm containers (min + buffer), more than the client policy's scaling.maxWarmContainers 2; min 5 containers, more than max 4 — nothing changed",
      ],
      [
        ['--app', 'flux', '--max', '8'],
        "flux: max 8 containers, more than the client policy's scaling.maxContainers 6 — nothing changed",
      ],
      [
        ['--app', 'flux', '--min', '1', '--buffer', '2'],
        "flux: 3 warm containers (min + buffer), more than the client policy's scaling.maxWarmContainers 2 — nothing changed",
      ],
    ] as [string[], string][]) {
      const r = await run(p, ['scale', ...args, '--python', 'standin-python']);
      expect([r.code, r.err]).toEqual([2, `modal-cdk scale: ${message}\n(see modal-cdk scale --help)\n`]);
    }
    expect(pythonCalls(p)).toEqual([]);
    modes(p, { python: 'fail' });
    const failed = await run(p, ['scale', '--app', 'flux', '--min', '1', '--python', 'standin-python']);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('Lookup failed for Cls');
    expect(failed.err).toContain('modal-cdk scale: update_autoscaler of example-flux exited with 1');
    expect(existsSync(path.join(p.dir, '.modal-cdk', 'state', 'main.json'))).toBe(false);
  });
});
