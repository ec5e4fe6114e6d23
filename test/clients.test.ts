import { writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import ts from 'typescript';
import { Manifest } from '../lib/synth/model';
import { synthRyla, tempDir } from './helpers';

// The client artifacts of the RYLA stack: the same values as the apps, and clients that work.
const assembly = synthRyla();
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
      expect(entry).toMatchObject({ app: app.id, modalName: app.modalName, clientTimeoutMs: e.clientTimeoutMs, serverTimeoutSeconds: app.timeoutSeconds, contentType: e.contentType });
      expect(entry.url).toBe(`https://ryla--${labelFromAppPy(app.id, app.modalName)}.modal.run${e.path}`);
      expect(entry.urlTemplate.replace('{workspace}', 'ryla').replace('{path}', e.path)).toBe(entry.url);
    }
    // The seeds' own pattern for one of them.
    expect(endpointsJson.endpoints['/wan2.6'].url).toBe('https://ryla--ryla-wan26-comfyui-fastapi-app.modal.run/wan2.6');
    expect(endpointsJson.endpoints['/sdxl-instantid'].clientTimeoutMs).toBe(7 * 60_000);
  });

  it('carries a request JSON Schema with required fields, bounds, aliases and one-of groups', () => {
    const flux = endpointsJson.endpoints['/flux'].requestSchema;
    expect(flux.required).toEqual(['prompt']);
    // An optional field may be null, which means left out (its default applies).
    expect(flux.properties.width).toEqual({ anyOf: [{ type: 'integer', minimum: 64, maximum: 2048 }, { type: 'null' }], default: 1024, description: 'Output width in pixels' });
    const wan = endpointsJson.endpoints['/wan2.6'].requestSchema;
    expect(wan.properties.num_frames).toMatchObject({ deprecated: true, anyOf: [{ type: 'integer' }, { type: 'null' }] });
    const lora = endpointsJson.endpoints['/flux-dev-lora'].requestSchema;
    // Sent means with a value: null, and "" for these defaultWhenEmpty fields, count as left out.
    const sent = (name: string, absent: unknown[] = [null, '']) => ({ required: [name], properties: { [name]: { not: { enum: absent } } } });
    expect(lora.allOf).toEqual([{ anyOf: [sent('prompt', [null])] }, { anyOf: [sent('lora_name'), sent('lora_id')] }]);
    // 2^64 - 1 exactly (a JavaScript number would have written 18446744073709552000).
    expect(assembly.files.get('clients/endpoints.json')).toContain('"maximum": 18446744073709551615');
  });
});

describe('docs/ENDPOINT-APP-MAPPING.md', () => {
  it('has one row per endpoint: path, app, URL, client and server timeout, GPU, inputs', () => {
    const rows = assembly.files.get('docs/ENDPOINT-APP-MAPPING.md')!.split('\n').filter((l) => l.startsWith('| `/'));
    expect(rows).toHaveLength(21);
    const wan = rows.find((r) => r.startsWith('| `/wan2.6` '))!.split(' | ');
    expect(wan).toEqual(['| `/wan2.6`', '`wan26`', 'https://ryla--ryla-wan26-comfyui-fastapi-app.modal.run/wan2.6', '10m', '10m', 'H100 → A100-80GB', expect.stringContaining('`length\\|num_frames` [33]')]);
    expect(rows.find((r) => r.startsWith('| `/flux` '))).toContain('| 3m | 5m | L40S |');
  });
});

