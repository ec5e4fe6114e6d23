import { Endpoint, Workflow } from '../constructs';
import { demoStack, problemsOf } from './helpers';

const tiny = () => Workflow.fromFile('workflows/tiny.json');

describe('Endpoint', () => {
  test('fields reach the model with their bindings, defaults, bounds and aliases', () => {
    const { project } = demoStack({
      endpoint: {
        timeout: '90s',
        clientTimeout: '3m',
        output: 'jpeg',
        inputs: {
          prompt: { type: 'string', node: '4', input: 'text', maxLength: 100, aliases: ['text'] },
          seed: { type: 'seed', node: '5', input: 'seed' },
          image: { type: 'image', node: '3', input: 'image' },
          sampler: { type: 'enum', node: '5', input: 'sampler_name', values: ['euler', 'dpmpp_2m'], default: 'euler' },
          cfg: { type: 'float', node: '5', input: 'cfg', default: 1, min: 0, max: 30 },
          noise: {
            type: 'bool',
            node: '5',
            input: 'scheduler',
            default: true,
            map: { true: 'normal', false: 'karras' },
          },
          size: { type: 'int', node: '1', input: 'width', alsoSets: [{ node: '1', input: 'height' }], default: 64 },
        },
      },
    });
    const endpoint = project.synth().manifest.apps[0].endpoints[0];
    expect(endpoint).toMatchObject({
      path: '/demo',
      output: 'jpeg',
      contentType: 'image/jpeg',
      outputNode: '9',
      timeoutSeconds: 90,
      clientTimeoutMs: 180000,
      requestClass: 'DemoRequest',
      workflow: 'workflows/tiny.json',
    });
    const byName = Object.fromEntries(endpoint.fields.map((f) => [f.name, f]));
    expect(byName.prompt).toEqual({
      name: 'prompt',
      type: 'string',
      targets: [{ node: '4', input: 'text' }],
      required: true,
      maxLength: 100,
      aliases: ['text'],
    });
    expect(byName.seed.required).toBe(false);
    expect(byName.sampler).toMatchObject({ required: false, default: 'euler', values: ['euler', 'dpmpp_2m'] });
    expect(byName.size.targets).toEqual([
      { node: '1', input: 'width' },
      { node: '1', input: 'height' },
    ]);
  });

  test('client timeout defaults to the server timeout', () => {
    const { project } = demoStack({ endpoint: { timeout: '4m' } });
    expect(project.synth().manifest.apps[0].endpoints[0].clientTimeoutMs).toBe(240000);
  });

  test.each([
    [{ path: 'no-slash' }, /prop 'path': got "no-slash", expected a URL path starting with "\/"/],
    [{ path: '/health' }, /prop 'path': got "\/health", expected a path other than "\/health"/],
    [{ output: 'gif' }, /prop 'output': got "gif", expected one of "png"\|"jpeg"\|"webp"\|"mp4"\|"json"/],
    [{ workflow: 'workflows/tiny.json' }, /prop 'workflow': got "workflows\/tiny.json", expected a Workflow/],
    [
      { inputs: { w: { type: 'int', node: '1', input: 'width', default: 'big' } } },
      /prop 'inputs.w.default': got "big", expected a int default/,
    ],
    [
      { inputs: { w: { type: 'int', node: '1', input: 'width', default: 9, max: 5 } } },
      /prop 'inputs.w.default': got 9, expected a default within \[-∞, 5\]/,
    ],
    [
      { inputs: { s: { type: 'enum', node: '5', input: 'sampler_name' } } },
      /prop 'inputs.s.values': got nothing, expected the allowed values of the enum/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', min: 1 } } },
      /prop 'inputs.s.min': got 1, expected no min\/max: only int, float and seed have bounds/,
    ],
    [
      { inputs: { class: { type: 'string', node: '4', input: 'text' } } },
      /prop 'inputs.class': got "class", expected a name that is not a Python keyword/,
    ],
    [
      { inputs: { 'my-field': { type: 'string', node: '4', input: 'text' } } },
      /prop 'inputs.my-field': got "my-field", expected a JSON field name usable in Python/,
    ],
    [
      {
        inputs: {
          a: { type: 'int', node: '1', input: 'width', aliases: ['b'] },
          b: { type: 'int', node: '1', input: 'height' },
        },
      },
      /prop 'inputs.b': got "b", expected each field name and alias once, but "b" is also an alias of "a"/,
    ],
    [
      { inputs: { t: { type: 'text', node: '4', input: 'text' } } },
      /prop 'inputs.t.type': got "text", expected one of "string"\|"int"\|"float"\|"bool"\|"enum"\|"seed"\|"image"/,
    ],
  ])('rejects %j', (props, message) => {
    const { app } = demoStack();
    expect(
      problemsOf(() => new Endpoint(app, 'E', { path: '/e', workflow: tiny(), ...props } as never)),
    ).toContainEqual(expect.stringMatching(new RegExp(`^\\[test/demo/E\\] ${message.source}`)));
  });

  describe('bindings are checked against the workflow at synth', () => {
    const synthProblems = (inputs: object, extra: object = {}) =>
      problemsOf(() => demoStack({ endpoint: { inputs: inputs as never, ...extra } }).project.synth());

    test('a node id the workflow lacks', () => {
      expect(synthProblems({ w: { type: 'int', node: '42', input: 'width' } })).toEqual([
        '[test/demo/Demo] input \'w\' binds node "42", which workflows/tiny.json lacks: expected one of its node ids ["1","2","3","4","5","6","7","9"]',
      ]);
    });

    test('an input that node lacks', () => {
      expect(synthProblems({ w: { type: 'int', node: '1', input: 'depth' } })).toEqual([
        '[test/demo/Demo] input \'w\' binds node "1" (EmptyImage).depth, an input that node lacks: expected one of ["width","height","batch_size","color"]',
      ]);
    });

    test('an input that is a link, not a value', () => {
      expect(synthProblems({ img: { type: 'image', node: '2', input: 'image' } })).toEqual([
        expect.stringMatching(
          /binds node "2" \(ImageInvert\)\.image, which is linked to node "1": bind a literal input instead/,
        ),
      ]);
    });

    test('a value type that does not fit the input', () => {
      expect(synthProblems({ w: { type: 'string', node: '1', input: 'width' } })).toEqual([
        "[test/demo/Demo] workflow workflows/tiny.json node 1 (EmptyImage) input width: field 'w' is a string, expected a field that fits an INT in [1, 16384] — change the field type or bind another input",
      ]);
      expect(synthProblems({ b: { type: 'bool', node: '5', input: 'steps' } })).toEqual([
        "[test/demo/Demo] workflow workflows/tiny.json node 5 (KSampler) input steps: field 'b' can set true: got true, expected an INT in [1, 10000] — change the field's values or map",
      ]);
    });

    test('an outputNode that is not in the workflow', () => {
      expect(synthProblems({}, { outputNode: '99' })).toEqual([
        expect.stringMatching(/outputNode: got "99", expected a node id of workflows\/tiny.json/),
      ]);
    });

    test('a workflow without exactly one output node needs outputNode', () => {
      const image = { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: 0 } };
      const none = { '1': image, '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } } };
      expect(
        problemsOf(() =>
          demoStack({ endpoint: { workflow: Workflow.fromJson('none', none), inputs: {} } }).project.synth(),
        ),
      ).toEqual([
        '[test/demo/Demo] outputNode: none.json has no output node, expected exactly one — set outputNode to the node whose outputs the endpoint returns',
      ]);
      const two = {
        '1': image,
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'a' } },
        '3': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      };
      expect(
        problemsOf(() =>
          demoStack({ endpoint: { workflow: Workflow.fromJson('two', two), inputs: {} } }).project.synth(),
        ),
      ).toEqual([
        '[test/demo/Demo] outputNode: two.json has several output nodes ["2","3"], expected exactly one — set outputNode to the node whose outputs the endpoint returns',
      ]);
      const { project } = demoStack({
        endpoint: { workflow: Workflow.fromJson('two', two), inputs: {}, outputNode: '3' },
      });
      expect(project.synth().manifest.apps[0].endpoints[0].outputNode).toBe('3');
    });
  });
});
