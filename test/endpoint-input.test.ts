import { Endpoint, Workflow } from '../constructs';
import { demoStack, problemsOf } from './helpers';

const tiny = () => Workflow.fromFile('workflows/tiny.json');

describe('Endpoint inputs: options for clients with their own spellings', () => {
  test('format, presets, map, clamp, lists and groups reach the model', () => {
    const { project } = demoStack({
      endpoint: {
        inputs: {
          prompt: { type: 'string', node: '4', input: 'text', format: '{trigger_word} {prompt}' },
          trigger_word: { type: 'string', default: '' },
          ratio: {
            type: 'enum',
            values: ['1:1', '2:1'],
            required: false,
            presets: { '2:1': { width: 128, height: 64 } },
          },
          width: { type: 'int', node: '1', input: 'width', default: 64 },
          height: { type: 'int', node: '1', input: 'height', default: 64 },
          steps: { type: 'int', node: '5', input: 'steps', default: 4, min: 1, max: 4, clamp: true },
          gpu: {
            type: 'bool',
            node: '5',
            input: 'sampler_name',
            default: false,
            map: { true: 'euler', false: 'ddim' },
          },
          image: { type: 'image', node: '3', input: 'image', maxItems: 3, required: false },
          file: {
            type: 'string',
            node: '4',
            input: 'text',
            required: false,
            ensureSuffix: '.png',
            winsOver: ['prompt', 'negative'],
          },
          negative: {
            type: 'string',
            node: '4',
            input: 'text',
            default: 'ugly',
            defaultWhenEmpty: true,
            winsOver: ['prompt'],
          },
        },
        requireOneOf: [['image', 'file']],
        ignoredFields: { scale: 'not supported' },
      },
    });
    const endpoint = project.synth().manifest.apps[0].endpoints[0];
    const byName = Object.fromEntries(endpoint.fields.map((f) => [f.name, f]));
    expect(byName.prompt.format).toBe('{trigger_word} {prompt}');
    expect(byName.trigger_word.targets).toEqual([]);
    expect(byName.ratio.presets).toEqual({ '2:1': { width: 128, height: 64 } });
    expect(byName.steps).toMatchObject({ min: 1, max: 4, clamp: true });
    expect(byName.gpu.map).toEqual({ true: 'euler', false: 'ddim' });
    expect(byName.image.maxItems).toBe(3);
    expect(byName.file.ensureSuffix).toBe('.png');
    expect(byName.negative.defaultWhenEmpty).toBe(true);
    // The runtime applies fields in order: a field comes after those it wins over (file after negative).
    expect(endpoint.fields.map((f) => f.name)).toEqual([
      'prompt',
      'trigger_word',
      'ratio',
      'width',
      'height',
      'steps',
      'gpu',
      'image',
      'negative',
      'file',
    ]);
    expect(byName.width.clamp).toBeUndefined();
    expect(endpoint.requireOneOf).toEqual([['image', 'file']]);
    expect(endpoint.ignoredFields).toEqual({ scale: 'not supported' });
  });

  test.each([
    [
      { inputs: { s: { type: 'int', node: '5', input: 'steps', clamp: true, min: 1 } } },
      /'inputs.s.clamp': got true, expected min and max to clamp into/,
    ],
    [
      { inputs: { s: { type: 'int', node: '5', input: 'steps', format: '{s}' } } },
      /'inputs.s.format': got "\{s\}", expected no format: only a string field is formatted/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', format: '{0}' } } },
      /'inputs.s.format': got "\{0\}", expected only \{field_name\} placeholders/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', presets: {} } } },
      /'inputs.s.presets': got \{\}, expected no presets: only an enum has them/,
    ],
    [
      { inputs: { s: { type: 'enum', values: ['a'], presets: { b: {} } } } },
      /'inputs.s.presets': got "b", expected preset keys among the enum values \["a"\]/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', maxItems: 2 } } },
      /'inputs.s.maxItems': got 2, expected no maxItems: only image and video fields take a list/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', maxBytes: 10 } } },
      /'inputs.s.maxBytes': got 10, expected no maxBytes: only image and video fields carry files/,
    ],
    [
      { inputs: { s: { type: 'image', node: '3', input: 'image', modelFolder: 'loras' } } },
      /'inputs.s.modelFolder': got "loras", expected no modelFolder: only a string or enum names a model file/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', modelFolder: '../loras' } } },
      /'inputs.s.modelFolder': got "..\/loras", expected a ComfyUI models folder name such as "loras"/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', defaultWhenEmpty: true } } },
      /'inputs.s.defaultWhenEmpty': got true, expected a string field that is not required \(a default, or required: false\)/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4' } } },
      /'inputs.s.input': got "4", expected node and input together, or neither/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text' } }, requireOneOf: [['s', 't']] },
      /'requireOneOf': got "s", expected optional fields without a default in each group, but 's' has a default or is required/,
    ],
    [
      { inputs: {}, requireOneOf: [['s', 't']] },
      /'requireOneOf': got "s", expected optional fields without a default in each group, but 's' is not a field/,
    ],
    [
      { inputs: { s: { type: 'string', node: '4', input: 'text', aliases: ['cfg'] } }, ignoredFields: { cfg: 'x' } },
      /'ignoredFields': got "cfg", expected names the endpoint does not use, but 'cfg' is a field or alias/,
    ],
  ])('rejects %j', (props, message) => {
    const { app } = demoStack();
    expect(
      problemsOf(() => new Endpoint(app, 'E', { path: '/e', workflow: tiny(), ...props } as never)),
    ).toContainEqual(expect.stringMatching(new RegExp(`^\\[test/demo/E\\] prop ${message.source}`)));
  });

  describe('at synth, fields must fit together and into the workflow', () => {
    const synthProblems = (inputs: object) =>
      problemsOf(() => demoStack({ endpoint: { inputs: inputs as never } }).project.synth());

    test('a format names a field that does not exist', () => {
      expect(synthProblems({ p: { type: 'string', node: '4', input: 'text', format: '{word} {p}' } })).toEqual([
        expect.stringMatching(
          /input 'p': format "\{word\} \{p\}" names \{word\}, which is not a field: expected one of \["p"\]/,
        ),
      ]);
    });

    test('a preset sets a field that does not exist, or a value of the wrong type', () => {
      expect(synthProblems({ r: { type: 'enum', values: ['a'], presets: { a: { depth: 1 } } } })).toContainEqual(
        expect.stringMatching(/input 'r': preset "a" sets 'depth', which is not a field/),
      );
      expect(
        synthProblems({
          r: { type: 'enum', values: ['a'], presets: { a: { w: 'wide' } } },
          w: { type: 'int', node: '1', input: 'width' },
        }),
      ).toEqual([expect.stringMatching(/input 'r': preset "a" sets 'w' to "wide", expected a int/)]);
    });

    test('a field that sets no node input and feeds nothing', () => {
      expect(synthProblems({ lonely: { type: 'string', default: '' } })).toEqual([
        expect.stringMatching(
          /input 'lonely' sets no node input and feeds no other field: set node and input, or use it in a format or as presets/,
        ),
      ]);
    });

    test('a map whose values do not fit the node input', () => {
      expect(
        synthProblems({
          g: { type: 'bool', node: '5', input: 'steps', default: false, map: { true: 'a', false: 'b' } },
        }),
      ).toEqual([
        '[test/demo/Demo] workflow workflows/tiny.json node 5 (KSampler) input steps: field \'g\' can set "a": got "a", expected an INT in [1, 10000] — change the field\'s values or map',
      ]);
    });
  });
});

