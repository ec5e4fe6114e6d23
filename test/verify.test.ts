import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { SMOKE_PNG } from '../lib/synth/smoke';
import { markdownReport } from '../lib/cli/verify-command';
import { FIXTURES, ROOT } from './helpers';
import { calls, deploy, project, type Project, start, state, TOKEN } from './standin';

// `modal-cdk verify` against a local HTTP server standing in for the example's flux app (/health, /flux,
// /flux-img2img), run as a user runs it. The real ComfyUI behind `modal-cdk serve` is in
// test/comfyui/test_verify.py.
jest.setTimeout(30_000);

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);

interface Seen {
  path: string;
  method: string;
  body: Record<string, unknown> | null;
  headers: IncomingMessage['headers'];
}

/** How the server answers /flux-img2img (and /health): set per test. */
let behaviour: 'ok' | 'status-500' | 'wrong-type' | 'not-png' | 'redirect' | 'health-503' | 'proxy-auth' = 'ok';
let seen: Seen[] = [];
let server: Server;
let base: string;

function answer(req: IncomingMessage, res: ServerResponse, body: string) {
  seen.push({ path: req.url!, method: req.method!, body: body ? JSON.parse(body) : null, headers: req.headers });
  const send = (status: number, type: string, bytes: Buffer | string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': type, ...headers }).end(bytes);
  // Modal's proxy auth: without Modal-Key / Modal-Secret, every route is refused.
  if (behaviour === 'proxy-auth' && !req.headers['modal-key'])
    return send(401, 'text/plain', 'modal-http: missing credentials for proxy authorization');
  if (req.url === '/health')
    return behaviour === 'health-503'
      ? send(503, 'text/plain', 'starting')
      : send(200, 'application/json', '{"status":"healthy"}');
  if (req.url === '/flux') return send(200, 'image/jpeg', JPEG);
  if (req.url === '/result/1') return send(200, 'image/png', SMOKE_PNG);
  if (req.url !== '/flux-img2img') return send(404, 'application/json', '{"detail":"Not Found"}');
  switch (behaviour) {
    case 'status-500':
      return send(500, 'application/json', '{"detail":"node 3 (KSampler): CUDA out of memory"}');
    case 'wrong-type':
      return send(200, 'text/html', '<html>proxy error</html>');
    case 'not-png':
      return send(200, 'image/png', 'not an image');
    case 'redirect':
      return send(303, 'text/plain', '', { location: '/result/1' });
    default:
      return send(200, 'image/png', SMOKE_PNG);
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => answer(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  behaviour = 'ok';
  seen = [];
});

const verify = (p: Project, args: string[], env: Record<string, string> = {}) =>
  start(p, ['verify', ...args], { ...TOKEN, ...env }).done;

describe('modal-cdk verify', () => {
  test('health, then each endpoint cold and warm with its smoke request; a table, JSON, a markdown report', async () => {
    const p = project();
    const report = path.join(p.dir, 'verify.md');
    const r = await verify(p, ['--app', 'flux', '--base-url', `${base}/`, '--report', report], {
      MODAL_PROXY_TOKEN_ID: 'wk-1',
      MODAL_PROXY_TOKEN_SECRET: 'ws-1',
    });
    expect([r.code, r.err]).toEqual([0, `Verifying flux at ${base}\n`]);
    expect(r.out).toMatch(/^\/flux\s+flux\s+ok 200\s+\d+\s+\d+\s+14$/m);
    expect(r.out).toMatch(new RegExp(`^/flux-img2img\\s+flux\\s+ok 200\\s+\\d+\\s+\\d+\\s+${SMOKE_PNG.length}$`, 'm'));
    expect(r.out).toContain('2 of 2 endpoint(s) passed.');
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /health',
      'POST /flux',
      'POST /flux',
      'POST /flux-img2img',
      'POST /flux-img2img',
    ]);
    // The stack's smokeRequest, then the same with the seed moved on (ComfyUI's cache is missed).
    expect(seen[1].body).toEqual({ prompt: 'a lighthouse at dusk', width: 512, height: 512, seed: 7 });
    expect(seen[2].body).toEqual({ ...seen[1].body, seed: 8 });
    // No smokeRequest: the required image gets a small PNG; the seed is left to the server (random).
    expect(seen[3].body).toEqual({ image: `data:image/png;base64,${SMOKE_PNG.toString('base64')}` });
    expect(seen.every((s) => s.headers['modal-key'] === 'wk-1' && s.headers['modal-secret'] === 'ws-1')).toBe(true);
    const md = readFileSync(report, 'utf8');
    expect(md).toMatch(
      /^# modal-cdk verify\n\n\d{4}-\d\d-\d\dT[\d:.]+Z, against http:\/\/127\.0\.0\.1:\d+: 2 of 2 endpoint\(s\) passed\./,
    );
    expect(md).toMatch(/^\| `\/flux` \| flux \| ok 200 \| \d+ \| \d+ \| 14 \|$/m);

    seen = [];
    const json = await verify(p, ['--app', 'flux', '--base-url', base, '--json', '--endpoint', '/flux']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual([
      {
        app: 'flux',
        path: '/flux',
        result: 'passed',
        status: 200,
        healthMs: expect.any(Number),
        coldMs: expect.any(Number),
        warmMs: expect.any(Number),
        bytes: 14,
      },
    ]);
    expect(seen.map((s) => s.path)).toEqual(['/health', '/flux', '/flux']);
  });

  test("with the client policy's GPU measurements, the table gives what they expect beside the live figures", async () => {
    const p = project({ clientPolicy: 'policy.yaml' });
    writeFileSync(path.join(p.dir, 'policy.yaml'), 'measurements: warmup.json\n');
    writeFileSync(
      path.join(p.dir, 'warmup.json'),
      readFileSync(path.join(ROOT, 'measurements', 'gpu-h100-warmup.json'), 'utf8'),
    );
    const r = await verify(p, ['--app', 'flux', '--base-url', base]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^endpoint\s+app\s+status\s+cold ms\s+warm ms\s+bytes\s+measured on a GPU$/m);
    expect(r.out).toMatch(
      /^\/flux\s+flux\s+ok 200\s+\d+\s+\d+\s+14\s+first 1\.4 s after warm-up, warm 1\.29 s \(NVIDIA H100 80GB HBM3\)$/m,
    );
    expect(r.out).toMatch(/^\/flux-img2img\s+flux\s+ok 200\s+\d+\s+\d+\s+\d+\s+-$/m);
  });

  test.each([
    ['status-500', 'HTTP 500: {"detail":"node 3 (KSampler): CUDA out of memory"}'],
    ['wrong-type', 'content type "text/html", expected image/png'],
    ['not-png', 'the body is not a png file (starts "not an image")'],
  ] as const)('a failing endpoint (%s) is exit 1 naming it and why; the others still run', async (mode, why) => {
    behaviour = mode;
    const p = project();
    const r = await verify(p, ['--app', 'flux', '--base-url', base]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`modal-cdk verify: /flux-img2img (flux) failed: ${why}\n`);
    expect(r.out).toMatch(/^\/flux\s+flux\s+ok 200/m);
    expect(r.out).toMatch(/^\/flux-img2img\s+flux\s+FAILED 200|^\/flux-img2img\s+flux\s+FAILED 500/m);
    expect(r.out).toContain('1 of 2 endpoint(s) passed, 1 failed.');
  });

  test("redirects are followed (Modal's 303 to a result URL); a failing /health fails every endpoint of its app", async () => {
    behaviour = 'redirect';
    const p = project();
    expect((await verify(p, ['--app', 'flux', '--base-url', base])).code).toBe(0);
    expect(seen.filter((s) => s.path === '/result/1')).toHaveLength(2);
    behaviour = 'health-503';
    const r = await verify(p, ['--app', 'flux', '--base-url', base]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/flux (flux) failed: GET /health: HTTP 503');
    expect(r.err).toContain('/flux-img2img (flux) failed: GET /health: HTTP 503');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await verify(p, ['--app', 'flux', '--base-url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/\/flux \(flux\) failed: GET \/health: fetch failed \(connect ECONNREFUSED/);
  });

  test('a 401 without proxy-auth headers says which variables to set; with them the calls pass', async () => {
    behaviour = 'proxy-auth';
    const p = project();
    const refused = await verify(p, ['--app', 'flux', '--base-url', base]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      '/flux (flux) failed: GET /health: HTTP 401 (no proxy-auth headers were sent: set MODAL_PROXY_TOKEN_ID and MODAL_PROXY_TOKEN_SECRET)',
    );
    expect(
      (
        await verify(p, ['--app', 'flux', '--base-url', base], {
          MODAL_PROXY_TOKEN_ID: 'wk-1',
          MODAL_PROXY_TOKEN_SECRET: 'ws-1',
        })
      ).code,
    ).toBe(0);
  });

  test('usage errors exit 2 before any call', async () => {
    const p = project();
    for (const [args, message] of [
      [[], 'expected --app <id> (one or more) or --all, not both and not neither'],
      [['--all', '--base-url', base], '--base-url serves one app: expected exactly one --app'],
      [
        ['--app', 'flux', '--base-url', 'localhost:8000'],
        '--base-url: got "localhost:8000", expected an http(s) URL such as http://127.0.0.1:8000',
      ],
      [
        ['--app', 'flux', '--endpoint', '/upscale'],
        '--endpoint: "/upscale" is not an endpoint of the selected apps: expected one of /flux, /flux-img2img',
      ],
      [['--app', 'wan26'], 'unknown app id "wan26": expected one of flux, upscale'],
    ] as [string[], string][]) {
      const r = await verify(p, args);
      expect([r.code, r.err]).toEqual([2, `modal-cdk verify: ${message}\n(see modal-cdk verify --help)\n`]);
    }
    expect(seen).toEqual([]);
  });

  test('deploy --verify verifies the apps it deployed, at the URLs modal deploy printed', async () => {
    const p = project();
    const env = {
      MODAL_RUN_TO: base,
      NODE_OPTIONS: `--require ${path.join(FIXTURES, 'http', 'modal-run-to-local.js')}`,
    };
    const r = await deploy(p, ['--app', 'flux', '--yes', '--verify'], { ...TOKEN, ...env });
    expect(r.code).toBe(0);
    expect(r.err).toContain('Verifying flux at https://ryla--example-flux-comfyui-fastapi-app.modal.run');
    expect(r.out).toContain('2 of 2 endpoint(s) passed.');
    behaviour = 'status-500';
    const failed = await deploy(p, ['--app', 'flux', '--yes', '--verify', '--force'], { ...TOKEN, ...env });
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('/flux-img2img (flux) failed: HTTP 500');
  });
});

test('the report lists what failed or was skipped, and why', () => {
  const md = markdownReport(
    [
      {
        app: 'a',
        path: '/x',
        result: 'failed',
        status: 504,
        healthMs: 3,
        coldMs: 2000,
        warmMs: null,
        bytes: 40,
        problem: 'HTTP 504: {"detail":\n"time limit"}',
      },
      {
        app: 'a',
        path: '/y',
        result: 'skipped',
        status: null,
        healthMs: 3,
        coldMs: null,
        warmMs: null,
        bytes: null,
        problem: '/y: field v: a video cannot be made up',
      },
    ],
    'Modal environment "main"',
    new Date('2026-12-01T00:00:00Z'),
  );
  expect(md).toBe(
    [
      '# modal-cdk verify',
      '',
      '2026-12-01T00:00:00.000Z, against Modal environment "main": 0 of 2 endpoint(s) passed, 1 failed, 1 skipped (no smoke request: declare smokeRequest). Cold is the first call after /health answered (ComfyUI loads the models), warm the second.',
      '',
      '| Endpoint | App | Status | Cold (ms) | Warm (ms) | Bytes |',
      '|---|---|---|---:|---:|---:|',
      '| `/x` | a | FAILED 504 | 2000 | - | 40 |',
      '| `/y` | a | skipped | - | - | - |',
      '',
      '## Failed or skipped',
      '',
      '- `/x` (a), failed: HTTP 504: {"detail": "time limit"}',
      '- `/y` (a), skipped: /y: field v: a video cannot be made up',
      '',
    ].join('\n'),
  );
});

describe('the release path: staging → verify → promote', () => {
  const toLocal = {
    MODAL_RUN_TO: '',
    NODE_OPTIONS: `--require ${path.join(FIXTURES, 'http', 'modal-run-to-local.js')}`,
  };
  const run = (p: Project, args: string[]) => start(p, args, { ...TOKEN, ...toLocal, MODAL_RUN_TO: base }).done;
  const release = () =>
    project({
      modal: { workspace: 'acme', environment: 'staging' },
      environments: { staging: { webSuffix: 'staging' }, main: {} },
    });

  test('verify records what passed; promote deploys exactly that to main, and refuses what was not verified', async () => {
    const p = release();
    const staged = await run(p, ['deploy', '--env', 'staging', '--app', 'flux', '--yes', '--verify']);
    expect(staged.code).toBe(0);
    const verified = state(p, 'staging').verified.flux;
    expect(verified).toMatchObject({
      passed: true,
      passedEndpoints: 2,
      failedEndpoints: 0,
      hash: state(p, 'staging').apps.flux.hash,
    });
    // upscale was never verified in staging: refused, naming it; nothing is deployed.
    const refused = await run(p, ['promote', '--from', 'staging', '--to', 'main', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'upscale: never verified in "staging" — run modal-cdk verify --app upscale --env staging',
    );
    expect(calls(p).filter((c) => c.argv.includes('main'))).toEqual([]);
    const promoted = await run(p, ['promote', '--from', 'staging', '--to', 'main', '--app', 'flux', '--yes']);
    expect(promoted.code).toBe(0);
    expect(promoted.err).not.toMatch(/modal-cdk promote|problem/); // the stack's own warnings may print
    expect(promoted.out).toContain('Promoting flux from "staging" (verified) to "main":');
    const toMain = calls(p).filter((c) => c.argv[0] === 'deploy' && c.argv.includes('main'));
    expect(toMain.map((c) => c.argv.slice(0, 6))).toEqual([
      ['deploy', 'apps/flux/app.py', '--name', 'example-flux', '--env', 'main'],
    ]);
    expect(state(p, 'main').apps.flux).toBeDefined();
  });

  test('a failed verify, or a stack changed since, is refused; --force promotes and says so', async () => {
    const p = release();
    behaviour = 'status-500';
    expect((await run(p, ['deploy', '--env', 'staging', '--app', 'flux', '--yes', '--verify'])).code).toBe(1);
    const failed = await run(p, ['promote', '--from', 'staging', '--to', 'main', '--app', 'flux', '--yes']);
    expect(failed.code).toBe(2);
    expect(failed.err).toMatch(/flux: its last verify in "staging" failed \(1 endpoint\(s\), /);
    // Verified at another hash: the stack changed since.
    const file = path.join(p.dir, '.modal-cdk', 'state', 'staging.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    saved.verified.flux = { ...saved.verified.flux, passed: true, failedEndpoints: 0, hash: 'f'.repeat(64) };
    writeFileSync(file, JSON.stringify(saved));
    const changed = await run(p, ['promote', '--from', 'staging', '--to', 'main', '--app', 'flux', '--yes']);
    expect(changed.err).toMatch(
      /flux: synth now gives [0-9a-f]{12} for "staging", but verify passed ffffffffffff .*: the stack changed since/,
    );
    behaviour = 'ok';
    const forced = await run(p, ['promote', '--from', 'staging', '--to', 'main', '--app', 'flux', '--yes', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.err).toContain(
      'modal-cdk promote: WARNING --force: promoting what was not verified: flux: synth now gives',
    );
  });

  test('usage: --from and --to, two environments that cdk-like.json names', async () => {
    const p = release();
    for (const [args, message] of [
      [['promote', '--to', 'main'], 'modal-cdk promote: expected --from <env> and --to <env>'],
      [
        ['promote', '--from', 'main', '--to', 'main'],
        'modal-cdk promote: --from and --to are both "main": expected two environments',
      ],
    ] as [string[], string][]) {
      const r = await run(p, args);
      expect([r.code, r.err.split('\n')[0]]).toEqual([2, message]);
    }
    const unknown = await run(p, ['deploy', '--env', 'prod', '--all', '--dry-run']);
    expect(unknown).toMatchObject({
      code: 1,
      err: expect.stringContaining('[cdk-like.json environments] environment "prod" is not one of "staging", "main"'),
    });
  });
});
