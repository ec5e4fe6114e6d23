import { ComfyApp, Endpoint, HfModel, Workflow } from '../constructs';
import { coldStartSeconds } from '../lib/synth/warmup';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadMeasurements, measuredOn } from '../lib/policy/gpu-fit';
import { demoStack, FIXTURES, problemsOf, ROOT, TINY_REVISION } from './helpers';

/**
 * ComfyApp `warmup` (issue 34 item 1): what the runtime runs before a container takes its first request,
 * decided at synth from the endpoints, their smoke requests and the GPU, and written into app.py and the
 * manifest. The runtime side (warm_up, serve --warmup) is tested in test/python and on the real ComfyUI.
 */

type Demo = ReturnType<typeof demoStack>;

/** A second endpoint on the demo app: the same tiny workflow, an image field, a size field. */
function withSecond(demo: Demo, props: Partial<ConstructorParameters<typeof Endpoint>[2]> = {}) {
  new Endpoint(demo.app, 'Second', {
    path: '/second',
    workflow: Workflow.fromFile('workflows/tiny.json'),
    inputs: {
      image: { type: 'image', node: '3', input: 'image' },
      steps: { type: 'int', node: '5', input: 'steps', default: 20, min: 2, max: 50 },
    },
    ...props,
  });
  return demo;
}

const synth = (demo: Demo) => demo.project.synth();
const manifestApp = (demo: Demo) => synth(demo).manifest.apps[0];

