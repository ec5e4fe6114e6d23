import {
  ComfyApp,
  CustomNode,
  Endpoint,
  type EndpointInput,
  type EndpointProps,
  HfModel,
  Volume,
  VolumeModel,
  Workflow,
} from '../constructs';
import { ModalCdkError } from '../lib/errors';
import { problemsOf, ROOT, testProject } from './helpers';

/** SD 1.5 text-to-image with an unused LoadImage: every check passes on it as it is. */
const SD = {
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd.safetensors' } },
  '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat', clip: ['1', 1] } },
  '3': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
  '4': {
    class_type: 'KSampler',
    inputs: {
      model: ['1', 0],
      seed: 1,
      steps: 20,
      cfg: 7,
      sampler_name: 'euler',
      scheduler: 'normal',
      positive: ['2', 0],
      negative: ['2', 0],
      latent_image: ['3', 0],
      denoise: 1,
    },
  },
  '5': { class_type: 'VAEDecode', inputs: { samples: ['4', 0], vae: ['1', 2] } },
  '6': { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: 'out' } },
  '7': { class_type: 'LoadImage', inputs: { image: 'in.png' } },
};
type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** SD with node inputs changed (`undefined` removes one) or nodes replaced. */
function sd(
  patch: Record<string, Record<string, unknown> | { class_type: string; inputs: Record<string, unknown> }> = {},
): Graph {
  const graph: Graph = JSON.parse(JSON.stringify(SD));
  for (const [id, change] of Object.entries(patch)) {
    if ('class_type' in change) graph[id] = change as Graph[string];
    else
      for (const [k, v] of Object.entries(change))
        if (v === undefined) delete graph[id].inputs[k];
        else graph[id].inputs[k] = v;
  }
  return graph;
}

/** A project with app `a` (the SD checkpoint declared) and endpoint `/e` on `graph`; `more` adds constructs. */
function stack(graph: Graph, endpoint: Partial<EndpointProps> = {}, more: (app: ComfyApp) => void = () => {}) {
  const project = testProject();
  const app = new ComfyApp(project, 'a', { gpu: 'L40S' });
  new HfModel(app, 'Sd', { repo: 'acme/sd', file: 'sd.safetensors', target: 'checkpoints', sizeGb: 2 });
  more(app);
  new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromJson('g', graph), output: 'png', ...endpoint });
  return project;
}
const problems = (graph: Graph, endpoint: Partial<EndpointProps> = {}, more?: (app: ComfyApp) => void) =>
  problemsOf(() => stack(graph, endpoint, more).synth());
/** Synth passes (returns the endpoint's output node). */
const passes = (graph: Graph, endpoint: Partial<EndpointProps> = {}, more?: (app: ComfyApp) => void) =>
  stack(graph, endpoint, more).synth().manifest.apps[0].endpoints[0].outputNode;
const inputs = (fields: Record<string, EndpointInput>) => ({ inputs: fields });

