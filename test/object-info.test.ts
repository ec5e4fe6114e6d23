import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CustomNode } from '../constructs';
import { coreFile } from '../lib/comfy/schema-set';
import { demoStack, problemsOf, ROOT, runCliIn, tempDir } from './helpers';

const SHA = '4490bd1f482e026674543386bb2a4d176da245b9';

/** What `curl http://127.0.0.1:8188/object_info` gives on a server with the InstantID pack: core + its classes. */
function rawObjectInfo(version = '0.28.2'): string {
  const file = path.join(tempDir(), 'object_info.json');
  const core = coreFile(version).nodes;
  const pack = JSON.parse(readFileSync(path.join(ROOT, 'bin/ryla/nodes/instantid.json'), 'utf8')).nodes;
  writeFileSync(file, JSON.stringify({ ...core, ...pack }));
  return file;
}

/** A stand-in ComfyUI on loopback answering its JSON routes (path → body; others 404). */
async function serveJson(routes: Record<string, unknown>) {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const body = routes[req.url!];
    res
      .writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
      .end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('node schemas as users have them: a raw /object_info response', () => {
  test("a CustomNode's nodeSchemas may be a raw dump: only the classes the app's ComfyUI lacks are taken, with a note", () => {
    const { project, app } = demoStack();
    const file = rawObjectInfo();
    new CustomNode(app, 'InstantId', {
      repo: 'https://github.com/cubiq/ComfyUI_InstantID',
      commit: SHA,
      nodeSchemas: file,
    });
    const result = project.synth();
    expect(result.warnings.filter((w) => w.id === 'raw-object-info')).toEqual([
      expect.objectContaining({
        note: true,
        path: 'test/demo/InstantId',
        message: expect.stringMatching(
          /^nodeSchemas .*object_info\.json is a raw \/object_info dump: took its 3 classes that ComfyUI 0\.28\.2 does not have, left out \d{3} core ones$/,
        ),
      }),
    ]);
    // No core class is redefined by the dump (it would be, were core entries kept).
    expect(result.warnings.filter((w) => w.id === 'core-class-redefined')).toEqual([]);
    expect(app.schemas.get('ApplyInstantIDAdvanced')?.source).toBe('custom node test/demo/InstantId');
  });

  test('workflow check --custom-nodes takes a raw dump too and says what it took', async () => {
    const workflow = path.join(tempDir(), 'wf.json');
    writeFileSync(
      workflow,
      JSON.stringify({
        '1': { class_type: 'InstantIDFaceAnalysis', inputs: { provider: 'CPU' } },
        '2': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
      }),
    );
    const result = await runCliIn(ROOT, [
      'workflow',
      'check',
      workflow,
      '--custom-nodes',
      rawObjectInfo('0.3.75'),
      '--comfy-version',
      '0.3.75',
    ]);
    expect(result.err).toMatch(
      /^modal-cdk workflow: note: --custom-nodes .*object_info\.json is a raw \/object_info dump: took its 3 classes that ComfyUI 0\.3\.75 does not have, left out \d+ core ones$/m,
    );
    expect(result.out).toContain('no problems');
  });
});

describe('modal-cdk schemas dump', () => {
  test('writes the custom-node classes of a running ComfyUI, their model folders and inputs, from its own routes', async () => {
    const core = coreFile('0.3.75').nodes;
    const objectInfo = {
      EmptyImage: core.EmptyImage,
      FaceLoader: {
        input: {
          required: { model: [['face.onnx', 'other.onnx'], {}], strength: ['FLOAT', { default: 1, min: 0, max: 2 }] },
        },
        output: ['FACE'],
        output_name: ['FACE'],
        output_node: false,
        name: 'FaceLoader',
      },
    };
    const routes: Record<string, unknown> = {
      '/object_info': objectInfo,
      '/system_stats': { system: { comfyui_version: '0.3.75' } },
      '/models': ['checkpoints', 'faces'],
      '/models/checkpoints': [],
      '/models/faces': ['face.onnx', 'other.onnx'],
    };
    const { url, server } = await serveJson(routes);
    try {
      const file = path.join(tempDir(), 'faces.json');
      const result = await runCliIn(ROOT, ['schemas', 'dump', '--url', url, '--out', file]);
      expect([result.code, result.err, result.out]).toEqual([
        0,
        '',
        `Wrote 1 custom-node class(es) of ${url} to ${file}.\n`,
      ]);
      const dumped = JSON.parse(readFileSync(file, 'utf8'));
      expect(Object.keys(dumped.nodes)).toEqual(['FaceLoader']);
      expect(dumped.modelFolders).toEqual({ faces: ['faces'] });
      expect(dumped.modelInputs).toEqual({ FaceLoader: { model: 'faces' } });
      expect(dumped.nodes.FaceLoader.input.required.model).toEqual([[], {}]); // synth lists the app's own files
      // The file is what a CustomNode takes.
      const { project, app } = demoStack();
      new CustomNode(app, 'Faces', { repo: 'https://github.com/acme/faces', commit: SHA, nodeSchemas: file });
      project.synth();
      expect(app.schemas.get('FaceLoader')?.byName.get('model')?.modelFolders).toEqual(['faces']);
    } finally {
      server.close();
    }
    const down = await runCliIn(ROOT, ['schemas', 'dump', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(
      /^modal-cdk schemas dump: could not read http:\/\/127\.0\.0\.1:9: .* — is ComfyUI running there\?/,
    );
    expect((await runCliIn(ROOT, ['schemas'])).err).toContain(
      'expected a sub-command, dump, before the options, got nothing',
    );
    // Mistakes answered before anything is read (issue 33, class 5): usage errors naming what is valid.
    const route = await runCliIn(ROOT, ['schemas', 'dump', '--url', 'http://127.0.0.1:9/object_info']);
    expect([route.code, route.err]).toEqual([
      2,
      expect.stringContaining("the /object_info route itself: expected the server's URL, e.g. http://127.0.0.1:9"),
    ]);
    const dir = await runCliIn(ROOT, ['schemas', 'dump', '--url', 'http://127.0.0.1:9', '--out', 'test']);
    expect([dir.code, dir.err]).toEqual([2, expect.stringContaining('"test", a directory: expected a file to write')]);
    const missing = await runCliIn(ROOT, ['schemas', 'dump', '--url', 'http://127.0.0.1:9', '--out', 'nope/x.json']);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('whose folder nope does not exist')]);
  });
});

describe('a ComfyUI release without a snapshot: a whole dump (schemas dump --core) as the app nodeSchemas', () => {
  /** A ComfyUI "0.45.2": 0.28.2's classes, with EmptyImage's width capped at 32 (so a check can tell it apart). */
  async function serveRelease(release: string) {
    const nodes = structuredClone(coreFile('0.28.2').nodes) as Record<
      string,
      { input: { required: Record<string, unknown[]> } }
    >;
    (nodes.EmptyImage.input.required.width[1] as { max: number }).max = 32;
    (nodes.CheckpointLoaderSimple.input.required.ckpt_name[0] as string[]).push('tiny.safetensors');
    const routes: Record<string, unknown> = {
      '/object_info': nodes,
      '/system_stats': { system: { comfyui_version: release } },
      '/models': ['checkpoints'],
      '/models/checkpoints': ['tiny.safetensors'],
      '/node_replacements': { ImageBatch: [{ new_node_id: 'BatchImagesNode', old_node_id: 'ImageBatch' }] },
    };
    return serveJson(routes);
  }

  test('the dump is written whole, marked core with its release, and the app is checked against it instead of the closest snapshot', async () => {
    const { url, server } = await serveRelease('0.45.2');
    const file = path.join(tempDir(), 'comfyui-0.45.2.json');
    try {
      const result = await runCliIn(ROOT, ['schemas', 'dump', '--url', url, '--core', '--out', file]);
      expect([result.code, result.err, result.out]).toEqual([
        0,
        '',
        `Wrote 807 class(es) of ComfyUI 0.45.2 of ${url} to ${file}.\n`,
      ]);
    } finally {
      server.close();
    }
    const dumped = JSON.parse(readFileSync(file, 'utf8'));
    expect([dumped.comfyui, dumped.core, Object.keys(dumped.nodeReplacements)]).toEqual([
      '0.45.2',
      true,
      ['ImageBatch'],
    ]);
    expect(dumped.modelInputs.CheckpointLoaderSimple).toEqual({ ckpt_name: 'checkpoints' });
    expect(dumped.nodes.CheckpointLoaderSimple.input.required.ckpt_name[0]).toEqual([]);

    // Without the dump: the closest snapshot (0.28.2), with a note; EmptyImage width 64 passes there.
    const closest = demoStack({ app: { comfyVersion: '0.45.2' } });
    const plain = closest.project.synth();
    expect(plain.warnings.filter((w) => w.id === 'node-schemas-version').map((w) => w.message)).toEqual([
      expect.stringContaining(
        'checked against the node schemas of ComfyUI 0.28.2, the snapshot closest to its comfyVersion 0.45.2',
      ),
    ]);
    expect(closest.app.schemaSource).toEqual({ comfyVersion: '0.28.2', source: 'closest snapshot' });

    // With it: the dump's own entries (width ≤ 32), no note, and the manifest says so.
    const { project, app } = demoStack({ app: { comfyVersion: '0.45.2', nodeSchemas: file } });
    expect(app.schemas.get('EmptyImage')?.byName.get('width')?.max).toBe(32);
    expect(problemsOf(() => project.synth()).join('\n')).toMatch(
      /workflows\/tiny\.json node 1 \(EmptyImage\) input width: field 'width' has max 4096, expected at most 32 \(ComfyUI's max\)/,
    );
    expect(app.schemaSource).toEqual({ comfyVersion: '0.45.2', source: `whole dump ${file}` });

    // A dump of another release than the app runs is refused, naming both.
    const other = demoStack({ app: { comfyVersion: '0.46.0', nodeSchemas: file } });
    expect(problemsOf(() => other.project.synth())).toContain(
      `[test/demo] nodeSchemas: got a whole dump of ComfyUI 0.45.2, expected one of the app's comfyVersion 0.46.0 — dump the ComfyUI the app runs (modal-cdk schemas dump --url <its URL> --core), or set comfyVersion to the dump's release`,
    );
  });
});
