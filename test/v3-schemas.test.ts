import { readFileSync } from 'node:fs';
import { ComfyApp, Endpoint, HfModel, Workflow } from '../constructs';
import * as path from 'node:path';
import { type ApiGraph, checkGraph, type GraphNote } from '../lib/comfy/graph-check';
import { applyReplacements } from '../lib/comfy/node-replacements';
import { SchemaSet } from '../lib/comfy/schema-set';
import { convertUiWorkflow } from '../lib/comfy/ui-convert';
import { outputType } from '../lib/comfy/v3-inputs';
import { problemsOf, testProject } from './helpers';

/**
 * ComfyUI 0.28.2's schema language, checked on its real schemas (the committed snapshot). The graphs of
 * test/fixtures/v3-graphs.json also go through a real 0.28.2's /prompt (test/comfyui/test_v3_prompt.py):
 * where /prompt checks, it and synth agree; MatchType links and DynamicCombo keys it leaves to the editor,
 * which synth checks instead (each such case says why).
 */
const V28 = SchemaSet.for('0.28.2');
const image = (color = 0) => ({ class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } });
const mask = { class_type: 'SolidMask', inputs: { value: 1, width: 8, height: 8 } };
const latent = { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } };
const save = (from: string) => ({ class_type: 'SaveImage', inputs: { images: [from, 0], filename_prefix: 'x' } });

function check(graph: ApiGraph, schemas = V28) {
  const notes: GraphNote[] = [];
  const problems = checkGraph(graph, schemas, { file: 'w.json', notes });
  return { problems, notes: notes.map((n) => `${n.id}: ${n.message}`) };
}

test('the graphs run through the real 0.28.2: synth refuses what /prompt refuses, and the cases the editor guards', () => {
  const cases = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'v3-graphs.json'), 'utf8')) as Record<
    string,
    { graph: ApiGraph; ours: 'ok' | 'refused'; prompt: 'ok' | 'refused'; why?: string }
  >;
  for (const [name, c] of Object.entries(cases)) {
    expect([name, check(c.graph).problems.length > 0 ? 'refused' : 'ok']).toEqual([name, c.ours]);
    if (c.prompt !== c.ours) expect([name, c.why]).toEqual([name, expect.any(String)]);
  }
});

describe('MatchType (COMFY_MATCHTYPE_V3): an input takes what its template allows, the output follows it', () => {
  const switchOf = (onTrue: unknown, onFalse: unknown) => ({
    class_type: 'ComfySwitchNode',
    inputs: { switch: true, on_true: onTrue, on_false: onFalse },
  });

  test('an If/Else of images feeds an IMAGE input', () => {
    const graph = { '1': image(), '2': image(9), '3': switchOf(['1', 0], ['2', 0]), '4': save('3') };
    expect(check(graph).problems).toEqual([]);
    expect(outputType(graph, V28, '3', 0)).toBe('IMAGE');
  });

  test('its output has the type of what is linked: masks into SaveImage are refused', () => {
    const graph = { '1': mask, '3': switchOf(['1', 0], ['1', 0]), '4': save('3') };
    expect(check(graph).problems).toEqual([
      'workflow w.json node 4 (SaveImage) input images: got MASK from node "3" (ComfySwitchNode) output 0, expected IMAGE — link an output of that type',
    ]);
  });

  test('the inputs of one template must bring one type', () => {
    const graph = { '1': image(), '2': mask, '3': switchOf(['1', 0], ['2', 0]) };
    expect(check(graph).problems).toEqual([
      'workflow w.json node 3 (ComfySwitchNode) input on_true: got IMAGE, expected MASK like on_false (both follow the type template "switch" of ComfySwitchNode) — link outputs of one type',
    ]);
  });

  test("a template's allowed types: ResizeImageMaskNode takes IMAGE or MASK, not LATENT", () => {
    const resize = {
      class_type: 'ResizeImageMaskNode',
      inputs: {
        input: ['1', 0],
        resize_type: 'scale by multiplier',
        'resize_type.multiplier': 2,
        scale_method: 'area',
      },
    };
    expect(check({ '1': latent, '2': resize }).problems).toEqual([
      'workflow w.json node 2 (ResizeImageMaskNode) input input: got LATENT from node "1" (EmptyLatentImage) output 0, expected IMAGE or MASK — link an output of that type',
    ]);
    expect(check({ '1': mask, '2': resize }).problems).toEqual([]);
  });

  test('lazy inputs (the If/Else branches) are still required inputs, as /prompt has them', () => {
    const graph = { '1': image(), '3': { class_type: 'ComfySwitchNode', inputs: { switch: true, on_true: ['1', 0] } } };
    expect(check(graph).problems).toEqual([
      'workflow w.json node 3 (ComfySwitchNode) input on_false: got nothing, expected a link to * (a required input) — link it',
    ]);
  });
});

