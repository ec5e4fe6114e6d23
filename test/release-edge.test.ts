import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../lib/cli/config';
import { applyConfigContext } from '../lib/cli/synthesize';
import { CONTEXT_ENV_VAR, CONTEXT_ENVIRONMENTS } from '../lib/context';
import { ModalProject } from '../constructs';
import { demoStack, problemsOf, tempDir } from './helpers';
import { project, type Project, start, TOKEN } from './standin';

/**
 * Issue 33, classes 3–5: the release path never changes what it refuses (synth.out stays byte-identical),
 * scaling is checked as a whole, and every unknown key names the closest known one.
 */
jest.setTimeout(60_000);

const run = (p: Project, args: string[], env: Record<string, string> = {}) => start(p, args, { ...TOKEN, ...env }).done;

/** Relative path → sha256 of every file under `dir`. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    files[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
  }
  return files;
}

const release = () =>
  project({
    modal: { workspace: 'acme', environment: 'staging' },
    environments: { staging: { webSuffix: 'staging' }, main: {} },
  });

describe('a command that refuses leaves synth.out byte-identical', () => {
  test('refusals and usage errors after a synth for another environment change no file of synth.out', async () => {
    const p = release();
    expect((await run(p, ['synth'])).code).toBe(0); // synth.out is staging's
    const before = tree(path.join(p.dir, 'synth.out'));
    // Each of these synthesizes for "main" (other URLs, another hash) before it refuses.
    for (const [args, code, said] of [
      [['promote', '--from', 'main', '--to', 'staging', '--yes'], 2, 'never verified in "main"'],
      [['deploy', '--env', 'main', '--app', 'nope', '--yes'], 2, 'unknown app id "nope"'],
      [['deploy', '--env', 'main', '--app', 'flux'], 2, 'not a terminal, so no one can confirm'],
      [['verify', '--env', 'main', '--app', 'nope'], 2, 'unknown app id "nope"'],
      [['diff', '--env', 'main', '--app', 'nope'], 2, 'unknown app id "nope"'],
      [['rollback', '--env', 'main', '--app', 'nope', '--yes'], 2, 'unknown app id "nope"'],
      [['destroy', '--env', 'main', '--app', 'nope', '--yes'], 2, 'unknown app id "nope"'],
      [['scale', '--env', 'main', '--app', 'flux', '--min', '9'], 2, 'more than max 4'],
      [
        ['serve', '--app', 'flux', '--warmup', '/nope'],
        2,
        'modal-cdk serve: --warmup: got "/nope", expected app, none, or some of /flux, /flux-img2img (separated by commas)',
      ],
    ] as [string[], number, string][]) {
      const r = await run(p, args);
      expect([args.join(' '), r.code, r.err]).toEqual([args.join(' '), code, expect.stringContaining(said)]);
      expect(tree(path.join(p.dir, 'synth.out'))).toEqual(before);
    }
    // No stage is left beside it.
    expect(readdirSync(p.dir).filter((f) => f.startsWith('synth.out'))).toEqual(['synth.out']);
  });

  test('a command that succeeds leaves synth.out as it synthesized (deploy: what it deployed)', async () => {
    const p = release();
    expect((await run(p, ['synth'])).code).toBe(0);
    const staging = readFileSync(path.join(p.dir, 'synth.out', 'deploy-plan.json'), 'utf8');
    expect((await run(p, ['deploy', '--env', 'main', '--app', 'flux', '--yes'])).code).toBe(0);
    const main = readFileSync(path.join(p.dir, 'synth.out', 'deploy-plan.json'), 'utf8');
    expect(main).not.toBe(staging);
    expect(JSON.parse(main).environment).toBe('main');
    expect(readdirSync(p.dir).filter((f) => f.startsWith('synth.out'))).toEqual(['synth.out']);
  });
});

describe('promote: --from and --to are checked first', () => {
  test('an environment cdk-like.json does not list is a usage error naming the listed ones, before any other refusal', async () => {
    const p = release();
    const r = await run(p, ['promote', '--from', 'stagin', '--to', 'prod', '--yes']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe(
      `modal-cdk promote: --from: got "stagin", which cdk-like.json's environments do not list: expected one of "staging", "main" (did you mean "staging"?); --to: got "prod", which cdk-like.json's environments do not list: expected one of "staging", "main"`,
    );
    expect(r.err).not.toContain('never verified');
  });
});

describe('releasePath', () => {
  const withPath = (releasePath: { from: string; to: string }, listed?: string[]) =>
    problemsOf(() =>
      demoStack({
        project: { releasePath, ...(listed && { context: { [CONTEXT_ENVIRONMENTS]: listed } }) },
      }).project.synth(),
    );

  test('from an environment to itself fails synth', () => {
    expect(withPath({ from: 'main', to: 'main' })).toEqual([
      expect.stringContaining('releasePath: got from and to both "main", expected two environments'),
    ]);
  });

  test("to an environment cdk-like.json's environments do not list fails synth, naming the listed ones", () => {
    expect(withPath({ from: 'staging', to: 'prod' }, ['staging', 'main'])).toEqual([
      expect.stringContaining(
        `releasePath.to: got "prod", which cdk-like.json's environments do not list: expected one of "staging", "main"`,
      ),
    ]);
    expect(withPath({ from: 'stagign', to: 'main' }, ['staging', 'main'])).toEqual([
      expect.stringContaining('(did you mean "staging"?)'),
    ]);
    expect(() =>
      demoStack({
        project: {
          releasePath: { from: 'staging', to: 'main' },
          context: { [CONTEXT_ENVIRONMENTS]: ['staging', 'main'] },
        },
      }).project.synth(),
    ).not.toThrow();
  });

  test('the CLI hands the environments cdk-like.json lists to the stack it builds', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: 'x', environments: { staging: {}, main: {} }, modal: { environment: 'staging' } }),
    );
    applyConfigContext(loadConfig(dir));
    expect(JSON.parse(process.env[CONTEXT_ENV_VAR]!)[CONTEXT_ENVIRONMENTS]).toEqual(['staging', 'main']);
    delete process.env[CONTEXT_ENV_VAR];
  });
});

describe("an environment's context key the shared context lacks", () => {
  test('warns as -c does, with the closest shared key; the value is set all the same', async () => {
    const p = project({
      context: { replicas: 1 },
      environments: { main: { context: { replicsa: 2 } }, staging: { context: { replicas: 0 } } },
    });
    const r = await run(p, ['synth']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      'modal-cdk: warning: [cdk-like.json environments.main.context.replicsa] not a key of the shared context (did you mean replicas?): it has replicas — set all the same in "main"; a stack reads it only with node.tryGetContext(\'replicsa\')',
    );
    expect(r.err).not.toContain('environments.staging');
  });
});

describe('every unknown key names the closest known one', () => {
  test.each([
    [
      { deploy: { concurency: 2 } },
      "unknown key 'concurency' (did you mean 'concurrency'?) in key 'deploy': remove it or check the spelling; the known keys here: concurrency, timeoutSeconds, retries, retryDelaySeconds",
    ],
    [
      { environments: { main: { webSufix: 'x' } } },
      "unknown key 'webSufix' (did you mean 'webSuffix'?) in key 'environments.main'",
    ],
    [{ clientPolcy: 'p.yaml' }, "unknown key 'clientPolcy' (did you mean 'clientPolicy'?)"],
  ])('cdk-like.json %j', async (extra, message) => {
    const p = project(extra);
    const r = await run(p, ['synth']);
    expect([r.code, r.err]).toEqual([1, expect.stringContaining(`[cdk-like.json] ${message}`)]);
  });

  test('client policy and jobs props', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'policy.yaml'), 'scaling:\n  maxContainer: 3\n');
    expect(
      problemsOf(() => demoStack({ project: { clientPolicy: path.join(dir, 'policy.yaml') } }).project.synth()),
    ).toEqual([expect.stringContaining("unknown key 'maxContainer' (did you mean 'maxContainers'?) in key 'scaling'")]);
    expect(problemsOf(() => demoStack({ app: { jobs: { keepResult: '1h' } as never } }))).toEqual([
      expect.stringContaining(
        "unknown prop 'keepResult' (did you mean 'keepResults'?) in prop 'jobs': remove it or check the spelling; the known props here: maxActiveJobs, keepResults, webhookSecret",
      ),
    ]);
  });

  test('no guess where nothing is close', () => {
    expect(problemsOf(() => new ModalProject(undefined, 'p', { colour: 'red' } as never))).toEqual([
      expect.stringMatching(
        /^\[p\] unknown prop 'colour': remove it or check the spelling; the known props here: name,/,
      ),
    ]);
  });
});

describe('scaling as a whole', () => {
  test('a policy scaling.maxContainers bounds every app: one with no max fails synth (it can scale without bound)', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'policy.yaml'), 'scaling:\n  maxContainers: 6\n');
    const policy = { clientPolicy: path.join(dir, 'policy.yaml') };
    expect(problemsOf(() => demoStack({ project: policy }).project.synth())).toEqual([
      "[test/demo] app demo: no max containers, so it can scale without bound, past the client policy's scaling.maxContainers 6: set maxContainers (at most 6) (rule 6) — lower it, or raise the limit in " +
        path.relative(process.cwd(), path.join(dir, 'policy.yaml')),
    ]);
    expect(() => demoStack({ project: policy, app: { maxContainers: 6 } }).project.synth()).not.toThrow();
  });

  test('scale with a Python that lacks modal says to install it or pass --python, with no traceback', async () => {
    const p = project();
    const r = await run(p, ['scale', '--app', 'flux', '--min', '1', '--python', '/usr/bin/python3']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      '[--python] /usr/bin/python3 (/usr/bin/python3) has no modal package: install it (/usr/bin/python3 -m pip install modal), or pass --python <a Python that has it>; nothing changed',
    );
    expect(r.err).not.toMatch(/Traceback|ModuleNotFoundError/);
  });
});

describe('messages name what is valid (class 7)', () => {
  test('a key given twice in the client policy is named by its path', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'policy.yaml'), 'scaling:\n  maxContainers: 2\n  maxContainers: 3\n');
    expect(
      problemsOf(() => demoStack({ project: { clientPolicy: path.join(dir, 'policy.yaml') } }).project.synth()),
    ).toEqual([
      expect.stringContaining(
        "not valid YAML: key 'scaling.maxContainers' is given twice (at line 3, column 3:): keep one of them",
      ),
    ]);
  });

  test('a -c value of another kind than cdk-like.json has is quoted, with what to pass', async () => {
    const p = project({ context: { replicas: 1, preview: false } });
    const r = await run(p, ['synth', '-c', 'replicas=three', '-c', 'preview=yes', '-c', 'replicas=2']);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('-c replicas'); // the last -c replicas=2 is a number
    const wrong = await run(p, ['synth', '-c', 'replicas=three', '-c', 'preview=yes']);
    expect(wrong.err).toContain(
      `modal-cdk: warning: -c replicas: got "three" (a string), where cdk-like.json's context has 1 (a number) — it is set all the same; pass a number, e.g. -c replicas=2`,
    );
    expect(wrong.err).toContain(
      `-c preview: got "yes" (a string), where cdk-like.json's context has false (a boolean)`,
    );
  });

  test('an unknown option gets a "did you mean" only when one is close', async () => {
    const p = project();
    const far = await run(p, ['workflow', 'check', 'w.json', '--schemas', 's.json']);
    expect(far.err.split('\n')[0]).toBe(
      'modal-cdk workflow: unknown option --schemas (this command takes --custom-nodes, --comfy-version, --help)',
    );
    const near = await run(p, ['workflow', 'check', 'w.json', '--custom-node', 's.json']);
    expect(near.err).toContain('unknown option --custom-node: did you mean --custom-nodes?');
  });
});
