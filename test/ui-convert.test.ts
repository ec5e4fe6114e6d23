import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadSchemaFile } from '../lib/comfy/schema-file';
import { type PackSchemas, SchemaSet } from '../lib/comfy/schema-set';
import { convertUiWorkflow } from '../lib/comfy/ui-convert';
import { ComfyApp, Endpoint, Workflow } from '../constructs';
import { FIXTURES, problemsOf, ROOT, tempDir, testProject } from './helpers';

// The RYLA packs' schemas, as the frontend that made the reference pairs had them loaded.
const packs = readdirSync(path.join(ROOT, 'bin/ryla/nodes'))
  .filter((f) => !f.startsWith('comfyui-'))
  .map((f) => (loadSchemaFile(`bin/ryla/nodes/${f}`, ROOT, f) as { pack: PackSchemas }).pack);
const schemas = SchemaSet.for('0.3.75', packs);

type Ui = { nodes: object[]; links: unknown[]; definitions?: object };
const convert = (ui: Ui) => convertUiWorkflow(ui, schemas);
/** class_type and inputs of each node: what the frontend's export and ours are compared on. */
const core = (graph: Record<string, { class_type: string; inputs: object }>) =>
  Object.fromEntries(Object.entries(graph).map(([id, n]) => [id, { class_type: n.class_type, inputs: n.inputs }]));
const graphOf = (ui: Ui) => {
  const r = convert(ui);
  if ('problems' in r) throw new Error(r.problems.join('\n'));
  return core(r.graph);
};

/** A UI node: id, type, widgets_values, inputs ([name, type, link, widget?]) and mode. */
function node(
  id: number,
  type: string,
  widgets: unknown,
  inputs: [string, string, number | null, string?][] = [],
  mode = 0,
) {
  return {
    id,
    type,
    mode,
    widgets_values: widgets,
    inputs: inputs.map(([name, t, link, widget]) => ({
      name,
      type: t,
      link,
      ...(widget && { widget: { name: widget } }),
    })),
    outputs: [],
  };
}
const image = (id: number) => node(id, 'EmptyImage', [8, 8, 1, 0]);
const save = (id: number, link: number) => node(id, 'SaveImage', ['out'], [['images', 'IMAGE', link]]);

