import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ComfyApp, Endpoint } from '../constructs';
import { demoStack, problemsOf, tempDir } from './helpers';

/** Traps in fields and timeouts that used to pass synth and fail later (at container start, or as 408s). */
describe('synth refuses fields and timeouts that would fail later', () => {
  const endpointProblems = (props: object) => {
    const { app } = demoStack();
    return problemsOf(
      () =>
        new Endpoint(app, 'E', {
          path: '/e',
          workflow: (demoStack().endpoint as Endpoint).workflow,
          ...props,
        } as never),
    );
  };

  test('a field name pydantic keeps private (a leading "_") is refused', () => {
    expect(endpointProblems({ inputs: { _seed: { type: 'seed', node: '5', input: 'seed' } } })).toEqual([
      '[test/demo/E] prop \'inputs._seed\': got "_seed", expected a JSON field name usable in Python and pydantic: a letter, then letters, digits and "_" (pydantic keeps a name starting with "_" private, so the request could never set it) — rename it',
    ]);
  });

  test('a seed default below 0 ("-1 = random") is refused, never sent to ComfyUI', () => {
    expect(endpointProblems({ inputs: { seed: { type: 'seed', node: '5', input: 'seed', default: -1 } } })).toEqual([
      '[test/demo/E] prop \'inputs.seed.default\': got -1, expected a seed ≥ 0: ComfyUI has no "-1 = random" — leave the default out and a request without a seed gets a random one',
    ]);
  });

  test("an endpoint timeout longer than its app's, and an app timeout over Modal's 24 h", () => {
    const { project } = demoStack({ app: { timeout: '5m' }, endpoint: { timeout: '8m' } });
    expect(problemsOf(() => project.synth())).toEqual([
      "[test/demo/Demo] timeout: got 8m, longer than its app's timeout 5m: Modal would stop the request first — raise the app's timeout to at least 8m, or shorten the endpoint's",
    ]);
    const { project: p2 } = demoStack();
    expect(problemsOf(() => new ComfyApp(p2, 'big', { gpu: 'L40S', timeout: '25h' }))).toEqual([
      '[test/big] prop \'timeout\': got "25h", expected at most 24h, the longest timeout Modal allows',
    ]);
  });

  test("zod's own wording is said as got / expected", () => {
    const { project } = demoStack();
    expect(problemsOf(() => new ComfyApp(project, 'x', { gpu: 'L40S', maxInputs: 0 }))).toEqual([
      "[test/x] prop 'maxInputs': got 0, expected more than 0",
    ]);
    expect(endpointProblems({ inputs: 5 })).toEqual([
      "[test/demo/E] prop 'inputs': got 5, expected an object of names to values",
    ]);
  });

  describe("client timeouts: the policy's entry, else the endpoint's own, else the default but never below the server timeout", () => {
    const withPolicy = (yaml: string, endpoint: object) => {
      const file = path.join(tempDir(), 'client-policy.yaml');
      writeFileSync(file, yaml);
      return demoStack({ project: { clientPolicy: file }, endpoint: endpoint as never }).project;
    };
    const clientMs = (yaml: string, endpoint: object) =>
      withPolicy(yaml, endpoint).synth().manifest.apps[0].endpoints[0].clientTimeoutMs;

    test("an endpoint's own clientTimeout is not replaced by the policy default", () => {
      expect(clientMs('defaults: { clientTimeout: 2m }\n', { timeout: '1m', clientTimeout: '4m' })).toBe(240_000);
    });

    test('without an entry, the default never gives a client less time than the server takes', () => {
      expect(clientMs('defaults: { clientTimeout: 2m }\n', { timeout: '8m' })).toBe(480_000);
      expect(clientMs('defaults: { clientTimeout: 2m }\n', { timeout: '1m' })).toBe(120_000);
    });

    test('an entry and a different own clientTimeout are an error, equal ones are fine', () => {
      expect(
        problemsOf(() =>
          withPolicy('endpoints:\n  /demo: { clientTimeout: 3m }\n', { timeout: '1m', clientTimeout: '4m' }).synth(),
        ),
      ).toEqual([
        expect.stringMatching(
          /^\[test\/demo\/Demo\] \/demo: two client timeouts, the endpoint's clientTimeout 4m and 3m in .*client-policy.yaml: expected one — remove the endpoint's clientTimeout \(the policy is the clients' contract\), or make them equal$/,
        ),
      ]);
      expect(clientMs('endpoints:\n  /demo: { clientTimeout: 3m }\n', { timeout: '1m', clientTimeout: '3m' })).toBe(
        180_000,
      );
    });
  });
});
