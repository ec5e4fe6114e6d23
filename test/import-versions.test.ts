import { copyFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { checkGraph } from '../lib/comfy/graph-check';
import { SchemaSet } from '../lib/comfy/schema-set';
import { convertUiWorkflow } from '../lib/comfy/ui-convert';
import { runCliIn } from './helpers';
import { project, read, uiWorkflow } from './import-fixtures';

/**
 * The ComfyUI release a UI workflow was made with (each core node's `properties.ver`) decides what import
 * pins and how the converter reads nodes saved by another release: the cases met in the official templates
 * of comfyui-workflow-templates-json 0.1.123 (test/comfyui/test_import_templates.py runs all of them).
 */
const V28 = SchemaSet.for('0.28.2');
const core = (ver?: string) => ({ cnr_id: 'comfy-core', ...(ver && { ver }) });
const node = (id: number, type: string, widgets: unknown[], ver?: string) => ({
  id,
  type,
  properties: core(ver),
  widgets_values: widgets,
});
const convert = (nodes: unknown[]) => convertUiWorkflow({ nodes, links: [] }, V28);

/** uiWorkflow() with every core node's ver set to `ver`. */
function madeWith(ver: string) {
  const workflow = uiWorkflow();
  for (const n of workflow.nodes as { properties?: object }[]) n.properties = { ...n.properties, ver };
  return workflow;
}

describe('import pins the release the workflow was made with', () => {
  test("the newest release of the nodes' ver that has schemas is the app's comfyVersion, with why", async () => {
    const { dir, file } = await project(madeWith('0.10.0'));
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(0);
    const code = read(dir, 'bin/txt2img.ts');
    expect(code).toContain("comfyVersion: '0.10.0'");
    expect(code).toContain("// comfyVersion: the newest ComfyUI release the workflow's nodes were made with");
  });

  test('nodes made by a release with no schemas: the default release, and a note naming them and both releases', async () => {
    const { dir, file } = await project(madeWith('0.33.0'));
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(0);
    expect(read(dir, 'bin/txt2img.ts')).not.toContain('comfyVersion');
    expect(result.out).toMatch(
      /nodes 4 \(CheckpointLoaderSimple\), .* were made by ComfyUI 0\.33\.0 \(properties\.ver\), newer than the 0\.28\.2 the app runs/,
    );
  });

  test("a default id another workflow's app has: import takes the next free one and says so (--app named)", async () => {
    const { dir, file } = await project(uiWorkflow());
    expect((await runCliIn(dir, ['import', file])).code).toBe(0);
    const other = path.join(path.dirname(file), 'Txt2img.json'); // the same default id, another workflow
    copyFileSync(file, other);
    const second = await runCliIn(dir, ['import', other]);
    expect(second.code).toBe(0);
    expect(second.out).toContain(
      'app id "txt2img-2": the default id "txt2img" is another workflow\'s app (bin/txt2img.ts), so import took the next free one — pass --app <id> to choose it',
    );
    expect(existsSync(path.join(dir, 'bin/txt2img-2.ts'))).toBe(true);
    expect((await runCliIn(dir, ['synth'])).code).toBe(0);
  });

  test('a class only a newer snapshot has: the release to set; a core class no snapshot has: that it is newer', async () => {
    const newer = uiWorkflow({ extra: [node(20, 'ComfySwitchNode', [true], '0.28.2')] });
    const { dir, file } = await project(newer);
    const pinned = await runCliIn(dir, ['import', file, '--comfy-version', '0.3.75']);
    expect(pinned.code).toBe(1);
    expect(pinned.err).toContain(
      "ComfySwitchNode needs ComfyUI ≥ 0.10.0 (the app runs 0.3.75): set comfyVersion: '0.10.0' — import --comfy-version 0.10.0",
    );
    const unknown = await project(uiWorkflow({ extra: [node(20, 'TextEncodeFutureModel', ['x'], '0.45.0')] }));
    const refused = await runCliIn(unknown.dir, ['import', unknown.file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      'TextEncodeFutureModel is a node of ComfyUI itself (cnr_id comfy-core, made by 0.45.0) that no release modal-cdk has node schemas of knows',
    );
    expect(refused.err).toContain('needs ComfyUI ≥ 0.45.0');
  });
});

describe('the converter reads nodes another release saved, as the editor opens them', () => {
  test('0.28.2\'s V3 control_after_generate modes ("fixed") add the control widget', () => {
    const converted = convert([node(1, 'PrimitiveInt', [8, 'fixed'], '0.24.0')]);
    expect('graph' in converted && converted.graph['1'].inputs).toEqual({ value: 8 });
  });

  test('a widget a newer release added takes its default, with a note naming the release that had the saved ones', () => {
    const converted = convert([node(1, 'CreateVideo', [24], '0.3.45')]);
    expect('graph' in converted && converted.graph['1'].inputs).toEqual({ fps: 24, bit_depth: 8 });
    expect('notes' in converted && converted.notes).toEqual([
      {
        id: 'widget-added',
        message: expect.stringContaining(
          "node 1 (CreateVideo) was saved with 1 widget values, ComfyUI 0.28.2's CreateVideo has 2: ComfyUI 0.3.67's had exactly the saved ones; the newer ones take their defaults (bit_depth = 8)",
        ),
      },
    ]);
  });

  test('fewer values: a release whose layout explains them suffices; a value that does not fit its widget is refused', () => {
    expect('problems' in convert([node(1, 'CreateVideo', [24])])).toBe(false); // 0.3.67 explains it
    const shifted = convert([node(1, 'ResizeImageMaskNode', ['scale dimensions', 512, 'lanczos'], '0.10.0')]);
    expect('problems' in shifted && shifted.problems[0]).toContain('got 3 widgets_values');
    // The release that made it, when the node says: a snapshot's (pin it), or one modal-cdk has no schemas of.
    expect('problems' in shifted && shifted.problems[0]).toContain(
      "the node was made by ComfyUI 0.10.0 (properties.ver), whose ResizeImageMaskNode has other widgets: set the app's comfyVersion to '0.10.0'",
    );
    const unknown = convert([node(1, 'ResizeImageMaskNode', ['scale dimensions', 512, 'lanczos'], '0.18.1')]);
    expect('problems' in unknown && unknown.problems[0]).toContain(
      'the node was made by ComfyUI 0.18.1 (properties.ver), whose ResizeImageMaskNode had other widgets, and modal-cdk has no node schemas of that release: re-save the workflow in ComfyUI 0.28.2',
    );
  });

  test("the editor's own widgets (socketless): ImageCompare's compare view, ColorToRGBInt's color", () => {
    const converted = convert([node(1, 'ImageCompare', []), node(2, 'ColorToRGBInt', ['#0a9299'])]);
    expect('graph' in converted && converted.graph['1'].inputs).toEqual({ compare_view: {} });
    expect('graph' in converted && converted.graph['2'].inputs).toEqual({ color: '#0a9299' });
  });

  test('more values than the class has: the extra ones dropped as the editor drops them, with a note', () => {
    const converted = convert([node(1, 'SaveVideo', ['video/x', 'auto', 'auto', 'auto'], '0.5.1')]);
    expect('graph' in converted && converted.graph['1'].inputs).toEqual({
      filename_prefix: 'video/x',
      format: 'auto',
      codec: 'auto',
    });
    expect('notes' in converted && converted.notes[0]).toEqual({
      id: 'widget-dropped',
      message: expect.stringContaining(
        'the first 3 fill its widgets and ["auto"] (widgets ComfyUI 0.28.2\'s SaveVideo no longer has) is dropped',
      ),
    });
  });

  test('more values, one of which does not fit its widget, in a workflow saved by a newer release: the release it needs', () => {
    const converted = convert([
      node(1, 'SaveVideo', ['video/x', 'webm', 'auto', 'auto'], '0.5.1'),
      node(2, 'PrimitiveInt', [1, 'fixed'], '0.33.0'),
    ]);
    expect('problems' in converted && converted.problems).toEqual([
      expect.stringContaining(
        'node 1 (SaveVideo): got 4 widgets_values ["video/x","webm","auto","auto"], expected 3 for the widgets ["filename_prefix","format","codec"] of ComfyUI 0.28.2 — the node was saved by ComfyUI 0.33.0 or later (properties.ver), newer than every release modal-cdk has node schemas of',
      ),
    ]);
  });
});

describe('import checks the project it writes into, before writing anything', () => {
  test('an app id or endpoint path the project already declares is refused, naming where', async () => {
    const { dir, file } = await project(uiWorkflow());
    expect((await runCliIn(dir, ['import', file])).code).toBe(0);
    const before = read(dir, 'bin/app.ts');
    const sameId = await runCliIn(dir, ['import', file, '--app', 'sdxl', '--path', '/other']);
    expect(sameId.code).toBe(1);
    expect(sameId.err).toMatch(/app id "sdxl" is already declared at bin\/app\.ts:\d+: pass --app <another id>/);
    const samePath = await runCliIn(dir, ['import', file, '--app', 'fresh', '--path', '/txt2img']);
    expect(samePath.code).toBe(1);
    expect(samePath.err).toMatch(
      /endpoint path "\/txt2img" is already declared at bin\/txt2img\.ts:\d+ \(paths are unique/,
    );
    expect(read(dir, 'bin/app.ts')).toBe(before);
    expect(existsSync(path.join(dir, 'bin/fresh.ts'))).toBe(false);
  });

  test('--out outside the project, onto the entry file (even with --force) or not .ts, a long id, a URL without scheme', async () => {
    const { dir, file } = await project(uiWorkflow());
    const usage = async (...args: string[]) => {
      const r = await runCliIn(dir, ['import', file, ...args]);
      expect(r.code).toBe(2);
      return r.err;
    };
    expect(await usage('--out', '../elsewhere.ts')).toContain('outside the project');
    expect(await usage('--out', 'bin/app.ts', '--force')).toContain(
      'the entry file import adds the app to (cdk-like.json\'s "app")',
    );
    expect(await usage('--out', 'bin/x.js')).toContain('expected a .ts file');
    expect(await usage('--app', 'a'.repeat(60))).toMatch(
      /would be \d+ characters, and a DNS label holds 63 — use an id of at most \d+ characters/,
    );
    expect(await usage('--comfy-url', '127.0.0.1:8188')).toContain(
      'expected a URL with its scheme, e.g. http://127.0.0.1:8188',
    );
    expect(read(dir, 'bin/app.ts')).not.toContain('Txt2img');
  });
});

describe('Comfy.org partner-API nodes are a decision at import', () => {
  const withChat = () => uiWorkflow({ extra: [node(20, 'OpenAIChatNode', ['hello', false, 'gpt-5'], '0.28.2')] });

  test('refused by default, naming the nodes, why, and --partner-nodes', async () => {
    const { dir, file } = await project(withChat());
    const refused = await runCliIn(dir, ['import', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      "node 20 (OpenAIChatNode) is a Comfy.org partner-API node: it runs on Comfy.org's servers, not the app's GPU",
    );
    expect(refused.err).toContain('pass --partner-nodes <the Modal Secret with COMFY_ORG_API_KEY>');
    expect(existsSync(path.join(dir, 'bin/txt2img.ts'))).toBe(false);
  });

  test('--partner-nodes <secret>: the app allows them with that Secret, and synth passes; a key is not a name', async () => {
    const { dir, file } = await project(withChat());
    const allowed = await runCliIn(dir, ['import', file, '--partner-nodes', 'comfy-org']);
    expect(allowed.code).toBe(0);
    expect(read(dir, 'bin/txt2img.ts')).toContain("partnerNodes: { apiKeySecret: 'comfy-org' },");
    expect((await runCliIn(dir, ['synth'])).code).toBe(0);
    const key = await runCliIn(dir, ['import', file, '--partner-nodes', 'sk live/key', '--force']);
    expect(key.code).toBe(2);
    expect(key.err).toContain('expected the name of a Modal Secret');
  });

  test('a workflow of partner-API nodes that loads no model: the app is written without gpu, and runs on the CPU', async () => {
    const chatOnly = {
      last_node_id: 21,
      last_link_id: 1,
      nodes: [
        {
          id: 20,
          type: 'OpenAIChatNode',
          outputs: [{ name: 'STRING', type: 'STRING', links: [1] }],
          properties: core('0.28.2'),
          widgets_values: ['hello', false, 'gpt-5'],
        },
        { id: 21, type: 'PreviewAny', inputs: [{ name: 'source', type: '*', link: 1 }], properties: core('0.28.2') },
      ],
      links: [[1, 20, 0, 21, 0, 'STRING']],
    };
    const { dir, file } = await project(chatOnly, 'chat.json');
    const imported = await runCliIn(dir, ['import', file, '--partner-nodes', 'comfy-org']);
    expect(imported.code).toBe(0);
    const code = read(dir, 'bin/chat.ts');
    expect(code).toContain('// No gpu: the workflow loads no model and its partner-API nodes run on Comfy.org');
    expect(code).not.toMatch(/^\s*gpu:/m);
    const synth = await runCliIn(dir, ['synth']);
    expect(synth.code).toBe(0);
    expect(read(dir, 'synth.out/apps/chat/app.py')).toContain('GPU = None');
  });
});

test('a combo value a newer release added names that release (checkGraph)', () => {
  const graph = {
    '1': { class_type: 'CLIPLoader', inputs: { clip_name: 'c.safetensors', type: 'lens', device: 'default' } },
  };
  const problems = checkGraph(graph, SchemaSet.for('0.10.0'), { file: 'w.json' });
  expect(problems).toContainEqual(
    expect.stringMatching(
      /node 1 \(CLIPLoader\) input type: got "lens", an option of ComfyUI 0\.28\.2 and later \(the app runs 0\.10\.0, whose options are .*\) — set the app's comfyVersion to '0\.28\.2', or pick one of those/,
    ),
  );
});