describe('Autogrow and DynamicCombo: dotted sub-inputs as the 0.28.2 editor exports them', () => {
  test('BatchImagesNode takes images.image0 … ; the first is required', () => {
    const batch = (inputs: Record<string, unknown>) => ({ class_type: 'BatchImagesNode', inputs });
    expect(
      check({ '1': image(), '2': batch({ 'images.image0': ['1', 0], 'images.image1': ['1', 0] }) }).problems,
    ).toEqual([]);
    expect(check({ '1': image(), '2': batch({ 'images.image1': ['1', 0] }) }).problems).toEqual([
      'workflow w.json node 2 (BatchImagesNode) input images.image0: got nothing, expected a link to IMAGE (a required input) — link it',
    ]);
    expect(check({ '1': latent, '2': batch({ 'images.image0': ['1', 0] }) }).problems).toEqual([
      'workflow w.json node 2 (BatchImagesNode) input images.image0: got LATENT from node "1" (EmptyLatentImage) output 0, expected IMAGE — link an output of that type',
    ]);
  });

  test("ResizeImageMaskNode's resize_type is a combo of keys whose choice adds its own inputs", () => {
    const resize = (inputs: Record<string, unknown>) => ({
      '1': image(),
      '2': { class_type: 'ResizeImageMaskNode', inputs: { input: ['1', 0], scale_method: 'area', ...inputs } },
    });
    expect(check(resize({ resize_type: 'scale by multiplier', 'resize_type.multiplier': 2 })).problems).toEqual([]);
    expect(
      check(
        resize({
          resize_type: 'scale dimensions',
          'resize_type.width': 64,
          'resize_type.height': 64,
          'resize_type.crop': 'center',
        }),
      ).problems,
    ).toEqual([]);
    expect(check(resize({ resize_type: 'scale by multiplier' })).problems).toEqual([
      'workflow w.json node 2 (ResizeImageMaskNode) input resize_type.multiplier: got nothing, expected a FLOAT in [0.01, 8] (a required input) — set a value',
    ]);
    expect(check(resize({ resize_type: 'scale by multiplier', 'resize_type.multiplier': 100 })).problems).toEqual([
      "workflow w.json node 2 (ResizeImageMaskNode) input resize_type.multiplier: got 100, expected at most 8 (ComfyUI's max) — fix the value",
    ]);
    expect(check(resize({ resize_type: 'scale by banana' })).problems[0]).toMatch(
      /^workflow w\.json node 2 \(ResizeImageMaskNode\) input resize_type: got "scale by banana", expected one of \["scale dimensions","scale by multiplier",/,
    );
  });
});

describe('/node_replacements and deprecated classes', () => {
  test('a class the release no longer has is checked as the class /prompt runs instead, with a note', () => {
    const graph = {
      '1': { class_type: 'T2IAdapterLoader', inputs: { t2i_adapter_name: 'a.safetensors' } },
      '2': { class_type: 'ConditioningAverage ', inputs: { conditioning_to: ['9', 0] } },
    };
    const replaced = applyReplacements(graph, V28);
    expect(replaced.replaced.map((r) => `${r.from} -> ${r.to}`)).toEqual([
      'T2IAdapterLoader -> ControlNetLoader',
      'ConditioningAverage  -> ConditioningAverage',
    ]);
    expect(replaced.graph['1']).toEqual({
      class_type: 'ControlNetLoader',
      inputs: { control_net_name: 'a.safetensors' },
    });
    expect(graph['1'].class_type).toBe('T2IAdapterLoader'); // the given graph is left as it was
    const { problems, notes } = check(graph);
    expect(notes[0]).toBe(
      'node-replaced: workflow w.json node 1 (T2IAdapterLoader): ComfyUI 0.28.2 has no T2IAdapterLoader; its /prompt runs the node as ControlNetLoader (/node_replacements), so it is checked as ControlNetLoader — save the workflow again in that release to keep the two the same',
    );
    // A replacement without an input mapping keeps no input (ComfyUI 0.28.2's own /prompt refuses it the same way).
    expect(problems).toContain(
      'workflow w.json node 2 (ConditioningAverage) input conditioning_to: got nothing, expected a link to CONDITIONING (a required input) — link it',
    );
  });

  test('a deprecated class is a note naming its successor where the release names one', () => {
    const graph = { '1': image(), '2': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['1', 0] } } };
    expect(check(graph)).toEqual({
      problems: [],
      notes: [
        'node-deprecated: workflow w.json node 2 (ImageBatch): ImageBatch is deprecated in ComfyUI 0.28.2 (it still runs; the editor no longer offers it) — its successor is BatchImagesNode',
      ],
    });
  });
});

