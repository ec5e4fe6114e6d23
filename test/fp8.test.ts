import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Endpoint, HfModel, Workflow } from '../constructs';
import { FP8_WEIGHT_DTYPE } from '../lib/comfy/fp8';
import { loadMeasurements, measuredOn } from '../lib/policy/gpu-fit';
import { demoStack, FIXTURES, problemsOf, ROOT, TINY_REVISION } from './helpers';

/**
 * fp8 at load (issue 34 item 3): Endpoint / ComfyApp `fp8DiffusionModel` rewrites each UNETLoader's
 * weight_dtype in the workflow the app ships, records it, and is refused where it cannot work.
 */

/** The tiny workflow plus a UNETLoader of a declared diffusion model. */
function withUnet(opts: Parameters<typeof demoStack>[0] = {}, endpoint: { fp8DiffusionModel?: boolean } = {}) {
  const demo = demoStack(opts);
  new HfModel(demo.app, 'UnetModel', {
    repo: 'acme/unet',
    file: 'unet.safetensors',
    revision: TINY_REVISION,
    target: 'diffusion_models',
    sizeGb: 1,
  });
  const graph = JSON.parse(readFileSync(path.join(FIXTURES, 'workflows', 'tiny.json'), 'utf8'));
  graph['20'] = { class_type: 'UNETLoader', inputs: { unet_name: 'unet.safetensors', weight_dtype: 'default' } };
  new Endpoint(demo.app, 'Unet', {
    path: '/unet',
    workflow: Workflow.fromJson('unet.json', graph),
    inputs: { width: { type: 'int', node: '1', input: 'width', default: 64, min: 1 } },
    ...endpoint,
  });
  return demo;
}

describe('fp8DiffusionModel', () => {
  test('the shipped workflow loads the diffusion model as fp8; the manifest says so', () => {
    const result = withUnet({}, { fp8DiffusionModel: true }).project.synth();
    const shipped = JSON.parse(result.files.get('apps/demo/workflows/unet.fp8.json')!);
    expect(shipped['20'].inputs).toEqual({ unet_name: 'unet.safetensors', weight_dtype: FP8_WEIGHT_DTYPE });
    expect(result.files.has('apps/demo/workflows/unet.json')).toBe(false);
    const unet = result.manifest.apps[0].endpoints.find((e) => e.path === '/unet')!;
    expect([unet.workflow, unet.fp8DiffusionModel]).toEqual(['workflows/unet.fp8.json', true]);
    expect(result.files.get('apps/demo/app.py')).toContain('"workflow": "unet.fp8.json"');
  });

  test("the app's setting applies to its endpoints, and an endpoint may say otherwise", () => {
    const result = withUnet({
      app: { fp8DiffusionModel: true },
      endpoint: { fp8DiffusionModel: false },
    }).project.synth();
    const fp8 = Object.fromEntries(result.manifest.apps[0].endpoints.map((e) => [e.path, e.fp8DiffusionModel]));
    expect(fp8).toEqual({ '/demo': false, '/unet': true });
    // Without that, the app-wide setting reaches /demo, whose workflow has no UNETLoader: refused, naming it.
    expect(problemsOf(() => withUnet({ app: { fp8DiffusionModel: true } }).project.synth())).toEqual([
      '[test/demo/Demo] fp8DiffusionModel: got true, but tiny.json has no UNETLoader (its loaders: CheckpointLoaderSimple): only UNETLoader casts a diffusion model at load (weight_dtype) — load the model with UNETLoader, or leave fp8DiffusionModel out',
    ]);
  });

  test('refused on a GPU without fp8 compute, naming it', () => {
    expect(
      problemsOf(() => withUnet({ app: { gpu: ['H100', 'A100-80GB'] } }, { fp8DiffusionModel: true }).project.synth()),
    ).toEqual([
      '[test/demo/Unet] fp8DiffusionModel: got true, but the app runs on A100-80GB, which has no fp8 compute (it needs compute capability 8.9: L4, L40S, RTX-PRO-6000, H100, H200, B200) — choose such GPUs for the app, or leave fp8DiffusionModel out',
    ]);
  });

  test("the GPU-fit check uses the fp8 variant's measured memory", () => {
    const measured = loadMeasurements(path.join(ROOT, 'measurements', 'gpu-h100-warmup.json'), 'm.json');
    expect(measuredOn(measured, '/flux-dev', 'L40S')!.peakGpuMemoryGb).toBe(36.08);
    expect(measuredOn(measured, '/flux-dev', 'L40S', true)).toMatchObject({ peakGpuMemoryGb: 24.33, warmSeconds: 3.4 });
    // Measured on one H100: a third off /flux-dev's peak memory, and faster warm requests on both.
    expect(measured.endpoints['/qwen-image-2512'].fp8!.warmSeconds).toBeLessThan(
      measured.endpoints['/qwen-image-2512'].warmSeconds,
    );
  });
});
