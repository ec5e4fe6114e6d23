import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gpuFitProblems, type Measurements } from '../lib/policy/gpu-fit';
import { loadClientPolicy } from '../lib/policy/client-policy';
import { demoStack, problemsOf, synthRyla, tempDir } from './helpers';

// Rule 5: an app's GPU memory and its endpoints' timeouts against measured GPU runs.

type Measured = Measurements['endpoints'][string];
const measured = (m: Partial<Measured>): Measurements => ({
  failures: {},
  device: 'NVIDIA H200',
  driver: '580',
  torch: '2.11',
  comfyui: '0.3.75',
  date: '2026-12-01',
  endpoints: {
    '/demo': { app: 'demo', gpu: 'L40S', loadSeconds: 2, firstSeconds: 5, warmSeconds: 10, peakGpuMemoryGb: 9.4, ...m },
  },
});
const apps = (app = {}, endpoint = {}) => demoStack({ app, endpoint }).project.synth().manifest.apps;

test('a measured endpoint that fits passes; one whose peak (plus 25%) exceeds the GPU is an error naming GPU, measured and allowed', () => {
  expect(gpuFitProblems(apps(), measured({}), 'm.json')).toEqual({ errors: [], warnings: [] });
  expect(gpuFitProblems(apps({ gpu: 'L4' }), measured({ peakGpuMemoryGb: 20 }), 'm.json').errors).toEqual([
    {
      path: 'test/demo/Demo',
      message:
        '/demo: GPU L4 has 24 GB, below the 25.0 GB it needs (peak 20 GB measured on NVIDIA H200 in m.json, plus 25%) (rule 5) — use a GPU with more memory',
    },
  ]);
  // Each GPU of a fallback list must fit.
  expect(
    gpuFitProblems(apps({ gpu: ['A100-80GB', 'L4'] }), measured({ peakGpuMemoryGb: 20 }), 'm.json').errors,
  ).toHaveLength(1);
});

test('the server timeout must cover the warm time scaled to the GPU plus the model load', () => {
  // 10 s warm on the H200 is 27.3 s on an L40S (×2.73), plus 2 s of loading: 30 s needed.
  expect(gpuFitProblems(apps({}, { timeout: '30s' }), measured({}), 'm.json').errors).toEqual([]);
  expect(gpuFitProblems(apps({}, { timeout: '29s' }), measured({}), 'm.json').errors).toEqual([
    {
      path: 'test/demo/Demo',
      message:
        "/demo: timeout 29s is shorter than a cold request needs on L40S: 30s (warm 10s on NVIDIA H200 × 2.73 for L40S, plus 2s of model loading; m.json) (rule 5) — raise the endpoint's timeout to at least 30s",
    },
  ]);
  expect(gpuFitProblems(apps({ gpu: 'H100' }, { timeout: '29s' }), measured({}), 'm.json').errors).toEqual([]);
});

test('an app with unmeasured endpoints gets one acknowledgeable warning listing them; a recorded failure counts as unmeasured, with why', () => {
  expect(gpuFitProblems(apps(), { ...measured({}), endpoints: {} }, 'm.json').warnings).toEqual([
    {
      path: 'test/demo',
      id: 'gpu-unmeasured',
      message:
        'app demo: no GPU measurement in m.json for /demo (rule 5): their GPU memory and timeouts are unchecked — measure them (test/gpu/measure.py)',
    },
  ]);
  const failed = gpuFitProblems(
    apps({ gpu: 'T4' }, { timeout: '1s' }),
    { ...measured({}), endpoints: {}, failures: { '/demo': { app: 'demo', error: 'ValueError: invalid tokenizer' } } },
    'm.json',
  );
  expect(failed.errors).toEqual([]);
  expect(failed.warnings[0].message).toContain('for /demo (it failed: ValueError: invalid tokenizer) (rule 5)');
});