describe('Endpoint inputs: files and model names', () => {
  const fileStack = (inputs: object) => {
    const { project } = demoStack({ endpoint: { inputs: inputs as never } });
    return project.synth();
  };

  test('an image gets a 20 MiB cap unless it sets maxBytes, and the route caps the body at its base64 plus 1 MiB', () => {
    const capped = fileStack({ image: { type: 'image', node: '3', input: 'image', maxBytes: 3000, maxItems: 2 } });
    expect(capped.manifest.apps[0].endpoints[0].fields[0].maxBytes).toBe(3000);
    // One file of at most 3000 bytes (of a list only the first is used): 4000 base64 characters, plus 1 MiB for the rest.
    expect(capped.files.get('apps/demo/app.py')).toContain(`@api.post("/demo", max_body_size=${1024 * 1024 + 4000})`);
    const plain = fileStack({ image: { type: 'image', node: '3', input: 'image' } });
    expect(plain.manifest.apps[0].endpoints[0].fields[0].maxBytes).toBe(20 * 1024 * 1024);
    expect(plain.files.get('apps/demo/app.py')).toMatch(/"max_bytes": 20971520/);
    const text = fileStack({ prompt: { type: 'string', node: '4', input: 'text' } });
    expect(text.files.get('apps/demo/app.py')).toContain(`@api.post("/demo", max_body_size=${1024 * 1024})`);
  });

  test('modelFolder reaches the runtime spec of the field', () => {
    const { files } = fileStack({ lora: { type: 'string', node: '4', input: 'text', modelFolder: 'loras' } });
    expect(files.get('apps/demo/app.py')).toMatch(/"name": "lora",[^}]*"model_folder": "loras"/s);
  });
});
