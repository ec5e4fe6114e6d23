import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gpuFitProblems, Measurements } from '../lib/policy/gpu-fit';
import { loadClientPolicy } from '../lib/policy/client-policy';
import { demoStack, problemsOf, synthRyla, tempDir } from './helpers';

// Rule 5: an app's GPU memory and its endpoints' timeouts against measured GPU runs.

const measured = (m: Partial<Measurements['endpoints'][string]>): Measurements => ({
  device: 'NVIDIA H200', driver: '580', torch: '2.11', comfyui: '0.3.75', date: '2026-12-01',
  endpoints: { '/demo': { app: 'demo', gpu: 'L40S', loadSeconds: 2, firstSeconds: 5, warmSeconds: 10, peakGpuMemoryGb: 9.4, ...m } },
});
const apps = (app = {}, endpoint = {}) => demoStack({ app, endpoint }).project.synth().manifest.apps;

test('a measured endpoint that fits passes; one whose peak (plus 25%) exceeds the GPU is an error naming GPU, measured and allowed', () => {
  expect(gpuFitProblems(apps(), measured({}), 'm.json')).toEqual({ errors: [], warnings: [] });
  expect(gpuFitProblems(apps({ gpu: 'L4' }), measured({ peakGpuMemoryGb: 20 }), 'm.json').errors).toEqual([{
    path: 'test/demo/Demo',
    message: '/demo: GPU L4 has 24 GB, below the 25.0 GB it needs (peak 20 GB measured on NVIDIA H200 in m.json, plus 25%) (rule 5) — use a GPU with more memory',
  }]);
  // Each GPU of a fallback list must fit.
  expect(gpuFitProblems(apps({ gpu: ['A100-80GB', 'L4'] }), measured({ peakGpuMemoryGb: 20 }), 'm.json').errors).toHaveLength(1);
});

test('the server timeout must cover the warm time scaled to the GPU plus the model load', () => {
  // 10 s warm on the H200 is 27.3 s on an L40S (×2.73), plus 2 s of loading: 30 s needed.
  expect(gpuFitProblems(apps({}, { timeout: '30s' }), measured({}), 'm.json').errors).toEqual([]);
  expect(gpuFitProblems(apps({}, { timeout: '29s' }), measured({}), 'm.json').errors).toEqual([{
    path: 'test/demo/Demo',
    message: '/demo: timeout 29s is shorter than a cold request needs on L40S: 30s (warm 10s on NVIDIA H200 × 2.73 for L40S, plus 2s of model loading; m.json) (rule 5) — raise the endpoint\'s timeout to at least 30s',
  }]);
  expect(gpuFitProblems(apps({ gpu: 'H100' }, { timeout: '29s' }), measured({}), 'm.json').errors).toEqual([]);
});

test('an app with unmeasured endpoints gets one acknowledgeable warning listing them', () => {
  expect(gpuFitProblems(apps(), { ...measured({}), endpoints: {} }, 'm.json').warnings).toEqual([{
    path: 'test/demo', id: 'gpu-unmeasured',
    message: 'app demo: no GPU measurement in m.json for /demo (rule 5): their GPU memory and timeouts are unchecked — measure them (test/gpu/measure.py)',
  }]);
});

test('the policy names the measurements file relative to itself; a missing or malformed one is a clear error', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'policy.yaml'), 'measurements: gpu.json\n');
  expect(problemsOf(() => loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml'))).toEqual([
    '[gpu.json] not found: the measurements file the client policy names (test/gpu/measure.py writes one), or remove measurements from the policy',
  ]);
  writeFileSync(path.join(dir, 'gpu.json'), JSON.stringify({ ...measured({}), endpoints: { '/demo': { peakGpuMemoryGb: 'lots' } } }));
  expect(problemsOf(() => loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml'))[0]).toMatch(/^\[gpu\.json\] key 'endpoints\.\/demo\.(app|peakGpuMemoryGb)'/);
  writeFileSync(path.join(dir, 'gpu.json'), JSON.stringify(measured({})));
  expect(loadClientPolicy(path.join(dir, 'policy.yaml'), 'policy.yaml').measured?.endpoints['/demo'].warmSeconds).toBe(10);
});

test('the RYLA stack passes rule 5 against its H200 measurements (the SDXL endpoints on an L40S), and would not on a T4 with 2 s', () => {
  const ryla = require('../measurements/gpu-h200.json') as Measurements;
  expect(Object.keys(ryla.endpoints).sort()).toEqual(['/sdxl-lightning', '/sdxl-turbo']);
  const instantid = synthRyla().manifest.apps.filter((a) => a.id === 'instantid');
  const fit = gpuFitProblems(instantid, ryla, 'measurements/gpu-h200.json');
  expect(fit.errors).toEqual([]);
  expect(fit.warnings.map((w) => w.message)).toEqual([expect.stringContaining('for /sdxl-instantid, /flux-pulid, /flux-ipadapter-faceid (rule 5)')]);
  const shrunk = instantid.map((a) => ({ ...a, gpu: 'T4', endpoints: a.endpoints.map((e) => ({ ...e, timeoutSeconds: 2 })) }));
  expect(gpuFitProblems(shrunk, ryla, 'm').errors.map((e) => e.message.split(':')[0])).toEqual(['/sdxl-turbo', '/sdxl-lightning']);
});
