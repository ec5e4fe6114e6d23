import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkGraph } from '../lib/comfy/graph-check';
import { SchemaSet } from '../lib/comfy/schema-set';
import { convertUiWorkflow } from '../lib/comfy/ui-convert';
import { runCliIn } from './helpers';
import { project, read, uiWorkflow } from './import-fixtures';

/**
 * Cases of today's official templates (comfyui-workflow-templates-json 0.1.123) where the converter now
 * reads a workflow as ComfyUI frontend 1.45.21's Export (API) does (test/comfyui/test_ui_convert_0_28.py
 * compares the whole templates with that export), and the messages of those that still cannot import.
 */
const V28 = SchemaSet.for('0.28.2');
const core = (ver = '0.28.2') => ({ cnr_id: 'comfy-core', ver });
type Converted = Exclude<ReturnType<typeof convertUiWorkflow>, { problems: string[] }>;
function converted(workflow: unknown): Converted {
  const result = convertUiWorkflow(workflow, V28);
  if ('problems' in result) throw new Error(result.problems.join('\n'));
  return result;
}

test("Painter's mask is its own widget kind: no upload button slot; a value the node's older maker had is dropped", () => {
  const painter = {
    id: 1,
    type: 'Painter',
    properties: core('0.27.0'),
    widgets_values: ['', 1216, 960, '#000000', '#ffffff'],
  };
  const result = converted({ nodes: [painter], links: [] });
  expect(result.graph['1'].inputs).toEqual({ mask: '', width: 1216, height: 960, bg_color: '#000000' });
  expect(result.notes.map((n) => n.message)).toContainEqual(
    expect.stringContaining('["#ffffff"] (widgets ComfyUI 0.28.2\'s Painter no longer has) is dropped'),
  );
});

test("a DynamicCombo's sub-inputs: required before optional, and a sub-input seed has no control widget", () => {
  // TextGenerate's saved widgets as template image_moss_image_t2i has them (its `prompt` is linked).
  const saved = ['', 4096, 'on', 0.7, 64, 0.95, 0.05, 1, 0, 0, false, true];
  const node = { id: 11, type: 'TextGenerate', properties: core(), widgets_values: saved, inputs: [] };
  const inputs = converted({ nodes: [node], links: [] }).graph['11'].inputs;
  expect(inputs).toMatchObject({
    'sampling_mode.repetition_penalty': 1,
    'sampling_mode.seed': 0,
    'sampling_mode.presence_penalty': 0,
    thinking: false,
    use_default_template: true,
  });
});

test("a bypassed node passes on what flows into its * input (PreviewAny), as the editor's export does", () => {
  const workflow = {
    nodes: [
      {
        id: 1,
        type: 'PrimitiveStringMultiline',
        properties: core(),
        widgets_values: ['a fox'],
        outputs: [{ name: 'STRING', type: 'STRING', links: [1] }],
      },
      {
        id: 2,
        type: 'PreviewAny',
        mode: 4,
        properties: core(),
        inputs: [{ name: 'source', type: '*', link: 1 }],
        outputs: [{ name: 'STRING', type: 'STRING', links: [2] }],
      },
      {
        id: 3,
        type: 'StringLength',
        properties: core(),
        widgets_values: [''],
        inputs: [{ name: 'string', type: 'STRING', link: 2, widget: { name: 'string' } }],
      },
    ],
    links: [
      [1, 1, 0, 2, 0, '*'],
      [2, 2, 0, 3, 0, 'STRING'],
    ],
  };
  expect(converted(workflow).graph['3'].inputs).toEqual({ string: ['1', 0] });
});

