import * as http from 'node:http';
import { verifyApp } from '../lib/deploy/verify';
import { parseDuration } from '../lib/duration';
import type { AppSpec } from '../lib/synth/spec';
import { looksLikeAKey, webhookUrlProblem } from '../lib/webhook-target';
import { demoStack, problemsOf } from './helpers';

/**
 * Settings that can never work fail synth at the construct path, with the fix (issue 33): job and webhook
 * settings (delivery's rules applied before any job runs; secrets only by name), durations, scaling.
 */
const signed = { jobs: { webhookSecret: 'comfy-webhooks' } };
const synth = (opts: Parameters<typeof demoStack>[0]) => problemsOf(() => demoStack(opts).project.synth());

describe('webhookUrl', () => {
  test('a public https URL with a signing Secret synthesizes', () => {
    const { project } = demoStack({ app: signed, endpoint: { webhookUrl: 'https://hooks.example.com/comfy' } });
    expect(() => project.synth()).not.toThrow();
  });

  test('no jobs.webhookSecret: webhooks are only sent signed', () => {
    expect(synth({ endpoint: { webhookUrl: 'https://hooks.example.com/comfy' } })).toEqual([
      expect.stringContaining(
        '[test/demo/Demo] webhookUrl: got "https://hooks.example.com/comfy", but the app sets no jobs.webhookSecret, and webhooks are only sent signed — set jobs: { webhookSecret: \'<Modal Secret with WEBHOOK_SECRET>\' }',
      ),
    ]);
  });

  test('jobs off for the endpoint or the app: no job ever sends it', () => {
    expect(synth({ app: signed, endpoint: { jobs: false, webhookUrl: 'https://h.example.com/' } })).toEqual([
      expect.stringContaining("but this endpoint's jobs are off (jobs: false), so no job ever sends it"),
    ]);
    expect(synth({ app: { jobs: false }, endpoint: { webhookUrl: 'https://h.example.com/' } })).toEqual([
      expect.stringContaining('but the app test/demo has jobs: false, so no job ever sends it'),
    ]);
  });

  test.each([
    ['https://127.0.0.1/hook', 'the address 127.0.0.1'],
    ['https://169.254.169.254/latest', 'the address 169.254.169.254'],
    ['https://10.1.2.3/hook', 'the address 10.1.2.3'],
    ['https://[::1]/hook', 'the address ::1'],
    ['https://[fe80::1]/hook', 'the address fe80::1'],
    ['https://localhost/hook', 'the host localhost'],
  ])('%s: a literal address delivery refuses', (url, named) => {
    expect(synth({ app: signed, endpoint: { webhookUrl: url } })).toEqual([
      expect.stringContaining(`webhookUrl: got ${named}`),
    ]);
  });

  test('credentials in the URL would land in app.py and the manifest', () => {
    expect(synth({ app: signed, endpoint: { webhookUrl: 'https://me:hunter2@hooks.example.com/' } })).toEqual([
      expect.stringContaining('webhookUrl: got a URL with credentials (https://<user>:<password>@hooks.example.com)'),
    ]);
  });

  test('the checks themselves: public addresses and host names pass', () => {
    expect(webhookUrlProblem('https://8.8.8.8/x')).toBeUndefined();
    expect(webhookUrlProblem('https://[2606:4700::1111]/x')).toBeUndefined();
    expect(webhookUrlProblem('https://hooks.example.com/x')).toBeUndefined();
  });
});

test('jobs: true under an app with jobs: false', () => {
  expect(synth({ app: { jobs: false }, endpoint: { jobs: true } })).toEqual([
    expect.stringContaining('[test/demo/Demo] jobs: got true, but the app test/demo has jobs: false'),
  ]);
});

test('a webhookSecret that looks like the signing key, not a Secret name', () => {
  expect(synth({ app: { jobs: { webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } } })).toEqual([
    expect.stringContaining(
      'expected the name of the Modal Secret that holds WEBHOOK_SECRET, not the signing key itself',
    ),
  ]);
  expect(looksLikeAKey('aB3dE5fG7hJ9kL1mN3pQ5rS7')).toBe(true);
  expect(looksLikeAKey('webhook-secret-production-2026')).toBe(false);
  expect(looksLikeAKey('comfy-webhooks')).toBe(false);
});

