import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ComfyApp, CustomNode, Endpoint, HfModel, Volume, Warnings, Workflow } from '../constructs';
import { demoStack, problemsOf, ROOT, synthRyla, testProject, tinyCheckpoint } from './helpers';

describe('ComfyApp', () => {
  test('defaults: Modal name <project>-<id>, one input per container, timeout covers its endpoints', () => {
    const { project } = demoStack({ endpoint: { timeout: '7m', clientTimeout: '9m' } });
    const app = project.synth().manifest.apps[0];
    expect(app.modalName).toBe('test-demo');
    expect(app.maxInputs).toBe(1);
    expect(app.timeoutSeconds).toBe(540);
    expect(app.startupTimeoutSeconds).toBe(600);
    expect(app.scaledownWindowSeconds).toBe(300);
    expect(app.minContainers).toBe(0);
    expect(app.maxContainers).toBeNull();
    expect(app.requiresProxyAuth).toBe(true);
  });

  test('explicit values reach the model: durations, scaling, GPU fallback list, normalized GPU spelling', () => {
    const { project } = demoStack({
      app: {
        gpu: ['h100:2', 'A100-80GB'],
        timeout: '1h',
        startupTimeout: 90,
        scaledownWindow: '2m',
        minContainers: 1,
        maxContainers: 3,
        maxInputs: 2,
        requiresProxyAuth: false,
      },
    });
    const app = project.synth().manifest.apps[0];
    expect(app).toMatchObject({
      gpu: ['H100:2', 'A100-80GB'],
      timeoutSeconds: 3600,
      startupTimeoutSeconds: 90,
      scaledownWindowSeconds: 120,
      minContainers: 1,
      maxContainers: 3,
      maxInputs: 2,
      requiresProxyAuth: false,
    });
  });

  test.each([
    [{ gpu: 'H100x' }, /prop 'gpu': got "H100x", expected a Modal GPU type: one of T4, L4, A10, L40S/],
    [{ gpu: 'A10G' }, /prop 'gpu': got "A10G", expected a Modal GPU type \("A10G" is now "A10"\)/],
    [{ gpu: 'A10:8' }, /prop 'gpu': got "A10:8", expected a GPU count from 1 to 4 for A10/],
    [
      { gpu: 'L40S', timeout: '5 minutes' },
      /prop 'timeout': got "5 minutes", expected a positive duration such as 90, "90s", "3m"/,
    ],
    [
      { gpu: 'L40S', minContainers: 5, maxContainers: 2 },
      /prop 'minContainers': got 5, expected at most maxContainers \(2\) — lower minContainers or raise maxContainers$/,
    ],
    [{ gpu: 'L40S', maxInputs: 0 }, /prop 'maxInputs': got 0/],
    [
      { gpu: 'L40S', pythonPackages: ['torch'] },
      /prop 'pythonPackages.0': got "torch", expected a pinned pip requirement "name==version"/,
    ],
    [{ gpu: 'L40S', comfyVersion: 'nightly' }, /prop 'comfyVersion': got "nightly"/],
    [{ gpu: 'L40S', secrets: ['bad name'] }, /prop 'secrets.0': got "bad name", expected a Modal name/],
  ])('rejects %j with a message naming the prop, the value and what is valid', (props, message) => {
    const project = testProject();
    expect(problemsOf(() => new ComfyApp(project, 'a', props as never))).toEqual([
      expect.stringMatching(new RegExp(`^\\[test/a\\] ${message.source}`)),
    ]);
  });

  test('an app that opts out of proxy auth gets a synth warning naming it; --strict fails on it', () => {
    const publicApp = demoStack({
      app: { requiresProxyAuth: false },
      endpoint: { timeout: '150s', clientTimeout: '150s' },
    }).project;
    expect(publicApp.synth().warnings).toEqual([
      {
        path: 'test/demo',
        id: 'public-endpoints',
        message: expect.stringMatching(
          /^app demo: endpoints without Modal proxy auth \(requiresProxyAuth: false\) are public/,
        ),
      },
    ]);
    expect(problemsOf(() => publicApp.synth({ strict: true }))).toEqual([
      expect.stringMatching(
        /^\[test\/demo\] app demo: endpoints without Modal proxy auth.*\(a warning; --strict fails on it\)$/,
      ),
    ]);
    expect(demoStack({ endpoint: { timeout: '150s', clientTimeout: '150s' } }).project.synth().warnings).toEqual([]);
    // Acknowledged on the app (or any scope above it), it is no longer shown, and --strict passes.
    const acknowledged = demoStack({
      app: { requiresProxyAuth: false },
      endpoint: { timeout: '150s', clientTimeout: '150s' },
    });
    Warnings.of(acknowledged.project).acknowledge('public-endpoints', 'a demo');
    expect(acknowledged.project.synth({ strict: true }).warnings).toEqual([]);
    // The project's default counts too: each app that inherits it is warned about.
    const inherited = demoStack({ project: { requiresProxyAuth: false } }).project.synth();
    expect(inherited.manifest.apps[0].requiresProxyAuth).toBe(false);
    expect(inherited.warnings.filter((w) => /proxy auth/.test(w.message)).map((w) => w.path)).toEqual(['test/demo']);
  });

  test("comfyArgs start ComfyUI with those flags; --listen and --port stay the runtime's", () => {
    const { files } = demoStack({ app: { comfyArgs: ['--fast', '--preview-method', 'none'] } }).project.synth();
    expect(files.get('apps/demo/app.py')).toContain('COMFY_ARGS = ["--fast", "--preview-method", "none"]');
    expect(files.get('apps/demo/app.py')).toContain('extra_args=COMFY_ARGS,');
    expect(problemsOf(() => new ComfyApp(testProject(), 'a', { gpu: 'T4', comfyArgs: ['--port=9000'] }))).toEqual([
      expect.stringMatching(/^\[test\/a\] prop 'comfyArgs.0': got "--port=9000", expected no --listen or --port/),
    ]);
  });

  test('two endpoints may read the same workflow file; two files of one name are refused', () => {
    const project = testProject();
    const app = new ComfyApp(project, 'a', { gpu: 'T4' });
    tinyCheckpoint(app);
    new Endpoint(app, 'One', { path: '/one', workflow: Workflow.fromFile('workflows/tiny.json') });
    new Endpoint(app, 'Two', { path: '/two', workflow: Workflow.fromFile('workflows/tiny.json') });
    expect(project.synth().manifest.apps[0].endpoints.map((e) => e.workflow)).toEqual([
      'workflows/tiny.json',
      'workflows/tiny.json',
    ]);
    new Endpoint(app, 'Three', {
      path: '/three',
      workflow: Workflow.fromJson('tiny', { 1: { class_type: 'SaveImage', inputs: { filename_prefix: 'x' } } }),
    });
    expect(problemsOf(() => project.synth())).toEqual([
      expect.stringMatching(/two different workflows are both named tiny.json \(endpoint \/three\)/),
      '[test/a/Three] workflow tiny.json node 1 (SaveImage) input images: got nothing, expected a link to IMAGE (a required input) — link it',
    ]);
  });

  test('an app id must be usable in a Modal name', () => {
    expect(problemsOf(() => new ComfyApp(testProject(), 'Bad_Id', { gpu: 'T4' }))).toEqual([
      expect.stringMatching(/^\[test\/Bad_Id\] app id: got "Bad_Id", expected lower-case letters, digits and "-"/),
    ]);
  });

  test('two volumes on one mount path are refused at synth', () => {
    const project = testProject();
    const a = new Volume(project, 'A', { name: 'vol-a', mountPath: '/root/models' });
    const b = new Volume(project, 'B', { name: 'vol-b', mountPath: '/root/models' });
    const app = new ComfyApp(project, 'demo', { gpu: 'L40S', volumes: [a, b] });
    tinyCheckpoint(app);
    new Endpoint(app, 'Demo', { path: '/demo', workflow: Workflow.fromFile('workflows/tiny.json') });
    expect(problemsOf(() => project.synth())).toEqual([
      expect.stringMatching(/volumes "vol-a" and "vol-b" are both mounted at \/root\/models/),
    ]);
  });
});