test('a node no output needs may lack a required input (ComfyUI never validates or runs it); an output node may not', () => {
  const graph = {
    '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    '3': { class_type: 'ImageFromBatch', inputs: { batch_index: 0, length: 1 } }, // feeds nothing
  };
  expect(checkGraph(graph, V28, { file: 'w.json' })).toEqual([]);
  const { images: _, ...unlinked } = graph['2'].inputs;
  expect(checkGraph({ ...graph, '2': { class_type: 'SaveImage', inputs: unlinked } }, V28, { file: 'w.json' })).toEqual(
    [
      expect.stringContaining(
        'node 2 (SaveImage) input images: got nothing, expected a link to IMAGE (a required input)',
      ),
    ],
  );
});

test('a combo value no release with schemas offers says so, and how to get the release that has it', () => {
  const graph = {
    '1': { class_type: 'CLIPLoader', inputs: { clip_name: 'c.safetensors', type: 'moss_image', device: 'default' } },
  };
  expect(checkGraph(graph, V28, { file: 'w.json' })).toEqual([
    expect.stringMatching(
      /input type: got "moss_image", expected one of .* — fix the value; no ComfyUI release modal-cdk has node schemas of \(0\.3\.67, 0\.3\.71, 0\.3\.75, 0\.10\.0, 0\.28\.2\) offers it, so if the workflow comes from a newer ComfyUI, dump that release's schemas/,
    ),
  ]);
  // A likely typo of an option is only a typo.
  const typo = { '1': { ...graph['1'], inputs: { ...graph['1'].inputs, type: 'wan2' } } };
  expect(checkGraph(typo, V28, { file: 'w.json' })[0]).toMatch(/— fix the value$/);
});

describe("a packaged template's index (index.json beside it): minComfyUIVersion", () => {
  /** A project whose workflow sits beside an index.json giving it `min`. */
  async function withIndex(min: string, ver: string) {
    const workflow = uiWorkflow();
    for (const n of workflow.nodes as { properties?: object }[]) n.properties = { ...n.properties, ver };
    const { dir, file } = await project(workflow);
    const index = [{ moduleName: 'default', templates: [{ name: 'txt2img', minComfyUIVersion: min }] }];
    writeFileSync(path.join(path.dirname(file), 'index.json'), JSON.stringify(index));
    return { dir, file };
  }

  test('raises the release the nodes name to the oldest with schemas that meets it, and says why', async () => {
    const { dir, file } = await withIndex('0.8.0', '0.3.75');
    expect((await runCliIn(dir, ['import', file])).code).toBe(0);
    const code = read(dir, 'bin/txt2img.ts');
    expect(code).toContain("comfyVersion: '0.10.0'");
    expect(code).toContain("meets the template index's minComfyUIVersion 0.8.0 (index.json beside the workflow)");
  });

  test('newer than every release with schemas: a note naming it (the default release is kept)', async () => {
    const { dir, file } = await withIndex('0.41.3', '0.28.2');
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      'the template index beside txt2img.json (index.json) gives minComfyUIVersion 0.41.3, newer than every release modal-cdk has node schemas of',
    );
  });

  test('an older minimum changes nothing: the nodes decide', async () => {
    const { dir, file } = await withIndex('0.3.31', '0.10.0');
    expect((await runCliIn(dir, ['import', file])).code).toBe(0);
    expect(read(dir, 'bin/txt2img.ts')).toContain("comfyVersion: '0.10.0'");
  });
});

test('a literal where ComfyUI takes one (a * or scalar-union input, as a promoted widget exports it); never for IMAGE', () => {
  const graph = {
    '1': { class_type: 'PreviewAny', inputs: { source: 1024 } },
    '2': { class_type: 'ComfySwitchNode', inputs: { switch: false, on_false: 'a', on_true: 'b' } },
    '3': { class_type: 'PreviewAny', inputs: { source: ['2', 0] } },
  };
  expect(checkGraph(graph, V28, { file: 'w.json' })).toEqual([]);
  const image = { '1': { class_type: 'SaveImage', inputs: { images: 7, filename_prefix: 'x' } } };
  expect(checkGraph(image, V28, { file: 'w.json' })).toEqual([
    expect.stringContaining('input images: got the literal 7, expected a link to IMAGE — link an output of that type'),
  ]);
});
