import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import ts from 'typescript';
import type { Manifest } from '../lib/synth/spec';
import buildClientsStack from './fixtures/clients-stack';
import { tempDir } from './helpers';

// The client artifacts of the tool's clients stack (test/fixtures/clients-stack.ts): the same values as
// the apps, and clients that work. RYLA's own values are in ryla-stack.test.ts.
const assembly = buildClientsStack().synth();
const manifest: Manifest = JSON.parse(assembly.files.get('manifest.json')!);
const endpointsJson = JSON.parse(assembly.files.get('clients/endpoints.json')!);
const allEndpoints = manifest.apps.flatMap((app) => app.endpoints.map((e) => ({ app, e })));

/** `<app>-<class>-<method>` of the web method the generated app.py really serves, as Modal builds labels. */
function labelFromAppPy(appId: string, modalName: string): string {
  const source = assembly.files.get(`apps/${appId}/app.py`)!;
  const cls = /^@app\.cls\([\s\S]*?^class (\w+)/m.exec(source)![1];
  const method = /@modal\.asgi_app\([^)]*\)\n\s+def (\w+)\(/.exec(source)![1];
  return `${modalName}-${cls}-${method}`.toLowerCase().replace(/_/g, '-');
}

describe('clients/endpoints.json', () => {
  it('has every endpoint with its app, client timeout and a URL built from the class and method app.py serves', () => {
    expect(Object.keys(endpointsJson.endpoints).sort()).toEqual(allEndpoints.map(({ e }) => e.path).sort());
    for (const { app, e } of allEndpoints) {
      const entry = endpointsJson.endpoints[e.path];
      expect(entry).toMatchObject({
        app: app.id,
        modalName: app.modalName,
        clientTimeoutMs: e.clientTimeoutMs,
        serverTimeoutSeconds: app.timeoutSeconds,
        contentType: e.contentType,
      });
      expect(entry.url).toBe(`https://acme--${labelFromAppPy(app.id, app.modalName)}.modal.run${e.path}`);
      expect(entry.urlTemplate.replace('{workspace}', 'acme').replace('{path}', e.path)).toBe(entry.url);
    }
    expect(endpointsJson.endpoints['/frames.v2']).toMatchObject({
      url: 'https://acme--cli-frames-comfyui-fastapi-app.modal.run/frames.v2',
      clientTimeoutMs: 7 * 60_000,
      serverTimeoutSeconds: 600,
    });
    expect(endpointsJson.endpoints['/draw']).toMatchObject({
      clientTimeoutMs: 3 * 60_000,
      serverTimeoutSeconds: 300,
      contentType: 'image/jpeg',
      requiresProxyAuth: true,
    });
  });

  it('carries a request JSON Schema with required fields, bounds, aliases and one-of groups', () => {
    const draw = endpointsJson.endpoints['/draw'].requestSchema;
    expect(draw.required).toEqual(['prompt']);
    expect(draw.description).toBe('Request body of POST /draw');
    // An optional field may be null, which means left out (its default applies).
    expect(draw.properties.width).toEqual({
      anyOf: [{ type: 'integer', minimum: 64, maximum: 2048 }, { type: 'null' }],
      default: 1024,
      description: 'Output width in pixels',
    });
    expect(draw.properties.sampler).toEqual({
      anyOf: [{ type: 'string', enum: ['euler', 'dpmpp_2m'] }, { type: 'null' }],
      default: 'euler',
    });
    const frames = endpointsJson.endpoints['/frames.v2'].requestSchema;
    expect(frames.properties.num_frames).toMatchObject({
      deprecated: true,
      anyOf: [{ type: 'integer', minimum: 1, maximum: 16 }, { type: 'null' }],
    });
    const styled = endpointsJson.endpoints['/styled'].requestSchema;
    // Sent means with a value: null, and "" for these defaultWhenEmpty fields, count as left out.
    const sent = (name: string, absent: unknown[] = [null, '']) => ({
      required: [name],
      properties: { [name]: { not: { enum: absent } } },
    });
    expect(styled.allOf).toEqual([{ anyOf: [sent('style_name'), sent('style_id')] }]);
    // 2^64 - 1 exactly (a JavaScript number would have written 18446744073709552000).
    expect(assembly.files.get('clients/endpoints.json')).toContain('"maximum": 18446744073709551615');
  });
});

describe('docs/ENDPOINT-APP-MAPPING.md', () => {
  it('has one row per endpoint: path, app, URL, client and server timeout, GPU, inputs', () => {
    const rows = assembly.files
      .get('docs/ENDPOINT-APP-MAPPING.md')!
      .split('\n')
      .filter((l) => l.startsWith('| `/'));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| `/draw`', '| `/styled`', '| `/frames.v2`']);
    expect(rows[2].split(' | ')).toEqual([
      '| `/frames.v2`',
      '`frames`',
      'https://acme--cli-frames-comfyui-fastapi-app.modal.run/frames.v2',
      '7m',
      '10m',
      'H100 → A100-80GB',
      '`length\\|num_frames` [1] |',
    ]);
    expect(rows[0]).toContain(' | 3m | 5m | L40S | `prompt`*, `width` [1024], `sampler` [euler], `seed` |');
  });
});

describe('clients/endpoints.ts', () => {
  const dir = tempDir('modal-cdk-client-');
  const clientFile = path.join(dir, 'endpoints.ts');
  writeFileSync(clientFile, assembly.files.get('clients/endpoints.ts')!);

  it('compiles with tsc --strict, and its types refuse an unknown path, a missing field and a wrong type', () => {
    const usage = path.join(dir, 'usage.ts');
    writeFileSync(
      usage,
      [
        "import { callEndpoint, endpointUrl, ENDPOINT_APP_MAP, ENDPOINT_TIMEOUT_MS, jobResult, submitJob, waitForJob } from './endpoints';",
        "export const app: 'frames' = ENDPOINT_APP_MAP['/frames.v2'];",
        "export const ms: number = ENDPOINT_TIMEOUT_MS['/styled'];",
        "export const url: string = endpointUrl('acme', '/draw');",
        "export const ok = () => callEndpoint('/draw', { prompt: 'a cat', width: 512 });",
        "export const job = () => submitJob('/draw', { prompt: 'a cat' }).then((j) => waitForJob('/draw', j.id)).then((j) => jobResult(j.endpoint, j.id));",
        '// @ts-expect-error a job takes the same typed body',
        "export const badJob = () => submitJob('/draw', { width: 512 });",
        "export const alias = () => callEndpoint('/frames.v2', { num_frames: 9 });",
        '// @ts-expect-error an unknown path',
        "export const badPath = () => callEndpoint('/nope', { prompt: 'x' });",
        '// @ts-expect-error prompt is required',
        "export const missing = () => callEndpoint('/draw', { width: 512 });",
        '// @ts-expect-error width is a number',
        "export const wrongType = () => callEndpoint('/draw', { prompt: 'x', width: '512' });",
        '// @ts-expect-error sampler is one of the enum values',
        "export const badEnum = () => callEndpoint('/draw', { prompt: 'x', sampler: 'ddim' });",
        '// @ts-expect-error frames belong to the frames app',
        "export const wrongApp: 'images' = ENDPOINT_APP_MAP['/frames.v2'];",
        '',
      ].join('\n'),
    );
    const program = ts.createProgram([clientFile, usage], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022, // dynamic import() (the Node modules downloadOutput loads) needs es2020 or later
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      skipLibCheck: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  });

  describe('callEndpoint against a local server', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const client = require(clientFile);
    let server: Server;
    let baseUrl: string;
    let handler: (req: IncomingMessage, res: ServerResponse) => void;
    const seen: { method?: string; url?: string; headers: IncomingMessage['headers'] }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push({ method: req.method, url: req.url, headers: req.headers });
        req.resume();
        req.on('end', () => handler(req, res));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    beforeEach(() => (seen.length = 0));

    it('follows a 303 to the result URL and returns its bytes and headers', async () => {
      handler = (req, res) => {
        if (req.method === 'POST') res.writeHead(303, { location: '/draw?__modal_function_call_id=fc-1' }).end();
        else
          res
            .writeHead(200, {
              'content-type': 'image/jpeg',
              'x-seed': '7',
              'x-execution-time-ms': '1234',
              'x-cost-usd': '0.0012',
            })
            .end(Buffer.from([0xff, 0xd8, 0xff]));
      };
      const result = await client.callEndpoint('/draw', { prompt: 'a cat' }, { baseUrl, sync: true });
      expect(result).toMatchObject({
        status: 200,
        contentType: 'image/jpeg',
        seed: '7',
        executionTimeMs: 1234,
        costUsd: 0.0012,
      });
      expect([...result.body]).toEqual([0xff, 0xd8, 0xff]);
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
        'POST /draw',
        'GET /draw?__modal_function_call_id=fc-1',
      ]);
    });

    it('tells a server 408 from its own timeout', async () => {
      handler = (_req, res) =>
        res
          .writeHead(408, { 'content-type': 'text/plain' })
          .end('Missing request, possibly due to expiry or cancellation');
      await expect(client.callEndpoint('/draw', { prompt: 'x' }, { baseUrl, sync: true })).rejects.toMatchObject({
        kind: 'server-timeout',
        status: 408,
        body: expect.stringContaining('Missing request'),
      });
    });

    it('gives up after the client timeout when the server never answers', async () => {
      handler = () => undefined; // never answers
      const started = Date.now();
      await expect(
        client.callEndpoint('/draw', { prompt: 'x' }, { baseUrl, timeoutMs: 300, sync: true }),
      ).rejects.toMatchObject({
        kind: 'client-timeout',
        message: expect.stringContaining('300 ms'),
      });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('uses the endpoint timeout from the policy by default', () => {
      expect(client.ENDPOINT_TIMEOUT_MS['/frames.v2']).toBe(420_000);
      expect(client.ENDPOINT_TIMEOUT_MS['/draw']).toBe(180_000);
    });

    it('sends the proxy-auth headers from the environment, and reports other HTTP errors with their body', async () => {
      handler = (_req, res) =>
        res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"prompt: field required"}');
      process.env.MODAL_PROXY_TOKEN_ID = 'wk-test';
      process.env.MODAL_PROXY_TOKEN_SECRET = 'ws-test';
      try {
        await expect(client.callEndpoint('/draw', {}, { baseUrl })).rejects.toMatchObject({
          kind: 'http',
          status: 422,
          body: expect.stringContaining('field required'),
        });
      } finally {
        delete process.env.MODAL_PROXY_TOKEN_ID;
        delete process.env.MODAL_PROXY_TOKEN_SECRET;
      }
      expect(seen[0].headers).toMatchObject({
        'modal-key': 'wk-test',
        'modal-secret': 'ws-test',
        'content-type': 'application/json',
      });
    });

    it('reports a refused connection as a network error', async () => {
      await expect(
        client.callEndpoint('/draw', { prompt: 'x' }, { baseUrl: 'http://127.0.0.1:1' }),
      ).rejects.toMatchObject({ kind: 'network' });
    });

    it('jobs: submitJob asks for an async answer, waitForJob polls to the end, jobResult reads the bytes', async () => {
      let polls = 0;
      const job = (status: string, progress: unknown = null) =>
        JSON.stringify({ id: 'j1', endpoint: '/draw', status, progress, timings: {}, urls: {} });
      handler = (req, res) => {
        if (req.method === 'POST' && req.url === '/draw')
          res.writeHead(202, { location: '/jobs/j1' }).end(job('queued'));
        else if (req.url === '/jobs/j1') {
          polls += 1;
          const state = polls < 2 ? job('running', { node: '3', step: 1, steps: 4, percent: 25 }) : job('succeeded');
          res.writeHead(200, { 'content-type': 'application/json' }).end(state);
        } else if (req.url === '/jobs/j1/result')
          res.writeHead(200, { 'content-type': 'image/png', 'x-seed': '9' }).end(Buffer.from([0x89, 0x50]));
        else res.writeHead(404).end('{}');
      };
      const submitted = await client.submitJob('/draw', { prompt: 'a cat' }, { baseUrl, idempotencyKey: 'k-7' });
      expect(submitted.status).toBe('queued');
      expect(seen[0].headers).toMatchObject({ prefer: 'respond-async', 'idempotency-key': 'k-7' });
      const progress: string[] = [];
      const done = await client.waitForJob('/draw', 'j1', {
        baseUrl,
        pollMs: 10,
        onProgress: (j: { status: string }) => progress.push(j.status),
      });
      expect(done.status).toBe('succeeded');
      expect(progress).toEqual(['running', 'succeeded']);
      const result = await client.jobResult('/draw', 'j1', { baseUrl });
      expect(result).toMatchObject({ status: 200, contentType: 'image/png', seed: '9' });
      expect([...result.body]).toEqual([0x89, 0x50]);
      await expect(client.getJob('/draw', 'missing', { baseUrl })).rejects.toMatchObject({ kind: 'http', status: 404 });
    });

    it('jobs: callEndpoint calls an endpoint past 150 s as a job; a failed job is the error the sync call gives', async () => {
      expect(client.ENDPOINTS['/draw'].callAsJob).toBe(true); // 3 min client timeout, jobs on
      let failed = false;
      handler = (req, res) => {
        const json = (status: number, body: object) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method === 'POST') json(202, { id: 'j2', status: 'queued' });
        else if (req.url === '/jobs/j2')
          json(
            200,
            failed
              ? { id: 'j2', status: 'failed', error: { status: 422, detail: { message: 'no such LoRA' } } }
              : { id: 'j2', status: 'succeeded' },
          );
        else res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([0xff, 0xd8]));
      };
      const result = await client.callEndpoint('/draw', { prompt: 'a cat' }, { baseUrl });
      expect([...result.body]).toEqual([0xff, 0xd8]);
      expect(seen.map((s) => `${s.method} ${s.url} ${s.headers.prefer ?? ''}`.trim())).toEqual([
        'POST /draw respond-async',
        'GET /jobs/j2',
        'GET /jobs/j2/result',
      ]);
      failed = true;
      await expect(client.callEndpoint('/draw', { prompt: 'a cat' }, { baseUrl })).rejects.toMatchObject({
        kind: 'http',
        status: 422,
        body: JSON.stringify({ detail: { message: 'no such LoRA' } }),
      });
    });

    it('jobs: downloadOutput streams an output to a file and resumes a cut download with Range; jobResult can stream to a file', async () => {
      const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
      handler = (req, res) => {
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          res
            .writeHead(206, {
              'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
              'content-type': 'image/png',
            })
            .end(data.subarray(start));
        } else res.writeHead(200, { 'content-type': 'image/png' }).end(data);
      };
      const output = {
        name: 'o.png',
        content_type: 'image/png',
        size_bytes: data.length,
        url: '/jobs/j3/outputs/o.png',
        url_expires_at: null,
      };
      const file = path.join(dir, 'o.png');
      expect(await client.downloadOutput('/draw', output, file, { baseUrl })).toBe(data.length);
      expect(readFileSync(file).equals(data)).toBe(true);
      // Cut a third of the way, its bytes marked: a resume keeps them and asks only for the rest.
      writeFileSync(file, Buffer.alloc(30_000));
      seen.length = 0;
      expect(await client.downloadOutput('/draw', output, file, { baseUrl })).toBe(data.length);
      expect(seen[0].headers.range).toBe('bytes=30000-');
      expect(readFileSync(file).equals(Buffer.concat([Buffer.alloc(30_000), data.subarray(30_000)]))).toBe(true);
      seen.length = 0;
      await client.downloadOutput('/draw', output, file, { baseUrl }); // whole already: nothing asked
      expect(seen).toEqual([]);
      // A presigned (absolute) URL is fetched as it is, without Modal's headers.
      process.env.MODAL_PROXY_TOKEN_ID = 'wk-test';
      process.env.MODAL_PROXY_TOKEN_SECRET = 'ws-test';
      try {
        await client.downloadOutput(
          '/draw',
          { ...output, url: `${baseUrl}/bucket/o.png?X-Amz-Signature=s` },
          path.join(dir, 'p.png'),
        );
      } finally {
        delete process.env.MODAL_PROXY_TOKEN_ID;
        delete process.env.MODAL_PROXY_TOKEN_SECRET;
      }
      expect(seen.at(-1)!.url).toBe('/bucket/o.png?X-Amz-Signature=s');
      expect(seen.at(-1)!.headers['modal-key']).toBeUndefined();
      const streamed = await client.jobResult('/draw', 'j3', { baseUrl, file: path.join(dir, 'r.png') });
      expect(streamed.body.length).toBe(0);
      expect(readFileSync(streamed.file).equals(data)).toBe(true);
    });

    it('jobs: the front door URL is its own, from the manifest', () => {
      const draw = allEndpoints.find(({ e }) => e.path === '/draw')!;
      expect(client.jobsUrl('acme', '/draw')).toBe(`https://acme--${draw.app.modalName}-jobs-api.modal.run`);
      expect(endpointsJson.endpoints['/draw'].jobsUrl).toBe(
        `https://${endpointsJson.workspace}--${draw.app.modalName}-jobs-api.modal.run`,
      );
    });
  });
});