describe('releases: messages that name the release a node or input belongs to', () => {
  test('a required input a newer release added names that release', () => {
    const graph = {
      '1': image(),
      '2': {
        class_type: 'ImageScaleToTotalPixels',
        inputs: { image: ['1', 0], upscale_method: 'area', megapixels: 1 },
      },
    };
    expect(check(graph).problems).toEqual([
      "workflow w.json node 2 (ImageScaleToTotalPixels) input resolution_steps: got nothing, expected an INT in [1, 256]: ImageScaleToTotalPixels.resolution_steps is required from ComfyUI 0.10.0 on (the app runs 0.28.2) — add it, or pin the app's comfyVersion to the release the workflow was saved with",
    ]);
    expect(check(graph, SchemaSet.for('0.3.75')).problems).toEqual([]); // the release it was written for
  });

  test('a class of a newer release names the first snapshot that has it, never custom-node advice', () => {
    const graph = { '1': { class_type: 'ImageCropV2', inputs: {} } };
    expect(check(graph, SchemaSet.for('0.10.0')).problems).toEqual([
      "workflow w.json node 1 (ImageCropV2): got class_type \"ImageCropV2\", a core node of ComfyUI 0.28.2 and later (the app runs 0.10.0) — set the app's comfyVersion to '0.28.2' or later (modal-cdk has node schemas of 0.3.67, 0.3.71, 0.3.75, 0.10.0, 0.28.2), or use another node",
    ]);
  });

  test('a class an older release had says so', () => {
    const problems = check({ '1': { class_type: 'IdeogramV1', inputs: {} } }).problems;
    expect(problems[0]).toMatch(
      /^workflow w\.json node 1 \(IdeogramV1\): got class_type "IdeogramV1", a core node of ComfyUI 0\.10\.0 that 0\.28\.2 no longer has \(closest: .*\) — replace it with its successor, or pin the app's comfyVersion to '0\.10\.0'$/,
    );
  });
});

