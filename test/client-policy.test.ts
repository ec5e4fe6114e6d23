import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import buildRyla from '../bin/ryla';
import { applyConfigContext } from '../lib/cli/synthesize';
import { loadConfig } from '../lib/cli/config';
import { demoStack, problemsOf, ROOT, runCliIn, tempDir } from './helpers';

/** A policy file in a temp dir; returns its absolute path (resolve(root, absolute) is the path itself). */
function policyFile(yaml: string): string {
  const file = path.join(tempDir(), 'client-policy.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** The demo stack (app `demo`, endpoint `/demo`, timeout 5m) with a policy. */
/** The demo stack under a policy; its endpoint runs at most 1 minute on the server (a policy default may be longer). */
function synthWithPolicy(yaml: string, app: object = {}, strict = false, endpoint: object = {}) {
  return demoStack({
    project: { clientPolicy: policyFile(yaml) },
    app: app as never,
    endpoint: { timeout: '1m', ...endpoint },
  }).project.synth({ strict });
}

describe('client-policy.yaml', () => {
  test('the policy file is validated: errors name the key, the value and what is allowed', () => {
    expect(problemsOf(() => synthWithPolicy('endpoints:\n  /demo: { clientTimeout: ten minutes }\n'))).toEqual([
      expect.stringMatching(
        /^\[.*client-policy.yaml\] key 'endpoints\.\/demo\.clientTimeout': got "ten minutes", expected a positive duration such as 90, "90s"/,
      ),
    ]);
    expect(problemsOf(() => synthWithPolicy('gpus:\n  allowed: [L40S, RTX9000]\n'))).toEqual([
      expect.stringMatching(/key 'gpus\.allowed\.1': got "RTX9000", expected one of .*"L40S"/),
    ]);
    expect(problemsOf(() => synthWithPolicy('timeouts: {}\n'))).toEqual([expect.stringMatching(/key 'timeouts'/)]);
    expect(problemsOf(() => synthWithPolicy('endpoints: [\n'))).toEqual([
      expect.stringMatching(/client-policy.yaml\] not valid YAML/),
    ]);
  });

  test("the client timeout comes from the policy: the endpoint's entry, else the default", () => {
    expect(
      synthWithPolicy('endpoints:\n  /demo: { clientTimeout: 4m }\n').manifest.apps[0].endpoints[0].clientTimeoutMs,
    ).toBe(240_000);
    expect(synthWithPolicy('defaults: { clientTimeout: 90s }\n').manifest.apps[0].endpoints[0].clientTimeoutMs).toBe(
      90_000,
    );
  });

  test('rule 1: every GPU of an app is allowed by the policy (or its per-app override)', () => {
    expect(problemsOf(() => synthWithPolicy('gpus: { allowed: [H100] }\n', { gpu: ['L40S', 'H100'] }))).toEqual([
      expect.stringMatching(
        /^\[test\/demo\] app demo: GPU "L40S" is not allowed by .*client-policy.yaml \(rule 1\): expected one of \["H100"\] — change the app's gpu, or allow it in the policy$/,
      ),
    ]);
    expect(
      synthWithPolicy('defaults: { clientTimeout: 150s }\ngpus: { allowed: [L40S] }\n', { gpu: 'L40S:2' }).warnings,
    ).toEqual([]);
    expect(
      synthWithPolicy(
        'defaults: { clientTimeout: 150s }\ngpus: { allowed: [H100] }\napps:\n  demo: { gpus: { allowed: [L40S] } }\n',
        { gpu: 'L40S' },
      ).warnings,
    ).toEqual([]);
  });

  test("rule 2: an app's timeout covers its endpoints' client timeouts; more than twice that warns", () => {
    expect(problemsOf(() => synthWithPolicy('endpoints:\n  /demo: { clientTimeout: 20m }\n'))).toEqual([
      "[test/demo/Demo] app demo: timeout 5m is shorter than the client timeout 20m of /demo (rule 2: the server would stop work the client still waits for, a 408) — set the app's timeout to at least 20m, or lower the policy's clientTimeout",
    ]);
    expect(
      synthWithPolicy('endpoints:\n  /demo: { clientTimeout: 5m }\n').warnings.filter((w) => /rule 2/.test(w.message)),
    ).toEqual([]);
    const slack = synthWithPolicy('endpoints:\n  /demo: { clientTimeout: 2m }\n', { timeout: '1h' });
    expect(slack.warnings).toEqual([
      {
        path: 'test/demo',
        id: 'client-policy-rule-2',
        message:
          'app demo: timeout 1h is more than twice what its endpoints need, 2m (their longest client or server timeout; rule 2: GPU time paid for work nobody waits for) — lower it toward 2m',
      },
    ]);
    expect(
      problemsOf(() => synthWithPolicy('endpoints:\n  /demo: { clientTimeout: 2m }\n', { timeout: '1h' }, true)),
    ).toEqual([
      expect.stringMatching(/rule 2: GPU time paid for work nobody waits for.*\(a warning; --strict fails on it\)$/),
    ]);
  });

  test('rule 3: every policy entry names an endpoint of the stack', () => {
    expect(problemsOf(() => synthWithPolicy('endpoints:\n  /gone: { clientTimeout: 1m }\n'))).toEqual([
      expect.stringMatching(
        /client-policy.yaml endpoints\] "\/gone" names no endpoint of the stack \(rule 3: no stale entries\): remove it, or fix the path — known: \["\/demo"\]/,
      ),
    ]);
    expect(problemsOf(() => synthWithPolicy('apps:\n  nope: { gpus: { allowed: [L40S] } }\n'))).toEqual([
      expect.stringMatching(/"nope" names no app of the stack: expected one of \["demo"\]/),
    ]);
  });

  test('rule 4: past 150 s an endpoint with jobs is called as one (a note); one without warns with the fix', () => {
    const within = synthWithPolicy('defaults: { clientTimeout: 2m30s }\n');
    expect(within.warnings).toEqual([]);
    expect(within.manifest.apps[0].endpoints[0].callAsJob).toBe(false);
    const past = synthWithPolicy('defaults: { clientTimeout: 151s }\n');
    expect(past.warnings).toEqual([
      {
        path: 'test/demo',
        note: true,
        id: 'client-policy-rule-4',
        message: expect.stringMatching(
          /over 150s: \/demo \(151s\) \(rule 4\): the generated clients call them as jobs/,
        ),
      },
    ]);
    expect(past.manifest.apps[0].endpoints[0]).toMatchObject({ jobs: true, callAsJob: true });
    const syncOnly = synthWithPolicy('defaults: { clientTimeout: 151s }\n', {}, false, { jobs: false });
    expect(syncOnly.warnings).toEqual([
      {
        path: 'test/demo',
        id: 'client-policy-rule-4',
        message: expect.stringMatching(
          /over 150s without jobs: \/demo \(151s\) \(rule 4\): Modal answers such requests with a 303 .* — turn jobs on \(ComfyApp jobs, Endpoint jobs\)/,
        ),
      },
    ]);
    expect(syncOnly.manifest.apps[0].endpoints[0]).toMatchObject({ jobs: false, callAsJob: false });
    const appWithout = synthWithPolicy('defaults: { clientTimeout: 151s }\n', { jobs: false });
    expect(appWithout.manifest.apps[0]).toMatchObject({ jobs: null, endpoints: [{ jobs: false, callAsJob: false }] });
  });

  describe('the RYLA policy', () => {
    const synthRyla = (policy?: string) => {
      applyConfigContext({ ...loadConfig(ROOT), ...(policy && { clientPolicy: policyFile(policy) }) });
      return buildRyla().synth();
    };

    test("has the seed's client timeout for each of the 21 endpoints, and the stack passes it with only the warnings it acknowledged", () => {
      const result = synthRyla();
      const ms = Object.fromEntries(
        result.manifest.apps.flatMap((a) => a.endpoints.map((e) => [e.path, e.clientTimeoutMs])),
      );
      expect(Object.keys(ms)).toHaveLength(21);
      expect(ms['/flux']).toBe(180_000);
      expect(ms['/sdxl-instantid']).toBe(420_000);
      expect(ms['/wan2.6-r2v']).toBe(600_000);
      // RYLA has read its warnings (public endpoints, rule 4, …) and acknowledged them; each app is checked
      // against its own ComfyUI release, so no node-schemas-version note is left to acknowledge.
      expect(result.warnings).toEqual([]);
      const project = buildRyla();
      const acknowledged = project.node.metadata
        .filter((m) => m.type === 'modal-cdk:acknowledge')
        .map((m) => (m.data as { id: string }).id);
      expect(acknowledged).toEqual([
        'public-endpoints',
        'client-policy-rule-4',
        'url-model-unchecked',
        'smoke-request',
        'warmup-skipped',
        'gpu-unmeasured',
        'hf-unpinned-revision',
      ]);
    });

    test("raising /sdxl-instantid to 20m fails synth, naming instantid's timeout and the endpoint", () => {
      const policy = require('node:fs')
        .readFileSync(path.join(ROOT, 'client-policy.yaml'), 'utf8')
        .replace('/sdxl-instantid: { clientTimeout: 7m }', '/sdxl-instantid: { clientTimeout: 20m }')
        .replace(
          'measurements: measurements/gpu-h200.json',
          `measurements: ${path.join(ROOT, 'measurements', 'gpu-h200.json')}`,
        );
      expect(problemsOf(() => synthRyla(policy))).toEqual([
        expect.stringMatching(
          /^\[ryla\/instantid\/SdxlInstantId\] app instantid: timeout 7m is shorter than the client timeout 20m of \/sdxl-instantid \(rule 2/,
        ),
      ]);
    });
  });

  test('the CLI prints warnings and passes; --strict fails on them and writes nothing', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: 'ts-node --swc stack.ts', modal: { workspace: 'acme' }, clientPolicy: 'policy.yaml' }),
    );
    writeFileSync(path.join(dir, 'policy.yaml'), 'defaults: { clientTimeout: 4m }\n');
    writeFileSync(
      path.join(dir, 'stack.ts'),
      `import { ComfyApp, Endpoint, HfModel, ModalProject, Workflow } from ${JSON.stringify(path.join(ROOT, 'constructs'))};
export default () => {
  const project = new ModalProject(undefined, 'p', { root: ${JSON.stringify(path.join(ROOT, 'test', 'fixtures'))} });
  const app = new ComfyApp(project, 'one', { gpu: 'L40S' });
  new HfModel(app, 'Tiny', { repo: 'acme/tiny', file: 'tiny.safetensors', revision: '0123456789abcdef0123456789abcdef01234567', target: 'checkpoints', sizeGb: 0.1 });
  new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromFile('workflows/tiny.json'), timeout: '1m', jobs: false });
  return project;
};\n`,
    );
    const passing = await runCliIn(dir, ['synth', '-q']);
    expect([passing.code, passing.err]).toEqual([
      0,
      expect.stringMatching(/^modal-cdk: warning: \[p\/one\] app one: over 150s without jobs: \/e \(4m\) \(rule 4\)/),
    ]);
    const strict = await runCliIn(dir, ['synth', '--strict', '-o', 'strict.out']);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(
      /1 problem found, nothing was written:\n\[p\/one\] .*\(rule 4\).*\(a warning; --strict fails on it\)/,
    );
    expect(require('node:fs').existsSync(path.join(dir, 'strict.out'))).toBe(false);
  });
});