describe('synth checks workflows against ComfyUI node schemas', () => {
  test('the base graph passes, with no note for a ComfyUI version that has its own snapshot', () => {
    expect(
      stack(SD)
        .synth()
        .warnings.filter((w) => w.note && w.id !== 'client-policy-rule-4'),
    ).toEqual([]);
  });

  test('an unknown class_type, with the closest known names', () => {
    expect(problems(sd({ '2': { class_type: 'CLIPTextEncod', inputs: { text: 'a', clip: ['1', 1] } } }))).toEqual([
      '[test/a/E] workflow g.json node 2 (CLIPTextEncod): got class_type "CLIPTextEncod", expected a node class of ComfyUI 0.28.2 or of the app\'s custom nodes (closest: CLIPTextEncode, CLIPTextEncodeSD3, CLIPTextEncodeFlux) — fix the spelling, or add the CustomNode that provides it with its node schemas',
    ]);
  });

  test('a required input missing', () => {
    expect(problems(sd({ '4': { scheduler: undefined } }))).toEqual([
      '[test/a/E] workflow g.json node 4 (KSampler) input scheduler: got nothing, expected one of ["simple","sgm_uniform","karras","exponential","ddim_uniform","beta","normal","linear_quadratic","kl_optimal"] (a required input) — set a value',
    ]);
  });

  test('a link to a missing node, to a slot the class lacks, and of a type that does not fit', () => {
    expect(problems(sd({ '5': { samples: ['40', 0] } }))).toEqual([
      '[test/a/E] workflow g.json node 5 (VAEDecode) input samples: got a link to node "40", expected a node id of the workflow (["1","2","3","4","5","6","7"]) — fix the link',
    ]);
    expect(problems(sd({ '5': { vae: ['1', 3] } }))).toEqual([
      '[test/a/E] workflow g.json node 5 (VAEDecode) input vae: got a link to output 3 of node "1" (CheckpointLoaderSimple), expected one of its outputs (0: MODEL, 1: CLIP, 2: VAE) — fix the slot',
    ]);
    expect(problems(sd({ '5': { vae: ['1', 1] } }))).toEqual([
      '[test/a/E] workflow g.json node 5 (VAEDecode) input vae: got CLIP from node "1" (CheckpointLoaderSimple) output 1, expected VAE — link an output of that type',
    ]);
  });

  test("literals outside the input's bounds or options (V1 list and V3 COMBO), and a literal where a link belongs", () => {
    expect(problems(sd({ '3': { width: 0 }, '4': { sampler_name: 'euler_fast', steps: 20.5 } }))).toEqual([
      "[test/a/E] workflow g.json node 3 (EmptyLatentImage) input width: got 0, expected at least 16 (ComfyUI's min) — fix the value",
      '[test/a/E] workflow g.json node 4 (KSampler) input steps: got 20.5, expected an INT in [1, 10000] — fix the value',
      expect.stringMatching(
        /^\[test\/a\/E\] workflow g.json node 4 \(KSampler\) input sampler_name: got "euler_fast", expected one of \["euler","euler_cfg_pp",.* — fix the value$/,
      ),
    ]);
    const v3 = sd({ '8': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'eulerr' } } });
    expect(problems(v3)).toEqual([
      expect.stringMatching(
        /^\[test\/a\/E\] workflow g.json node 8 \(KSamplerSelect\) input sampler_name: got "eulerr", expected one of \["euler",/,
      ),
    ]);
    expect(problems(sd({ '5': { vae: 'ae.safetensors' } }))).toEqual([
      '[test/a/E] workflow g.json node 5 (VAEDecode) input vae: got the literal "ae.safetensors", expected a link to VAE — link an output of that type',
    ]);
  });

  test('a model file name that no HfModel or VolumeModel of the app provides', () => {
    expect(problems(sd({ '1': { ckpt_name: 'sdxl.safetensors' } }))).toEqual([
      '[test/a/E] workflow g.json node 1 (CheckpointLoaderSimple) input ckpt_name: got "sdxl.safetensors", expected a file of models/checkpoints that an HfModel or VolumeModel of the app provides (["sd.safetensors"]) — add the model (target "checkpoints") or fix the name',
    ]);
    // A subdirectory of a folder (controlnet/instantid), a legacy directory (unet), and a volume folder count.
    const graph = sd({
      '8': { class_type: 'ControlNetLoader', inputs: { control_net_name: 'instantid/cn.safetensors' } },
      '9': { class_type: 'UNETLoader', inputs: { unet_name: 'flux.safetensors', weight_dtype: 'default' } },
      '10': {
        class_type: 'LoraLoaderModelOnly',
        inputs: { model: ['9', 0], lora_name: 'ryla/character-1.safetensors', strength_model: 1 },
      },
    });
    expect(
      passes(graph, {}, (app) => {
        new HfModel(app, 'Cn', { repo: 'acme/cn', file: 'cn.safetensors', target: 'controlnet/instantid', sizeGb: 1 });
        new HfModel(app, 'Unet', { repo: 'acme/flux', file: 'flux.safetensors', target: 'unet', sizeGb: 1 });
        new VolumeModel(app, 'Loras', {
          volume: new Volume(app, 'V', { name: 'loras', mountPath: '/loras' }),
          path: 'loras',
          target: 'loras',
          filename: 'ryla',
        });
      }),
    ).toBeDefined();
  });

  test('a model target folder ComfyUI does not know, with the closest names', () => {
    expect(
      problems(SD, {}, (app) => {
        new HfModel(app, 'Typo', { repo: 'acme/x', file: 'x.safetensors', target: 'checkpoint', sizeGb: 1 });
        new HfModel(app, 'Up', { repo: 'acme/u', file: 'u.pth', target: 'upscale_model', sizeGb: 1 });
      }),
    ).toEqual([
      '[test/a/Typo] target: got "checkpoint", expected a models folder that ComfyUI 0.28.2 or the app\'s custom nodes know (closest: checkpoints, controlnet, detection) — fix the spelling, or declare the folder in the custom node\'s nodeSchemas (modelFolders)',
      expect.stringMatching(
        /^\[test\/a\/Up\] target: got "upscale_model", expected a models folder .*\(closest: upscale_models,/,
      ),
    ]);
  });

  test('a request field must fit the input it sets: files only into upload inputs, strings into STRING', () => {
    expect(problems(SD, inputs({ photo: { type: 'image', node: '2', input: 'text' } }))).toEqual([
      "[test/a/E] workflow g.json node 2 (CLIPTextEncode) input text: field 'photo' is an image, but the input takes a STRING, expected an input that takes an uploaded image (LoadImage.image, LoadVideo.file, …) — bind the field to such an input",
    ]);
    expect(problems(SD, inputs({ photo: { type: 'string', node: '7', input: 'image' } }))).toEqual([
      "[test/a/E] workflow g.json node 7 (LoadImage) input image: field 'photo' is a string, but the input takes an uploaded image file, expected a field of type 'image' (the request's file is saved into ComfyUI's input folder) — set type: 'image'",
    ]);
    expect(problems(SD, inputs({ sampler: { type: 'string', node: '4', input: 'sampler_name' } }))).toEqual([
      expect.stringMatching(
        /^\[test\/a\/E\] workflow g.json node 4 \(KSampler\) input sampler_name: field 'sampler' is a string, expected a field that fits one of \["euler",.* — make it an enum of the combo's options$/,
      ),
    ]);
    expect(problems(SD, inputs({ steps: { type: 'float', node: '4', input: 'steps', default: 20 } }))).toEqual([
      "[test/a/E] workflow g.json node 4 (KSampler) input steps: field 'steps' is a float, expected a field that fits an INT in [1, 10000] — change the field type or bind another input",
    ]);
    // The graph's literal is checked unless every request replaces it (required, default, seed, or a one-of group).
    const wrong = sd({ '3': { width: 7 } });
    expect(problems(wrong, inputs({ w: { type: 'int', node: '3', input: 'width', required: false } }))).toEqual([
      "[test/a/E] workflow g.json node 3 (EmptyLatentImage) input width: got 7, expected at least 16 (ComfyUI's min) — fix the value",
    ]);
    expect(passes(wrong, inputs({ w: { type: 'int', node: '3', input: 'width', default: 512 } }))).toBe('6');
    expect(
      passes(wrong, {
        inputs: {
          w: { type: 'int', node: '3', input: 'width', required: false },
          v: { type: 'int', node: '3', input: 'width', required: false, winsOver: ['w'] },
        },
        requireOneOf: [['w', 'v']],
      }),
    ).toBe('6');
    // An int into a FLOAT, an image into LoadImage, a string LoRA name with its folder: all fit.
    expect(
      passes(
        SD,
        inputs({
          cfg: { type: 'int', node: '4', input: 'cfg', default: 7 },
          photo: { type: 'image', node: '7', input: 'image' },
        }),
      ),
    ).toBeDefined();
  });

  test("enum values, defaults and bounds of a field inside the input's options and bounds", () => {
    expect(
      problems(
        SD,
        inputs({
          sampler: { type: 'enum', node: '4', input: 'sampler_name', values: ['euler', 'turbo'], default: 'euler' },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^\[test\/a\/E\] workflow g.json node 4 \(KSampler\) input sampler_name: field 'sampler' can set "turbo": got "turbo", expected one of \["euler",.* — change the field's values or map$/,
      ),
    ]);
    expect(
      problems(SD, inputs({ width: { type: 'int', node: '3', input: 'width', default: 512, min: 8, max: 4096 } })),
    ).toEqual([
      "[test/a/E] workflow g.json node 3 (EmptyLatentImage) input width: field 'width' has min 8, expected at least 16 (ComfyUI's min) — raise the field's min",
    ]);
    expect(problems(SD, inputs({ denoise: { type: 'float', node: '4', input: 'denoise', default: 1.5 } }))).toEqual([
      "[test/a/E] workflow g.json node 4 (KSampler) input denoise: field 'denoise' has default 1.5, expected at most 1 (ComfyUI's max) — lower the default",
    ]);
    expect(
      problems(
        SD,
        inputs({
          ckpt: {
            type: 'enum',
            node: '1',
            input: 'ckpt_name',
            values: ['sd.safetensors', 'sdxl.safetensors'],
            default: 'sd.safetensors',
          },
        }),
      ),
    ).toEqual([
      '[test/a/E] workflow g.json node 1 (CheckpointLoaderSimple) input ckpt_name: field \'ckpt\' can set "sdxl.safetensors": got "sdxl.safetensors", expected a file of models/checkpoints that an HfModel or VolumeModel of the app provides (["sd.safetensors"]) — add the model (target "checkpoints") or fix the name — change the field\'s values or map',
    ]);
  });

  test('two fields on one input only with a declared winner', () => {
    const pair = (winsOver?: string[]) =>
      inputs({
        lora_id: { type: 'string', node: '2', input: 'text', required: false },
        lora_name: { type: 'string', node: '2', input: 'text', required: false, ...(winsOver && { winsOver }) },
      });
    expect(problems(SD, pair())).toEqual([
      "[test/a/E] workflow g.json node 2 (CLIPTextEncode) input text: got two fields, 'lora_id' and 'lora_name', setting it, expected one, or one that declares it wins — set winsOver: ['lora_id'] on 'lora_name' (or the reverse), or bind one elsewhere",
    ]);
    expect(passes(SD, pair(['lora_id']))).toBeDefined();
    expect(problemsOf(() => stack(SD, pair(['nope'])))).toEqual([
      expect.stringMatching(
        /prop 'inputs.lora_name.winsOver': got "nope", expected names of the endpoint's other fields/,
      ),
    ]);
  });

  test("the output node must be one, and write the endpoint's format", () => {
    expect(problems(SD, { outputNode: '5' })).toEqual([
      '[test/a/E] outputNode: workflow g.json node 5 (VAEDecode): got a node that is not an output node (output_node is false), expected one that saves files — point outputNode at ["6"]',
    ]);
    const webp = sd({
      '6': {
        class_type: 'SaveAnimatedWEBP',
        inputs: { images: ['5', 0], filename_prefix: 'v', fps: 16, lossless: false, quality: 90, method: 'default' },
      },
    });
    expect(problems(webp, { output: 'mp4' })).toEqual([
      "[test/a/E] outputNode: workflow g.json node 6 (SaveAnimatedWEBP): got output 'mp4', expected one of [\"webp\"] (what SaveAnimatedWEBP writes) — set output to 'webp', or save with another node",
    ]);
    expect(passes(webp, { output: 'webp' })).toBeDefined();
    expect(passes(webp, { output: 'json' })).toBeDefined();
    // VideoHelperSuite's container follows its format widget.
    const vhs = (format: string) =>
      sd({
        '6': {
          class_type: 'VHS_VideoCombine',
          inputs: {
            images: ['5', 0],
            frame_rate: 8,
            loop_count: 0,
            filename_prefix: 'v',
            format,
            pingpong: false,
            save_output: true,
          },
        },
      });
    const withVhs = (app: ComfyApp) =>
      new CustomNode(app, 'Vhs', {
        repo: 'https://example.com/vhs',
        commit: 'd'.repeat(40),
        nodeSchemas: 'bin/ryla/nodes/videohelpersuite.json',
      });
    const rooted = (graph: Graph, endpoint: Partial<EndpointProps>) =>
      problemsOf(() => {
        const project = testProject({ root: ROOT });
        const app = new ComfyApp(project, 'a', { gpu: 'L40S' });
        new HfModel(app, 'Sd', { repo: 'acme/sd', file: 'sd.safetensors', target: 'checkpoints', sizeGb: 2 });
        withVhs(app);
        new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromJson('g', graph), ...endpoint });
        project.synth();
        throw new ModalCdkError([]);
      });
    expect(rooted(vhs('video/h264-mp4'), { output: 'mp4' })).toEqual([]);
    expect(rooted(vhs('image/gif'), { output: 'mp4' })).toEqual([
      "[test/a/E] outputNode: workflow g.json node 6 (VHS_VideoCombine): got output 'mp4', expected 'json' (what VHS_VideoCombine with format \"image/gif\" writes) — set output to 'json' or choose a format such as 'video/h264-mp4', or save with another node",
    ]);
  });

  test('a custom node brings its classes (inline or from a file); an app can correct a core class for its version', () => {
    const graph = sd({
      '8': { class_type: 'Blur', inputs: { image: ['5', 0], radius: 3 } },
      '6': { images: ['8', 0] },
    });
    const blur = {
      input: { required: { image: ['IMAGE'], radius: ['INT', { min: 1, max: 2 }] } },
      output: ['IMAGE'],
      output_node: false,
    };
    const withBlur = (app: ComfyApp) =>
      new CustomNode(app, 'Blur', {
        repo: 'https://example.com/blur',
        commit: 'b'.repeat(40),
        nodeSchemas: { nodes: { Blur: blur } },
      });
    expect(problems(graph)[0]).toMatch(/node 8 \(Blur\): got class_type "Blur", expected a node class/);
    expect(problems(graph, {}, withBlur)).toEqual([
      "[test/a/E] workflow g.json node 8 (Blur) input radius: got 3, expected at most 2 (ComfyUI's max) — fix the value",
    ]);
    // A pack may declare link types an input also takes (VHS's imageOrLatent): LATENT into Blur.image.
    const latent = sd({ '8': { class_type: 'Blur', inputs: { image: ['4', 0], radius: 1 } } });
    expect(problems(latent, {}, withBlur)).toEqual([
      '[test/a/E] workflow g.json node 8 (Blur) input image: got LATENT from node "4" (KSampler) output 0, expected IMAGE — link an output of that type',
    ]);
    const aliased = { nodes: { Blur: blur }, acceptedTypes: { Blur: { image: ['LATENT'] } } };
    expect(
      passes(
        latent,
        {},
        (app) =>
          new CustomNode(app, 'Blur', {
            repo: 'https://example.com/blur',
            commit: 'b'.repeat(40),
            nodeSchemas: aliased,
          }),
      ),
    ).toBe('6');
    // The app's own nodeSchemas correct a core class for its ComfyUI version.
    const small = sd({ '3': { width: 8 } });
    expect(problems(small)).toEqual([
      "[test/a/E] workflow g.json node 3 (EmptyLatentImage) input width: got 8, expected at least 16 (ComfyUI's min) — fix the value",
    ]);
    const overlay = {
      nodes: {
        EmptyLatentImage: {
          input: { required: { width: ['INT', { min: 8 }], height: ['INT', { min: 8 }], batch_size: ['INT', {}] } },
          output: ['LATENT'],
        },
      },
    };
    const project = testProject();
    const app = new ComfyApp(project, 'a', { gpu: 'L40S', nodeSchemas: overlay });
    new HfModel(app, 'Sd', { repo: 'acme/sd', file: 'sd.safetensors', target: 'checkpoints', sizeGb: 2 });
    new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromJson('g', small) });
    expect(project.synth().manifest.apps).toHaveLength(1);
    expect(
      problems(
        SD,
        {},
        (app) =>
          new CustomNode(app, 'Bad', {
            repo: 'https://example.com/b',
            commit: 'c'.repeat(40),
            nodeSchemas: 'nodes/nope.json',
          }),
      ),
    ).toEqual([
      '[test/a/Bad] nodeSchemas: cannot read "nodes/nope.json" (ENOENT), expected a JSON file of node schemas relative to the project root',
    ]);
    expect(
      problems(
        SD,
        {},
        (app) =>
          new CustomNode(app, 'Bad', {
            repo: 'https://example.com/b',
            commit: 'c'.repeat(40),
            // Neither a schema file nor a raw /object_info dump (an entry without its outputs).
            nodeSchemas: { Blur: { input: {} } } as never,
          }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^\[test\/a\/Bad\] nodeSchemas at nodes: .*expected \{ "nodes": \{ "<class>": <its \/object_info entry> \}, \.\.\. \}$/,
      ),
    ]);
  });

  test('each snapshot release is checked exactly: the same workflow is refused where its release lacks a class', () => {
    // SaveImageAdvanced is new in 0.28.2 (not in 0.10.0): an app is checked against exactly its own release.
    for (const [version, known] of [
      ['0.28.2', true],
      ['0.10.0', false],
    ] as const) {
      const project = testProject();
      const app = new ComfyApp(project, 'a', { gpu: 'L40S', comfyVersion: version });
      expect(app.schemaSource).toEqual({ comfyVersion: version, source: 'snapshot' });
      const found = app.schemas.get('SaveImageAdvanced') !== undefined;
      expect([version, found]).toEqual([version, known]);
    }
  });

  test('an app whose ComfyUI version has no snapshot of its own gets one note naming both versions', () => {
    const project = testProject();
    const app = new ComfyApp(project, 'old', { gpu: 'L40S', comfyVersion: '0.3.60' });
    new HfModel(app, 'Sd', { repo: 'acme/sd', file: 'sd.safetensors', target: 'checkpoints', sizeGb: 2 });
    new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromJson('g', SD) });
    expect(project.synth().warnings.filter((w) => w.note && w.id !== 'client-policy-rule-4')).toEqual([
      {
        path: 'test/old',
        note: true,
        id: 'node-schemas-version',
        message:
          'app old: workflows are checked against the node schemas of ComfyUI 0.3.67, the snapshot closest to its comfyVersion 0.3.60 (snapshots: 0.3.67, 0.3.71, 0.3.75, 0.10.0, 0.28.2): a class or option that differs between the two is not caught at synth — give the app a whole dump of its release as nodeSchemas (modal-cdk schemas dump --url <its ComfyUI> --core)',
      },
    ]);
  });

  test('every problem of the tree at once', () => {
    const all = problems(sd({ '2': { class_type: 'CLIPTextEncod', inputs: {} }, '3': { width: 0 } }), {
      outputNode: '5',
    });
    expect(all).toHaveLength(3);
  });
});