describe('the UI converter reads V3 nodes as the 0.28.2-era editor saves them', () => {
  // Node shapes as comfyui-workflow-templates-json 0.1.123 has them (3d_moge_panorama_to_mesh: the switch and
  // the resize; api_bytedance_seedream_5_0_layer_separation: the batch, with an unlinked third slot).
  const ui = {
    nodes: [
      { id: 1, type: 'EmptyImage', mode: 0, widgets_values: [8, 8, 1, 0], inputs: [], outputs: [] },
      { id: 2, type: 'EmptyImage', mode: 0, widgets_values: [8, 8, 1, 255], inputs: [], outputs: [] },
      {
        id: 3,
        type: 'BatchImagesNode',
        mode: 0,
        widgets_values: null,
        inputs: [
          { label: 'image0', name: 'images.image0', type: 'IMAGE', link: 1 },
          { name: 'images.image1', shape: 7, type: 'IMAGE', link: 2 },
          { name: 'images.image2', shape: 7, type: 'IMAGE', link: null },
        ],
        outputs: [],
      },
      {
        id: 4,
        type: 'ComfySwitchNode',
        mode: 0,
        widgets_values: [false],
        inputs: [
          { name: 'on_false', shape: 7, type: 'IMAGE', link: 3 },
          { name: 'on_true', shape: 7, type: 'IMAGE', link: 4 },
          { name: 'switch', type: 'BOOLEAN', widget: { name: 'switch' }, link: null },
        ],
        outputs: [],
      },
      {
        id: 5,
        type: 'ResizeImageMaskNode',
        mode: 0,
        widgets_values: ['scale longer dimension', 2048, 'lanczos'],
        inputs: [{ name: 'input', type: 'IMAGE,MASK', link: 5 }],
        outputs: [],
      },
      {
        id: 6,
        type: 'SaveImage',
        mode: 0,
        widgets_values: ['out'],
        inputs: [{ name: 'images', type: 'IMAGE', link: 6 }],
        outputs: [],
      },
    ],
    links: [
      [1, 1, 0, 3, 0, 'IMAGE'],
      [2, 2, 0, 3, 1, 'IMAGE'],
      [3, 3, 0, 4, 0, 'IMAGE'],
      [4, 1, 0, 4, 1, 'IMAGE'],
      [5, 4, 0, 5, 0, 'IMAGE'],
      [6, 5, 0, 6, 0, 'IMAGE'],
    ],
  };

  test("Autogrow links, the DynamicCombo's chosen widgets after its key, MatchType links", () => {
    const converted = convertUiWorkflow(ui, V28);
    if ('problems' in converted) throw new Error(converted.problems.join('\n'));
    const inputs = Object.fromEntries(Object.entries(converted.graph).map(([id, n]) => [id, n.inputs]));
    expect(inputs['3']).toEqual({ 'images.image0': ['1', 0], 'images.image1': ['2', 0] });
    expect(inputs['4']).toEqual({ switch: false, on_false: ['3', 0], on_true: ['1', 0] });
    expect(inputs['5']).toEqual({
      input: ['4', 0],
      resize_type: 'scale longer dimension',
      'resize_type.longer_size': 2048,
      scale_method: 'lanczos',
    });
    expect(check(converted.graph).problems).toEqual([]);
  });

  test('a chosen option with a widget too few is the saved-by-another-version refusal, naming the widgets', () => {
    const short = structuredClone(ui);
    short.nodes[4].widgets_values = ['scale dimensions', 512, 'lanczos'];
    const converted = convertUiWorkflow(short, V28);
    expect('problems' in converted && converted.problems).toEqual([
      expect.stringContaining(
        'node 5 (ResizeImageMaskNode): got 3 widgets_values ["scale dimensions",512,"lanczos"], expected 5 for the widgets ["resize_type","resize_type.width","resize_type.height","resize_type.crop","scale_method"] of ComfyUI 0.28.2',
      ),
    ]);
  });
});

describe('request fields on V3 inputs', () => {
  test("a field may set a DynamicCombo's chosen sub-input, checked against that input's bounds", () => {
    const graph = {
      '1': image(),
      '2': {
        class_type: 'ResizeImageMaskNode',
        inputs: {
          input: ['1', 0],
          resize_type: 'scale by multiplier',
          'resize_type.multiplier': 2,
          scale_method: 'area',
        },
      },
      '3': save('2'),
    };
    const build = (max: number) => {
      const project = testProject();
      const app = new ComfyApp(project, 'a', { gpu: 'L40S' });
      new HfModel(app, 'Unused', { repo: 'acme/x', file: 'x.safetensors', target: 'checkpoints', sizeGb: 1 });
      new Endpoint(app, 'E', {
        path: '/e',
        workflow: Workflow.fromJson('g', graph),
        inputs: { scale: { type: 'float', node: '2', input: 'resize_type.multiplier', default: 2, min: 0.5, max } },
      });
      return project;
    };
    expect(() => build(4).synth()).not.toThrow();
    expect(problemsOf(() => build(100).synth())).toEqual([
      expect.stringContaining(
        "node 2 (ResizeImageMaskNode) input resize_type.multiplier: field 'scale' has max 100, expected at most 8 (ComfyUI's max)",
      ),
    ]);
  });
});
