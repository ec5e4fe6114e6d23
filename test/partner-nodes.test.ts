import { ComfyApp, CustomNode, Endpoint, Workflow } from '../constructs';
import { problemsOf, testProject, tinyCheckpoint } from './helpers';

/**
 * Comfy.org partner-API nodes (`api_node` in ComfyUI's schemas) are a decision: refused at synth unless the
 * app names the Modal Secret with the Comfy.org key (partnerNodes), which the runtime then sends with each
 * prompt (test/comfyui/test_partner_nodes.py follows the key through a real ComfyUI 0.28.2 to a stand-in
 * of Comfy.org's API).
 */
const chat = {
  '1': { class_type: 'OpenAIChatNode', inputs: { prompt: 'hello', persist_context: false, model: 'gpt-5' } },
  '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
};

function build(
  partnerNodes?: { apiKeySecret: string; apiKeyEnv?: string },
  props: Partial<ConstructorParameters<typeof ComfyApp>[2]> = { gpu: 'L40S' },
  more: (app: ComfyApp) => void = () => {},
) {
  const project = testProject();
  const app = new ComfyApp(project, 'chat', { ...props, ...(partnerNodes && { partnerNodes }) });
  more(app);
  new Endpoint(app, 'Chat', {
    path: '/chat',
    workflow: Workflow.fromJson('chat', chat),
    inputs: { prompt: { type: 'string', node: '1', input: 'prompt', default: 'hello' } },
    outputNode: '2',
  });
  return project;
}

test('a workflow with partner-API nodes fails synth unless the app allows them, naming the nodes and why', () => {
  expect(problemsOf(() => build().synth())).toEqual([
    expect.stringContaining(
      "node 1 (OpenAIChatNode) is a Comfy.org partner-API node: it runs on Comfy.org's servers, not the app's GPU (which would idle, paid, while it waits), and needs a Comfy.org API key with every prompt — to allow them, set the ComfyApp's partnerNodes: { apiKeySecret: '<Modal Secret with COMFY_ORG_API_KEY>' }",
    ),
  ]);
});

test('allowed: the Secret is attached to the app and the runtime is told its variable', () => {
  const files = build({ apiKeySecret: 'comfy-org' }).synth().files;
  const app = files.get('apps/chat/app.py')!;
  expect(app).toContain('SECRETS = [modal.Secret.from_name("comfy-org")]');
  expect(app).toContain('COMFY_ORG_API_KEY_ENV = "COMFY_ORG_API_KEY"');
  expect(app).toContain('api_key_env=COMFY_ORG_API_KEY_ENV,');
  const manifest = JSON.parse(files.get('manifest.json')!);
  expect(manifest.apps[0].partnerNodes).toEqual({ apiKeySecret: 'comfy-org', apiKeyEnv: 'COMFY_ORG_API_KEY' });
});

test('a Secret name or variable that cannot be one is refused at the prop', () => {
  expect(problemsOf(() => build({ apiKeySecret: 'comfy-org', apiKeyEnv: 'lower case' }).synth())).toEqual([
    expect.stringContaining('expected an environment variable name such as COMFY_ORG_API_KEY'),
  ]);
  expect(problemsOf(() => build({ apiKeySecret: 'my key!' }).synth())).toEqual([
    expect.stringContaining('partnerNodes.apiKeySecret'),
  ]);
});

describe('an app without gpu runs on the CPU', () => {
  const key = { apiKeySecret: 'comfy-org' };

  test('gpu=None, ComfyUI with --cpu, a standing cost with no GPU price, and no warm-up of a paid remote call', () => {
    const result = build(key, {}).synth();
    const app = result.files.get('apps/chat/app.py')!;
    expect(app).toContain('# No GPU: the containers run ComfyUI on the CPU (--cpu in COMFY_ARGS).\nGPU = None\n');
    expect(app).toContain('COMFY_ARGS = ["--cpu"]');
    expect(app).toContain('WARMUP = []');
    const spec = result.manifest.apps[0];
    expect([spec.gpu, spec.comfyArgs, spec.standingCost.gpu, spec.standingCost.usdPerDay]).toEqual([
      null,
      ['--cpu'],
      'CPU',
      null,
    ]);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        id: 'warmup-skipped',
        message: expect.stringContaining(
          '/chat (it runs Comfy.org partner-API node(s) (OpenAIChatNode): a warm-up would be a paid call to Comfy.org, with no model here to load)',
        ),
      }),
    );
    // A --cpu the stack gave is not doubled.
    expect(build(key, { comfyArgs: ['--cpu', '--fast'] }).synth().manifest.apps[0].comfyArgs).toEqual([
      '--cpu',
      '--fast',
    ]);
  });

  test('what needs a GPU is refused there: gpuSnapshot, a pack that imports only on a GPU, fp8 at load', () => {
    expect(problemsOf(() => build(key, { memorySnapshot: true, gpuSnapshot: true }).synth())).toContainEqual(
      expect.stringContaining('gpuSnapshot: got true for an app without a GPU (no gpu: it runs on the CPU)'),
    );
    const pack = (app: ComfyApp) =>
      new CustomNode(app, 'Seedvr2', {
        repo: 'https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler',
        commit: '4490bd1f482e026674543386bb2a4d176da245b9',
        importNeedsGpu: true,
      });
    expect(problemsOf(() => build(key, {}, pack).synth())).toContainEqual(
      expect.stringContaining(
        "gpu: none given (the app runs on the CPU), but custom node(s) Seedvr2 need a GPU to import — set the app's gpu",
      ),
    );
    expect(problemsOf(() => build(key, { fp8DiffusionModel: true }).synth())).toContainEqual(
      expect.stringContaining('fp8DiffusionModel: got true, but the app has no GPU (it runs on the CPU)'),
    );
  });

  test('a CPU app with model files warns (a forgotten gpu?); a partner app with a GPU and no model is told it may drop it', () => {
    const cpu = build(key, {}, tinyCheckpoint).synth();
    expect(cpu.warnings).toContainEqual(
      expect.objectContaining({
        id: 'cpu-models',
        message: expect.stringContaining(
          'app chat has no gpu, so ComfyUI runs on the CPU, but it declares 1 model file(s) (TinyCheckpoint)',
        ),
      }),
    );
    expect(build(key).synth().warnings).toContainEqual(
      expect.objectContaining({
        id: 'partner-gpu',
        note: true,
        message: expect.stringContaining('app chat reserves a GPU (L40S) but declares no model file'),
      }),
    );
    const ids = (r: { warnings: { id?: string }[] }) => r.warnings.map((w) => w.id);
    expect(ids(build(key, { gpu: 'L40S' }, tinyCheckpoint).synth())).not.toContain('partner-gpu');
    expect(ids(build(key, {}).synth())).not.toContain('cpu-models');
  });
});