describe('startupTimeout and scaling', () => {
  test('a startupTimeout below 120 s + 3 s per GB of models warns, naming both', () => {
    const { project, app } = demoStack({ app: { startupTimeout: '2m' } });
    new HfModel(app, 'Big', { repo: 'acme/big', file: 'big.safetensors', target: 'loras', sizeGb: 40 });
    const startup = (p: typeof project) => p.synth().warnings.filter((w) => w.id === 'startup-timeout');
    expect(startup(project)).toEqual([
      {
        path: 'test/demo',
        id: 'startup-timeout',
        message:
          'app demo: startupTimeout 2m is below 5m, the floor for 40 GB of models (120 s + 3 s per GB) and 1 warmed endpoint(s) (15 s each): a cold container may be stopped before ComfyUI is up — raise startupTimeout',
      },
    ]);
    expect(startup(demoStack({ app: { startupTimeout: '3m' } }).project)).toEqual([]);
    expect(ComfyApp.startupFloorSeconds(0)).toBe(120);
  });

  test('app.py says what each scaling setting costs in idle GPU time', () => {
    const py = demoStack({ app: { minContainers: 1, scaledownWindow: '10m' } })
      .project.synth()
      .files.get('apps/demo/app.py')!;
    expect(py).toContain('# L40S at about $1.95/h):');
    expect(py).toContain(
      '# - min_containers=1: containers kept up with no traffic, about $46.83 a day (0: a cold start after each quiet spell).',
    );
    expect(py).toContain(
      '# - scaledown_window=600 s: each container stays up that long after its last request, up to $0.33 each time.',
    );
  });
});

