import { ComfyApp, Endpoint, Workflow } from '../constructs';
import { problemsOf, testProject } from './helpers';

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

function build(partnerNodes?: { apiKeySecret: string; apiKeyEnv?: string }) {
  const project = testProject();
  const app = new ComfyApp(project, 'chat', { gpu: 'L40S', ...(partnerNodes && { partnerNodes }) });
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