test('the policy names the measurements file relative to itself; a missing or malformed one is a clear error', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'policy.yaml'), 'measurements: gpu.json\n');
  expect(problemsOf(() => loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml'))).toEqual([
    '[gpu.json] not found: the measurements file the client policy names (test/gpu/measure.py writes one), or remove measurements from the policy',
  ]);
  writeFileSync(
    path.join(dir, 'gpu.json'),
    JSON.stringify({ ...measured({}), endpoints: { '/demo': { peakGpuMemoryGb: 'lots' } } }),
  );
  expect(problemsOf(() => loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml'))[0]).toMatch(
    /^\[gpu\.json\] key 'endpoints\.\/demo\.(app|peakGpuMemoryGb)'/,
  );
  writeFileSync(path.join(dir, 'gpu.json'), JSON.stringify(measured({})));
  expect(loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml').measured?.endpoints['/demo'].warmSeconds).toBe(
    10,
  );
});

test('the RYLA stack passes rule 5 against its H200 measurements (the 15 core-node endpoints), and would not on a T4 with 2 s', () => {
  const ryla = require('../measurements/gpu-h200.json') as Measurements;
  expect(Object.keys(ryla.endpoints)).toHaveLength(15);
  expect(ryla.failures ?? {}).toEqual({});
  const all = synthRyla().manifest.apps;
  expect(gpuFitProblems(all, ryla, 'm').errors).toEqual([]);
  // qwen-image was on an L40S (48 GB), under its measured 43.4 GB peak + 25%: the stack now asks for an H100.
  const onL40s = all.filter((a) => a.id === 'qwen-image').map((a) => ({ ...a, gpu: 'L40S' }));
  expect(gpuFitProblems(onL40s, ryla, 'm').errors.map((e) => e.message.split(':')[0])).toEqual([
    '/qwen-image-2512',
    '/qwen-image-2512-fast',
    '/qwen-image-2512-lora',
  ]);
  const instantid = synthRyla().manifest.apps.filter((a) => a.id === 'instantid');
  const fit = gpuFitProblems(instantid, ryla, 'measurements/gpu-h200.json');
  expect(fit.errors).toEqual([]);
  expect(fit.warnings.map((w) => w.message)).toEqual([
    expect.stringContaining('for /sdxl-instantid, /flux-pulid, /flux-ipadapter-faceid (rule 5)'),
  ]);
  const shrunk = instantid.map((a) => ({
    ...a,
    gpu: 'T4',
    endpoints: a.endpoints.map((e) => ({ ...e, timeoutSeconds: 2 })),
  }));
  expect(gpuFitProblems(shrunk, ryla, 'm').errors.map((e) => e.message.split(':')[0])).toEqual([
    '/sdxl-turbo',
    '/sdxl-lightning',
  ]);
});

test("the measurements reach the manifest and the mapping doc: estimated warm time and USD per request on the app's first GPU", () => {
  const result = synthRyla();
  const fluxDev = result.manifest.apps.find((a) => a.id === 'flux')!.endpoints.find((e) => e.path === '/flux-dev')!;
  // 3.6 s warm on the H200 × 2.73 for an L40S = 9.83 s, × $0.000542/s.
  expect(fluxDev.measured).toEqual({
    device: 'NVIDIA H200',
    loadSeconds: 4.44,
    warmSeconds: 3.6,
    peakGpuMemoryGb: 36.08,
    gpu: 'L40S',
    estimatedWarmSeconds: 9.83,
    estimatedUsdPerRequest: 0.005328,
  });
  expect(result.manifest.apps.find((a) => a.id === 'seedvr2')!.endpoints[0].measured).toBeNull();
  expect(result.files.get('docs/ENDPOINT-APP-MAPPING.md')).toContain(
    '| `/flux-dev` | 36.08 GB | 4.44 s | 3.6 s | L40S | 9.83 s | 0.0053 |',
  );
  expect(demoStack().project.synth().files.get('docs/ENDPOINT-APP-MAPPING.md')).not.toContain('Measured GPU cost');
});