describe('memory snapshots', () => {
  const appPy = (project: ReturnType<typeof demoStack>['project']) => project.synth().files.get('apps/demo/app.py')!;
  const gpuNode = (app: ComfyApp) =>
    new CustomNode(app, 'Upscaler', {
      repo: 'https://example.com/upscaler',
      commit: 'e'.repeat(40),
      importNeedsGpu: true,
    });

  test("off by default: one start after the container's, no snapshot, no extension", () => {
    const { project } = demoStack();
    const py = appPy(project);
    expect(py).not.toMatch(/enable_memory_snapshot|snap=|hide_gpu|attach_gpu/);
    expect(py).toMatch(
      / {4}@modal\.enter\(\)\n {4}def start\(self\):\n {8}link_volume_models\(\)\n {8}self\.runner = self\.create_runner\(\)\n {8}self\.runner\.start\(timeout=STARTUP_TIMEOUT_SECONDS\)\n/,
    );
    expect([...project.synth().files.keys()].filter((f) => f.includes('modal_cdk_snapshot'))).toEqual([]);
  });

  test('memorySnapshot: ComfyUI started with the GPU hidden before the snapshot, given the GPU after each restore; the extension in its custom_nodes', () => {
    const { project } = demoStack({ app: { memorySnapshot: true } });
    const assembly = project.synth();
    const py = assembly.files.get('apps/demo/app.py')!;
    expect(py).toContain('    enable_memory_snapshot=True,\n');
    expect(py).not.toContain('experimental_options');
    const phase1 = py.indexOf('@modal.enter(snap=True)');
    const phase2 = py.indexOf('@modal.enter(snap=False)');
    expect(phase1).toBeGreaterThan(0);
    expect(phase2).toBeGreaterThan(phase1);
    expect(py.slice(phase1, phase2)).toContain('self.runner.start(timeout=STARTUP_TIMEOUT_SECONDS, hide_gpu=True)');
    expect(py.slice(phase2)).toMatch(
      /def after_restore\(self\):\n.*\n {8}link_volume_models\(\)\n {8}self\.runner\.attach_gpu\(\)\n/,
    );
    expect(py).toContain(
      '    .add_local_dir(HERE / "modal_cdk_snapshot", "/root/comfy/ComfyUI/custom_nodes/modal_cdk_snapshot")\n',
    );
    for (const file of ['__init__.py', 'prestartup_script.py']) {
      expect(assembly.files.get(`apps/demo/modal_cdk_snapshot/${file}`)).toBe(
        readFileSync(path.join(ROOT, 'templates', 'runtime', 'modal_cdk_snapshot', file), 'utf8'),
      );
    }
  });

  test("gpuSnapshot: Modal's experimental GPU snapshot, ComfyUI started on the GPU, warned as alpha; it needs memorySnapshot", () => {
    const { project } = demoStack({ app: { memorySnapshot: true, gpuSnapshot: true } });
    const { files, warnings } = project.synth();
    const py = files.get('apps/demo/app.py')!;
    expect(py).toContain('    experimental_options={"enable_gpu_snapshot": True},\n');
    // The GPU is in the snapshot phase: the warm-up runs there, so its models are in the snapshot too.
    expect(py).toContain(
      '        self.runner.start(timeout=STARTUP_TIMEOUT_SECONDS)\n        # The GPU is in this phase and in the snapshot: so are the warmed models.\n        self.runner.warm_up(WARMUP, ENDPOINTS)\n\n    @modal.enter(snap=False)',
    );
    expect(py).not.toContain('attach_gpu');
    expect(warnings.filter((w) => w.id === 'gpu-snapshot-alpha')).toEqual([
      {
        path: 'test/demo',
        id: 'gpu-snapshot-alpha',
        message: expect.stringMatching(/^app demo: gpuSnapshot uses Modal's GPU memory snapshots, an alpha feature/),
      },
    ]);
    expect(problemsOf(() => demoStack({ app: { gpuSnapshot: true } }).project.synth())).toEqual([
      '[test/demo] gpuSnapshot: got true without memorySnapshot, expected memorySnapshot: true as well (a GPU snapshot is part of a memory snapshot) — set memorySnapshot: true, or remove gpuSnapshot',
    ]);
  });

  test('a custom node that needs a GPU to import cannot start in a CPU snapshot phase: refused unless gpuSnapshot', () => {
    const refused = demoStack({ app: { memorySnapshot: true } });
    gpuNode(refused.app);
    expect(problemsOf(() => refused.project.synth())).toEqual([
      '[test/demo] memorySnapshot: got true with custom node(s) that need a GPU to import (Upscaler), but the snapshot phase has no GPU — remove memorySnapshot, or add gpuSnapshot: true (alpha)',
    ]);
    const withGpu = demoStack({ app: { memorySnapshot: true, gpuSnapshot: true } });
    gpuNode(withGpu.app);
    expect(() => withGpu.project.synth()).not.toThrow();
  });
});

describe('memory snapshots and packs that pick their device at import (CustomNode importPicksDevice)', () => {
  const SHA = '0123456789abcdef0123456789abcdef01234567';
  const withPack = (app: object, importPicksDevice?: boolean) => {
    const demo = demoStack({ app });
    new CustomNode(demo.app, 'Pack', {
      repo: 'https://github.com/acme/pack',
      commit: SHA,
      ...(importPicksDevice !== undefined && { importPicksDevice }),
    });
    return demo.project;
  };

  test('a CPU memory snapshot is refused for such a pack, naming it; with gpuSnapshot, or a pack that picks at run time, it synthesizes', () => {
    expect(problemsOf(() => withPack({ memorySnapshot: true }, true).synth())).toEqual([
      '[test/demo] memorySnapshot: got true with custom node(s) that pick their device when imported (Pack): in the GPU-less snapshot phase they would pick the CPU and keep it after the restore — remove memorySnapshot, or add gpuSnapshot: true (alpha)',
    ]);
    expect(() => withPack({ memorySnapshot: true, gpuSnapshot: true }, true).synth()).not.toThrow();
    expect(() => withPack({ memorySnapshot: true }).synth()).not.toThrow();
  });

  test('the RYLA apps: instantid and z-image start from snapshots; qwen-image (ReActor) does not, and says why', () => {
    const apps = Object.fromEntries(synthRyla().manifest.apps.map((a) => [a.id, a.memorySnapshot]));
    expect(apps).toMatchObject({ instantid: true, 'z-image': true, 'qwen-image': false, seedvr2: false });
    const qwen = readFileSync(path.join(ROOT, 'bin', 'ryla', 'qwen-image.ts'), 'utf8');
    expect(qwen).toContain('importPicksDevice: true');
  });
});