test('every Secret name (secrets, huggingfaceSecret, partnerNodes) refuses what looks like the secret itself', () => {
  expect(synth({ app: { secrets: ['sk-live-4eC39HqLyjWDarjtT1zdp7dc'] } })).toEqual([
    expect.stringContaining('expected the name of a Modal Secret, not the secret itself'),
  ]);
  expect(synth({ app: { huggingfaceSecret: 'hfAbCdEfGh1234567890XyZwQ98' } })).toEqual([
    expect.stringContaining('expected the name of a Modal Secret, not the secret itself'),
  ]);
});

describe('verify --jobs says what it did not check, and what it expected', () => {
  /** A stand-in app on loopback: /health answers, every POST answers a PNG synchronously (no job route). */
  async function standIn(): Promise<{ url: string; close: () => void }> {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), Buffer.alloc(1000)]);
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
  }
  const appOf = (opts: Parameters<typeof demoStack>[0]) =>
    JSON.parse(demoStack(opts).project.synth().files.get('manifest.json')!).apps[0] as AppSpec;

  test('a submit answered without a 202 and job id names what was expected, never the binary body', async () => {
    const server = await standIn();
    try {
      const checks = await verifyApp(appOf({}), server.url, { jobsBaseUrl: server.url });
      const job = checks.find((c) => c.path === '/demo (job)')!;
      expect(job.result).toBe('failed');
      expect(job.problem).toBe(
        'submit (Prefer: respond-async): expected 202 with a job id, got HTTP 200: 1007 bytes of image/png',
      );
    } finally {
      server.close();
    }
  });

  test('an app without jobs: the job path was not checked, a failure unless --jobs-optional', async () => {
    const server = await standIn();
    try {
      const app = appOf({ app: { jobs: false } });
      const strict = await verifyApp(app, server.url, { jobsBaseUrl: server.url });
      expect(strict.find((c) => c.path === '(job path)')).toMatchObject({
        result: 'failed',
        problem: expect.stringContaining(
          'the job path was not checked: the app has jobs: false — pass --jobs-optional',
        ),
      });
      const optional = await verifyApp(app, server.url, { jobsBaseUrl: server.url, jobsOptional: true });
      expect(optional.find((c) => c.path === '(job path)')?.result).toBe('skipped');
    } finally {
      server.close();
    }
  });
});

describe('durations say what they mean (issue 33, class 2)', () => {
  test('a day unit wherever durations are taken', () => {
    expect(parseDuration('1d')).toBe(86_400);
    expect(parseDuration('1d12h')).toBe(129_600);
    const { project } = demoStack({ app: { jobs: { keepResults: '6d' } } });
    expect(() => project.synth()).not.toThrow();
  });

  test('past the documented maximum: the maximum, not the spelling', () => {
    expect(synth({ app: { jobs: { keepResults: '7d' } } })).toEqual([
      `[test/demo] prop 'jobs.keepResults': got "7d", expected at most 6 days: the job store is a modal.Dict, whose entries expire after 7 days unread`,
    ]);
    expect(synth({ app: { jobs: { keepResults: '1w' } } })).toEqual([
      expect.stringContaining('expected a positive duration such as 90, "90s", "3m", "1h30m", "1d"'),
    ]);
  });

  test('jobs: true names what is expected', () => {
    expect(synth({ app: { jobs: true as never } })).toEqual([
      "[test/demo] prop 'jobs': got true, expected false (no job routes) or the job settings { maxActiveJobs?, keepResults?, webhookSecret?, results? } — jobs are on by default: leave jobs out for the defaults",
    ]);
  });
});

describe('scaling checked as a whole (issue 33, class 4)', () => {
  test('bufferContainers above maxContainers', () => {
    expect(synth({ app: { bufferContainers: 3, maxContainers: 2 } })).toEqual([
      expect.stringContaining("prop 'bufferContainers': got 3, expected at most maxContainers (2)"),
    ]);
  });

  test("time zones as Python's zoneinfo spells them, case included", () => {
    const schedule = (timezone: string) => ({
      app: { warmSchedule: [{ cron: '0 8 * * 1-5', minContainers: 1, timezone }] },
    });
    expect(synth(schedule('europe/berlin'))).toEqual([
      expect.stringContaining(`got "europe/berlin", expected "Europe/Berlin": Python's zoneinfo`),
    ]);
    expect(() => demoStack(schedule('Europe/Berlin')).project.synth()).not.toThrow();
  });
});