describe('clients/endpoints.ts', () => {
  const dir = tempDir('modal-cdk-client-');
  const clientFile = path.join(dir, 'endpoints.ts');
  writeFileSync(clientFile, assembly.files.get('clients/endpoints.ts')!);

  it('compiles with tsc --strict, and its types refuse an unknown path, a missing field and a wrong type', () => {
    const usage = path.join(dir, 'usage.ts');
    writeFileSync(usage, [
      "import { callEndpoint, endpointUrl, ENDPOINT_APP_MAP, ENDPOINT_TIMEOUT_MS } from './endpoints';",
      "export const app: 'wan26' = ENDPOINT_APP_MAP['/wan2.6'];",
      "export const ms: number = ENDPOINT_TIMEOUT_MS['/seedvr2'];",
      "export const url: string = endpointUrl('ryla', '/flux');",
      "export const ok = () => callEndpoint('/flux', { prompt: 'a cat', width: 512 });",
      '// @ts-expect-error an unknown path',
      "export const badPath = () => callEndpoint('/nope', { prompt: 'x' });",
      '// @ts-expect-error prompt is required',
      "export const missing = () => callEndpoint('/flux', { width: 512 });",
      '// @ts-expect-error width is a number',
      "export const wrongType = () => callEndpoint('/flux', { prompt: 'x', width: '512' });",
      '// @ts-expect-error aspect_ratio is one of the enum values',
      "export const badEnum = () => callEndpoint('/qwen-image-2512', { aspect_ratio: '5:4' });",
      '',
    ].join('\n'));
    const program = ts.createProgram([clientFile, usage], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [], skipLibCheck: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
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
        if (req.method === 'POST') res.writeHead(303, { location: '/flux?__modal_function_call_id=fc-1' }).end();
        else res.writeHead(200, { 'content-type': 'image/jpeg', 'x-seed': '7', 'x-execution-time-ms': '1234', 'x-cost-usd': '0.0012' }).end(Buffer.from([0xff, 0xd8, 0xff]));
      };
      const result = await client.callEndpoint('/flux', { prompt: 'a cat' }, { baseUrl });
      expect(result).toMatchObject({ status: 200, contentType: 'image/jpeg', seed: '7', executionTimeMs: 1234, costUsd: 0.0012 });
      expect([...result.body]).toEqual([0xff, 0xd8, 0xff]);
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /flux', 'GET /flux?__modal_function_call_id=fc-1']);
    });

    it('tells a server 408 from its own timeout', async () => {
      handler = (_req, res) => res.writeHead(408, { 'content-type': 'text/plain' }).end('Missing request, possibly due to expiry or cancellation');
      await expect(client.callEndpoint('/flux', { prompt: 'x' }, { baseUrl })).rejects.toMatchObject({ kind: 'server-timeout', status: 408, body: expect.stringContaining('Missing request') });
    });

    it('gives up after the client timeout when the server never answers', async () => {
      handler = () => undefined; // never answers
      const started = Date.now();
      await expect(client.callEndpoint('/flux', { prompt: 'x' }, { baseUrl, timeoutMs: 300 })).rejects.toMatchObject({ kind: 'client-timeout', message: expect.stringContaining('300 ms') });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('uses the endpoint timeout from the policy by default', () => {
      expect(client.ENDPOINT_TIMEOUT_MS['/seedvr2']).toBe(600_000);
      expect(client.ENDPOINT_TIMEOUT_MS['/flux']).toBe(180_000);
    });

    it('sends the proxy-auth headers from the environment, and reports other HTTP errors with their body', async () => {
      handler = (_req, res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"prompt: field required"}');
      process.env.MODAL_PROXY_TOKEN_ID = 'wk-test';
      process.env.MODAL_PROXY_TOKEN_SECRET = 'ws-test';
      try {
        await expect(client.callEndpoint('/flux', {}, { baseUrl })).rejects.toMatchObject({ kind: 'http', status: 422, body: expect.stringContaining('field required') });
      } finally {
        delete process.env.MODAL_PROXY_TOKEN_ID;
        delete process.env.MODAL_PROXY_TOKEN_SECRET;
      }
      expect(seen[0].headers).toMatchObject({ 'modal-key': 'wk-test', 'modal-secret': 'ws-test', 'content-type': 'application/json' });
    });

    it('reports a refused connection as a network error', async () => {
      await expect(client.callEndpoint('/flux', { prompt: 'x' }, { baseUrl: 'http://127.0.0.1:1' })).rejects.toMatchObject({ kind: 'network' });
    });
  });
});
