import { smokeBody, warmBody } from '../lib/synth/smoke';
import type { EndpointSpec, RequestField } from '../lib/synth/spec';
import { demoStack, problemsOf } from './helpers';

// The smoke request modal-cdk verify sends: declared, or made from the fields; and synth's warning when
// it cannot be made.

const field = (name: string, type: RequestField['type'], extra: Partial<RequestField> = {}): RequestField => ({
  name,
  type,
  targets: [],
  required: true,
  aliases: [],
  ...extra,
});
const endpoint = (fields: RequestField[], extra: Partial<EndpointSpec> = {}) =>
  ({ path: '/x', fields, requireOneOf: [], smokeRequest: null, ...extra }) as EndpointSpec;

test('required fields without a default get their smallest valid value; optional ones and seeds are left out', () => {
  expect(
    smokeBody(
      endpoint([
        field('prompt', 'string', { minLength: 40, maxLength: 100 }),
        field('short', 'string', { maxLength: 5 }),
        field('steps', 'int', { min: 4, max: 50 }),
        field('shift', 'float', { max: -1 }),
        field('style', 'enum', { values: ['anime', 'photo'] }),
        field('flag', 'bool'),
        field('seed', 'seed'),
        field('width', 'int', { default: 1024 }),
        field('optional', 'string', { required: false }),
      ]),
    ),
  ).toEqual({
    body: {
      prompt: 'a red apple on a wooden table...........',
      short: 'a red',
      steps: 4,
      shift: -1,
      style: 'anime',
      flag: false,
    },
  });
});

test('a requireOneOf group gets its first field that can be made; the declared smokeRequest wins', () => {
  const lora = endpoint(
    [
      field('lora_name', 'string', { required: false, modelFolder: 'loras' }),
      field('lora_url', 'string', { required: false }),
    ],
    { requireOneOf: [['lora_name', 'lora_url']] },
  );
  expect(smokeBody(lora)).toEqual({ body: { lora_url: 'a red apple on a wooden table' } });
  expect(smokeBody({ ...lora, smokeRequest: { lora_name: 'mine' } })).toEqual({ body: { lora_name: 'mine' } });
});

test('a model file name or a video cannot be made up: the error says to declare smokeRequest', () => {
  expect(smokeBody(endpoint([field('clip', 'video')]))).toEqual({
    error: "/x: field clip: a video cannot be made up — declare the endpoint's smokeRequest",
  });
  expect(smokeBody(endpoint([field('lora', 'string', { modelFolder: 'loras' })]))).toEqual({
    error:
      "/x: field lora: a file name in ComfyUI's loras folder cannot be guessed — declare the endpoint's smokeRequest",
  });
});

test('the warm body moves each seed it set on by one, wrapping at the maximum', () => {
  const e = endpoint([field('seed', 'seed', { min: 0, max: 9 })]);
  expect(warmBody(e, { seed: 3, prompt: 'p' })).toEqual({ seed: 4, prompt: 'p' });
  expect(warmBody(e, { seed: 9 })).toEqual({ seed: 0 });
  expect(warmBody(e, { prompt: 'p' })).toEqual({ prompt: 'p' });
});

test('synth warns (smoke-request) when verify could not call an endpoint, and refuses smokeRequest keys that are no field', () => {
  const { project } = demoStack({
    endpoint: { inputs: { lora: { type: 'string', node: '4', input: 'text', modelFolder: 'loras' } } },
  });
  expect(project.synth().warnings).toContainEqual({
    path: 'test/demo/Demo',
    id: 'smoke-request',
    message:
      "modal-cdk verify cannot check /demo: field lora: a file name in ComfyUI's loras folder cannot be guessed — declare the endpoint's smokeRequest",
  });
  const declared = demoStack({
    endpoint: { inputs: { lora: { type: 'string', node: '4', input: 'text' } }, smokeRequest: { lora: 'x' } },
  });
  const result = declared.project.synth();
  expect(result.warnings.filter((w) => w.id === 'smoke-request')).toEqual([]);
  expect(result.manifest.apps[0].endpoints[0].smokeRequest).toEqual({ lora: 'x' });
  expect(problemsOf(() => demoStack({ endpoint: { smokeRequest: { height: 5 } } }))).toEqual([
    '[test/demo/Demo] prop \'smokeRequest.height\': got "height", expected one of the endpoint\'s fields or aliases (["width"])',
  ]);
});