describe('UI-format workflows convert to API format as the ComfyUI frontend exports them', () => {
  test("the five RYLA custom-node workflows: the same class_type and inputs as the frontend's Export (API)", () => {
    const twins = JSON.parse(readFileSync(path.join(FIXTURES, 'comfy-ui/ui-twins-ryla.json'), 'utf8'));
    expect(Object.keys(twins)).toHaveLength(5);
    for (const { ui, output } of Object.values(twins) as {
      ui: Ui;
      output: Record<string, { class_type: string; inputs: object }>;
    }[]) {
      expect(graphOf(ui)).toEqual(core(output));
    }
  });

  test('widgets_values are positional over widget inputs in input_order; seeds and uploads add slots that are not emitted', () => {
    const ui = {
      nodes: [
        node(
          1,
          'KSampler',
          [42, 'randomize', 20, 7, 'euler', 'normal', 1],
          [
            ['model', 'MODEL', null],
            ['positive', 'CONDITIONING', null],
            ['negative', 'CONDITIONING', null],
            ['latent_image', 'LATENT', null],
          ],
        ),
        node(2, 'LoadImage', ['a.png', 'image']),
      ],
      links: [],
    };
    expect(graphOf(ui)).toEqual({
      '1': {
        class_type: 'KSampler',
        inputs: { seed: 42, steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1 },
      },
      '2': { class_type: 'LoadImage', inputs: { image: 'a.png' } },
    });
  });

  test('a widget converted to an input takes its link; a PrimitiveNode pushes its value; Reroute is followed; notes vanish', () => {
    const ui = {
      nodes: [
        image(1),
        node(2, 'Reroute', null, [['', '*', 1]]),
        node(3, 'PrimitiveInt', [7, 'fixed']),
        node(4, 'PrimitiveNode', [99, 'fixed']),
        node(5, 'ImageScaleBy', ['nearest-exact', 1], [['image', 'IMAGE', 2]]),
        node(
          6,
          'EmptyImage',
          [8, 8, 1, 0],
          [
            ['width', 'INT', 3, 'width'],
            ['height', 'INT', 4, 'height'],
          ],
        ),
        save(7, 5),
        node(8, 'Note', ['a note']),
        node(9, 'MarkdownNote', ['# note']),
      ],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 5, 0, 'IMAGE'],
        [3, 3, 0, 6, 0, 'INT'],
        [4, 4, 0, 6, 1, 'INT'],
        [5, 5, 0, 7, 0, 'IMAGE'],
      ],
    };
    expect(graphOf(ui)).toEqual({
      '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      '3': { class_type: 'PrimitiveInt', inputs: { value: 7 } },
      '5': { class_type: 'ImageScaleBy', inputs: { upscale_method: 'nearest-exact', scale_by: 1, image: ['1', 0] } },
      '6': { class_type: 'EmptyImage', inputs: { width: ['3', 0], height: 99, batch_size: 1, color: 0 } },
      '7': { class_type: 'SaveImage', inputs: { filename_prefix: 'out', images: ['5', 0] } },
    });
  });

  test('a muted node (mode 2) is dropped with its links; a bypassed one (mode 4) passes on its input of the same type', () => {
    const ui = (mode: number, saveMode = 0) => ({
      nodes: [image(1), node(2, 'ImageInvert', [], [['image', 'IMAGE', 1]], mode), { ...save(3, 2), mode: saveMode }],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 3, 0, 'IMAGE'],
      ],
    });
    expect(graphOf(ui(4))).toEqual({
      '1': expect.anything(),
      '3': { class_type: 'SaveImage', inputs: { filename_prefix: 'out', images: ['1', 0] } },
    });
    // A muted tail is dropped whole.
    expect(graphOf(ui(2, 2))).toEqual({ '1': expect.anything() });
  });

  test('a required input left empty by a muted or bypassed source names that node and its mode', () => {
    const problems = (ui: Ui) => {
      const r = convert(ui);
      return 'problems' in r ? r.problems : [];
    };
    const muted = {
      nodes: [image(1), node(2, 'ImageInvert', [], [['image', 'IMAGE', 1]], 2), save(3, 2)],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 3, 0, 'IMAGE'],
      ],
    };
    expect(problems(muted)).toEqual([
      'node 3 (SaveImage) input images: empty in the export, because its source node 2 (ImageInvert) is muted (mode 2), and ComfyUI refuses a prompt whose required input is missing — un-mute or un-bypass that node in the editor (Ctrl+M / Ctrl+B), or connect another source to images',
    ]);
    // A bypassed node with nothing connected to the input it would pass on.
    const bypassed = {
      nodes: [node(2, 'ImageInvert', [], [['image', 'IMAGE', null]], 4), save(3, 2)],
      links: [[2, 2, 0, 3, 0, 'IMAGE']],
    };
    expect(problems(bypassed)).toEqual([
      expect.stringContaining(
        'input images: empty in the export, because its source node 2 (ImageInvert) is bypassed (mode 4), and nothing is connected to its input image',
      ),
    ]);
    // A bypassed node without an input of the link's type passes nothing on.
    const noSuchType = {
      nodes: [node(2, 'EmptyImage', [8, 8, 1, 0], [], 4), save(3, 2)],
      links: [[2, 2, 0, 3, 0, 'IMAGE']],
    };
    expect(problems(noSuchType)).toEqual([
      expect.stringContaining(
        'because its source node 2 (EmptyImage) is bypassed (mode 4) and has no IMAGE input to pass on',
      ),
    ]);
  });

  test('Reroutes that feed each other are an error naming the cycle, not a stack overflow', () => {
    const ui = {
      nodes: [node(1, 'Reroute', null, [['', '*', 2]]), node(2, 'Reroute', null, [['', '*', 1]]), save(3, 3)],
      links: [
        [1, 1, 0, 2, 0, '*'],
        [2, 2, 0, 1, 0, '*'],
        [3, 2, 0, 3, 0, 'IMAGE'],
      ],
    };
    const r = convert(ui);
    expect('problems' in r && r.problems).toEqual([
      expect.stringMatching(
        /^node 3: the link into it goes round a cycle of node 2 → node 1 → node 2 — a Reroute or bypassed node that feeds itself has no source/,
      ),
    ]);
    const bypassCycle = {
      nodes: [
        node(1, 'ImageInvert', [], [['image', 'IMAGE', 2]], 4),
        node(2, 'ImageInvert', [], [['image', 'IMAGE', 1]], 4),
        save(3, 3),
      ],
      links: [
        [1, 1, 0, 2, 0, 'IMAGE'],
        [2, 2, 0, 1, 0, 'IMAGE'],
        [3, 2, 0, 3, 0, 'IMAGE'],
      ],
    };
    expect((convert(bypassCycle) as { problems: string[] }).problems).toEqual([
      expect.stringContaining('goes round a cycle of node 2 → node 1 → node 2'),
    ]);
  });

  test("a display-only widget value the editor saves after a run (GetImageSize's text) is dropped as its export drops it", () => {
    const ui = (widgets: unknown[]) => ({
      nodes: [image(1), node(2, 'GetImageSize', widgets, [['image', 'IMAGE', 1]])],
      links: [[1, 1, 0, 2, 0, 'IMAGE']],
    });
    expect(graphOf(ui(['8 x 8']))['2']).toEqual({ class_type: 'GetImageSize', inputs: { image: ['1', 0] } });
    expect(graphOf(ui([]))['2']).toEqual({ class_type: 'GetImageSize', inputs: { image: ['1', 0] } });
    // Values no widget of the release takes (a newer editor's) are dropped as this release's editor drops them.
    expect(graphOf(ui(['8 x 8', 'more']))['2']).toEqual({ class_type: 'GetImageSize', inputs: { image: ['1', 0] } });
  });

  test('a workflow file that starts with a UTF-8 byte order mark is read, as the editor reads it', () => {
    const project = testProject();
    const app = new ComfyApp(project, 'a', { gpu: 'L40S' });
    const file = path.join(tempDir(), 'bom.json');
    writeFileSync(
      file,
      `\uFEFF${JSON.stringify({ nodes: [image(1), save(2, 1)], links: [[1, 1, 0, 2, 0, 'IMAGE']] })}`,
    );
    new Endpoint(app, 'E', { path: '/e', workflow: Workflow.fromFile(file), inputs: {} });
    expect(Object.keys(JSON.parse(project.synth().files.get('apps/a/workflows/bom.json')!))).toEqual(['1', '2']);
  });

  test('binding or naming as output a node the export leaves out says why, and where the value really goes', () => {
    const ui = {
      nodes: [
        node(1, 'EmptyImage', [8, 8, 1, 0], [['width', 'INT', 3, 'width']]),
        node(4, 'PrimitiveNode', [64]),
        node(5, 'Reroute', null, [['', '*', 2]]),
        node(6, 'ImageInvert', [], [['image', 'IMAGE', 4]], 4),
        save(7, 5),
        node(8, 'SaveImage', ['muted'], [['images', 'IMAGE', 6]], 2),
      ],
      links: [
        [2, 4, 0, 5, 0, 'INT'],
        [3, 5, 0, 1, 0, 'INT'],
        [4, 1, 0, 6, 0, 'IMAGE'],
        [5, 6, 0, 7, 0, 'IMAGE'],
        [6, 1, 0, 8, 0, 'IMAGE'],
      ],
    };
    const synth = (inputs: Record<string, object>, outputNode?: string) => {
      const project = testProject();
      new Endpoint(new ComfyApp(project, 'a', { gpu: 'L40S' }), 'E', {
        path: '/e',
        workflow: Workflow.fromJson('ui', ui),
        inputs: inputs as never,
        outputNode,
      });
      return problemsOf(() => project.synth());
    };
    expect(synth({ width: { type: 'int', node: '4', input: 'value', default: 8, min: 1, max: 64 } }, '7')).toEqual([
      '[test/a/E] input \'width\' binds node "4", but node 4 (PrimitiveNode) is a PrimitiveNode: the export writes its value into the inputs it feeds and leaves it out; what it holds goes to node "1" input width — bind node "1" input width instead',
    ]);
    expect(synth({ w: { type: 'int', node: '5', input: 'x', default: 8, min: 1, max: 64 } }, '7')).toEqual([
      expect.stringContaining(
        'binds node "5", but node 5 (Reroute) is a Reroute, which only passes a link on, and the export leaves it out; what it holds goes to node "1" input width — use node "1" input width instead',
      ),
    ]);
    expect(synth({}, '6')).toEqual([
      '[test/a/E] outputNode: got "6", but node 6 (ImageInvert) is bypassed in the editor (mode 4), so the export leaves it out and passes its inputs through; what it holds goes to node "7" input images — un-bypass it (Ctrl+B), or use another node',
    ]);
    expect(synth({}, '8')).toEqual([
      '[test/a/E] outputNode: got "8", but node 8 (SaveImage) is muted in the editor (mode 2), so the export leaves it out and ComfyUI never runs it — un-mute it (Ctrl+M), or use another node',
    ]);
  });

  test('subgraphs are flattened: ids outer:inner, promoted widgets, links in and out', () => {
    const subgraph = {
      id: 'sub-1',
      name: 'Invert twice',
      inputs: [
        { name: 'image', type: 'IMAGE' },
        { name: 'scale_by', type: 'FLOAT' },
      ],
      outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
      nodes: [
        node(1, 'ImageInvert', [], [['image', 'IMAGE', 10]]),
        node(
          2,
          'ImageScaleBy',
          ['nearest-exact', 1],
          [
            ['image', 'IMAGE', 11],
            ['scale_by', 'FLOAT', 12, 'scale_by'],
          ],
        ),
      ],
      links: [
        { id: 10, origin_id: -10, origin_slot: 0, target_id: 1, target_slot: 0, type: 'IMAGE' },
        { id: 11, origin_id: 1, origin_slot: 0, target_id: 2, target_slot: 0, type: 'IMAGE' },
        { id: 12, origin_id: -10, origin_slot: 1, target_id: 2, target_slot: 1, type: 'FLOAT' },
        { id: 13, origin_id: 2, origin_slot: 0, target_id: -20, target_slot: 0, type: 'IMAGE' },
      ],
    };
    const instance = {
      ...node(5, 'sub-1', [2.5], [['image', 'IMAGE', 1]]),
      properties: { proxyWidgets: [['-1', 'scale_by']] },
    };
    const ui = {
      nodes: [image(1), instance, save(6, 2)],
      links: [
        [1, 1, 0, 5, 0, 'IMAGE'],
        [2, 5, 0, 6, 0, 'IMAGE'],
      ],
      definitions: { subgraphs: [subgraph] },
    };
    expect(graphOf(ui)).toEqual({
      '1': expect.anything(),
      '5:1': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '5:2': {
        class_type: 'ImageScaleBy',
        inputs: { upscale_method: 'nearest-exact', scale_by: 2.5, image: ['5:1', 0] },
      },
      '6': { class_type: 'SaveImage', inputs: { filename_prefix: 'out', images: ['5:2', 0] } },
    });
  });

  test('an endpoint may use a UI-format workflow: synth converts it, binds the converted ids and ships API format', () => {
    const project = testProject();
    const app = new ComfyApp(project, 'a', { gpu: 'L40S' });
    const subgraph = {
      id: 'sub-1',
      inputs: [{ name: 'image', type: 'IMAGE' }],
      outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
      nodes: [node(2, 'ImageScaleBy', ['nearest-exact', 1], [['image', 'IMAGE', 10]])],
      links: [
        { id: 10, origin_id: -10, origin_slot: 0, target_id: 2, target_slot: 0, type: 'IMAGE' },
        { id: 11, origin_id: 2, origin_slot: 0, target_id: -20, target_slot: 0, type: 'IMAGE' },
      ],
    };
    const ui = {
      nodes: [image(1), node(5, 'sub-1', [], [['image', 'IMAGE', 1]]), save(6, 2)],
      links: [
        [1, 1, 0, 5, 0, 'IMAGE'],
        [2, 5, 0, 6, 0, 'IMAGE'],
      ],
      definitions: { subgraphs: [subgraph] },
    };
    new Endpoint(app, 'E', {
      path: '/e',
      workflow: Workflow.fromJson('ui', ui),
      inputs: { scale: { type: 'float', node: '5:2', input: 'scale_by', default: 2, min: 0.5, max: 4 } },
    });
    const result = project.synth();
    const shipped = JSON.parse(result.files.get('apps/a/workflows/ui.json')!);
    expect(Object.keys(shipped).sort()).toEqual(['1', '5:2', '6']);
    expect(shipped['6'].inputs.images).toEqual(['5:2', 0]);
    expect(result.manifest.apps[0].endpoints[0]).toMatchObject({
      outputNode: '6',
      fields: [expect.objectContaining({ name: 'scale', targets: [{ node: '5:2', input: 'scale_by' }] })],
    });
    // A binding to the UI id of the subgraph node, which no longer exists, is refused naming the converted ids.
    const bad = testProject();
    new Endpoint(new ComfyApp(bad, 'a', { gpu: 'L40S' }), 'E', {
      path: '/e',
      workflow: Workflow.fromJson('ui', ui),
      inputs: { scale: { type: 'float', node: '5', input: 'scale_by' } },
    });
    expect(problemsOf(() => bad.synth())).toEqual([
      '[test/a/E] input \'scale\' binds node "5", which ui.json lacks: expected one of its node ids ["1","6","5:2"]',
    ]);
  });

  test('refused loudly, never guessed: an unknown class, a widget count that does not fit, a link that is not there', () => {
    const problems = (ui: Ui) => ('problems' in convert(ui) ? (convert(ui) as { problems: string[] }).problems : []);
    expect(problems({ nodes: [node(1, 'ImageInvrt', [])], links: [] })).toEqual([
      'node 1 (ImageInvrt): got type "ImageInvrt", expected a node class of ComfyUI 0.3.75 or of the custom nodes\' schemas (closest: ImageInvert, ImageBlur, ImageBatch) — add the CustomNode (modal-cdk workflow: --custom-nodes) that provides it, or fix the type',
    ]);
    expect(problems({ nodes: [node(1, 'EmptyImage', [8, 8, 1])], links: [] })).toEqual([
      'node 1 (EmptyImage): got 3 widgets_values [8,8,1], expected 4 for the widgets ["width","height","batch_size","color"] of ComfyUI 0.3.75 — the workflow was saved with another version of the node: open and re-save it in a ComfyUI with that version, or export it with "Export (API)"',
    ]);
    expect(problems({ nodes: [image(1), save(2, 7)], links: [] })).toEqual([
      "node 2 (SaveImage) input images: got link 7, which the workflow's links lack — re-save the workflow in ComfyUI",
    ]);
    expect(problems({ nodes: [image(1), save(2, 7)], links: [[7, 9, 0, 2, 0, 'IMAGE']] })).toEqual([
      'node 2: got a link from node 9, which the workflow lacks — re-save the workflow in ComfyUI',
    ]);
    expect(problems({ nodes: 'x' } as never)).toEqual([expect.stringMatching(/^not a UI-format workflow at nodes: /)]);
  });
});