describe('warmup', () => {
  test('by default every endpoint warms with its smoke request at the smallest size; app.py says so', () => {
    const demo = demoStack({ endpoint: { smokeRequest: { width: 512 } } });
    const app = manifestApp(demo);
    // width is a size field: its minimum (1), not the smoke request's 512; the model the workflow loads counts.
    expect(app.warmup).toEqual([{ path: '/demo', values: { width: 1 }, modelGb: 0.1 }]);
    const py = synth(demo).files.get('apps/demo/app.py')!;
    expect(py).toContain('WARMUP = [{"path": "/demo", "values": {"width": 1}}]');
    expect(py).toContain('self.runner.warm_up(WARMUP, ENDPOINTS)');
  });

  test("'all' leaves out an endpoint whose request would carry a made-up image, with a note; naming it warms it", () => {
    const all = withSecond(demoStack());
    const result = synth(all);
    expect(result.manifest.apps[0].warmup.map((s) => s.path)).toEqual(['/demo']);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        id: 'warmup-skipped',
        note: true,
        message: expect.stringContaining(
          "app demo warms /demo before its first request; not warmed: /second (its warm-up would send a made-up image (image), which a face or mask workflow may refuse — declare the endpoint's smokeRequest with a real one, or name it in warmup)",
        ),
      }),
    );
    const named = withSecond(demoStack({ app: { warmup: ['/second', '/demo'] } }));
    const steps = manifestApp(named).warmup;
    expect(steps.map((s) => s.path)).toEqual(['/second', '/demo']);
    expect(steps[0].values).toMatchObject({ steps: 2, image: expect.stringMatching(/^data:image\/png;base64,/) });
  });

  test("'none' warms nothing and adds no cache flag", () => {
    const demo = withSecond(demoStack({ app: { warmup: 'none' } }));
    const app = manifestApp(demo);
    expect([app.warmup, app.comfyArgs]).toEqual([[], []]);
    expect(synth(demo).files.get('apps/demo/app.py')).toContain('WARMUP = []');
  });

  test('a path that is not an endpoint of the app fails synth, naming the valid ones', () => {
    expect(problemsOf(() => synth(demoStack({ app: { warmup: ['/dmeo'] } })))).toEqual([
      `[test/demo] warmup: got "/dmeo", which is not an endpoint of this app: expected some of "/demo", 'all' or 'none'`,
    ]);
    expect(problemsOf(() => demoStack({ app: { warmup: 'some' as never } }))).toEqual([
      expect.stringContaining("expected 'all', 'none' or a list of the app's endpoint paths"),
    ]);
  });

  test('several warmed endpoints keep their outputs cached (--cache-lru), unless comfyArgs chose a cache', () => {
    const two = withSecond(demoStack({ app: { warmup: ['/demo', '/second'] } }));
    expect(manifestApp(two).comfyArgs).toEqual(['--cache-lru', '8']); // the nodes of their workflows (one here)
    const own = withSecond(demoStack({ app: { warmup: ['/demo', '/second'], comfyArgs: ['--cache-ram', '8'] } }));
    expect(manifestApp(own).comfyArgs).toEqual(['--cache-ram', '8']);
    const none = demoStack({ app: { comfyArgs: ['--cache-none'] } });
    expect(synth(none).warnings).toContainEqual(
      expect.objectContaining({ id: 'warmup-cache-none', message: expect.stringContaining('--cache-none') }),
    );
  });

  test('endpoints whose models do not fit on the GPU together: the first listed win, the rest get a note', () => {
    const tiny = JSON.parse(readFileSync(path.join(FIXTURES, 'workflows', 'tiny.json'), 'utf8'));
    tiny['6'].inputs.ckpt_name = 'big.safetensors';
    const stack = (warmup?: string[]) => {
      const demo = demoStack({ app: { gpu: 'L4', ...(warmup && { warmup }) } }); // 24 GB
      new HfModel(demo.app, 'BigModel', {
        repo: 'acme/big',
        file: 'big.safetensors',
        revision: TINY_REVISION,
        target: 'checkpoints',
        sizeGb: 20,
      });
      new Endpoint(demo.app, 'Big', {
        path: '/big',
        workflow: Workflow.fromJson('big.json', tiny),
        inputs: { width: { type: 'int', node: '1', input: 'width', default: 64, min: 1 } },
      });
      return demo;
    };
    // 0.1 GB + 20 GB, × 1.25 margin, is over the L4's 24 GB.
    const result = synth(stack());
    expect(result.manifest.apps[0].warmup.map((s) => [s.path, s.modelGb])).toEqual([['/demo', 0.1]]);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        message:
          'app demo warms /demo before its first request; not warmed: /big (its models would not fit on the GPU (24 GB) beside those of /demo: 20.1 GB in all)',
      }),
    );
    expect(manifestApp(stack(['/big', '/demo'])).warmup.map((s) => [s.path, s.modelGb])).toEqual([['/big', 20]]);
  });

  test('the startupTimeout floor counts the warm-up; the plan gives the expected cold start', () => {
    expect(ComfyApp.startupFloorSeconds(0, 4)).toBe(180); // 120 s + 4 × 15 s
    const demo = withSecond(demoStack({ app: { warmup: ['/demo', '/second'], startupTimeout: '2m' } }));
    const result = synth(demo);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        id: 'startup-timeout',
        message: expect.stringContaining('and 2 warmed endpoint(s) (15 s each)'),
      }),
    );
    expect(result.plan.steps[0].coldStart).toEqual({
      modelGb: 0.1,
      warmedEndpoints: 2,
      estimatedSeconds: coldStartSeconds(0.1, 2, false),
    });
    expect(coldStartSeconds(40, 2, true)).toBe(10 + 120 + 30);
    expect(result.files.get('docs/ENDPOINT-APP-MAPPING.md')).toContain('≈ 1m (0.1 GB, 2 warmed)');
  });
});

describe('the warm-up, measured on a GPU (measurements/gpu-h100-warmup.json)', () => {
  const measured = loadMeasurements(path.join(ROOT, 'measurements', 'gpu-h100-warmup.json'), 'gpu-h100-warmup.json');

  test('one card, the four endpoints, the lazy path and the warm-up path beside each other', () => {
    expect(measured.device).toBe('NVIDIA H100 80GB HBM3');
    expect(Object.keys(measured.endpoints).sort()).toEqual(['/flux', '/flux-dev', '/qwen-image-2512', '/wan2.6']);
  });

  test.each(['/flux', '/flux-dev', '/qwen-image-2512', '/wan2.6'])(
    '%s: the first request after the warm-up is within 10 % of a warm one, and faster than the lazy first',
    (at) => {
      const m = measured.endpoints[at];
      expect(m.firstAfterWarmupSeconds).toBeLessThanOrEqual(m.warmSeconds * 1.1);
      expect(m.firstAfterWarmupSeconds).toBeLessThan(m.firstSeconds);
    },
  );

  test("the figures reach the manifest through the policy's measurements", () => {
    expect(measuredOn(measured, '/flux', 'L40S')).toMatchObject({ firstAfterWarmupSeconds: 1.4, warmupSeconds: 9.68 });
  });
});
