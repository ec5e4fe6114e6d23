import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ComfyApp, CustomNode } from '../constructs';
import { huggingFaceFile } from '../lib/import/models';
import { pascalId, tsString, tsValue } from '../lib/import/ts-code';
import { ROOT, runCliIn, tempDir, testProject } from './helpers';

import { CKPT_URL, CUSTOM_NODES, CUSTOM_SCHEMAS, project, read, SHA, squashed, uiWorkflow } from './import-fixtures';

describe('modal-cdk import: from a workflow to a stack that synthesizes', () => {
  test("writes the app, copies the workflow, adds the app to init's entry; synth then passes", async () => {
    const { dir, file } = await project(uiWorkflow());
    const result = await runCliIn(dir, ['import', file]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('Imported workflows/txt2img.json as app "txt2img", endpoint /txt2img (answers png).');
    expect(read(dir, 'workflows/txt2img.json')).toBe(readFileSync(file, 'utf8'));
    const app = read(dir, 'bin/txt2img.ts');
    expect(app).toContain("import { ComfyApp, Endpoint, HfModel, type ModalProject, Workflow } from 'modal-cdk';");
    expect(app).toContain(
      "new HfModel(app, 'SdXlTurbo10Fp16', {\n    repo: 'stabilityai/sdxl-turbo',\n    file: 'sd_xl_turbo_1.0_fp16.safetensors',\n    revision: 'main',\n    target: 'checkpoints',\n  });",
    );
    // The prompt and negative prompt by the conditioning path, not by title; the sampler's and latent's settings.
    expect(app).toContain(
      "prompt: { type: 'string', node: '6', input: 'text', minLength: 1, description: 'What to generate' },",
    );
    expect(app).toMatch(/negative_prompt: \{\s+type: 'string',\s+node: '7',\s+input: 'text',\s+default: 'blurry',/);
    expect(squashed(app)).toContain("seed: { type: 'seed', node: '3', input: 'seed', description:");
    expect(squashed(app)).toContain("steps: { type: 'int', node: '3', input: 'steps', default: 4, min: 1, max: 10000,");
    expect(squashed(app)).toContain(
      "width: { type: 'int', node: '5', input: 'width', default: 512, min: 16, max: 16384,",
    );
    expect(app).not.toContain('denoise'); // 1: the whole image is drawn, no field
    const main = read(dir, 'bin/app.ts');
    expect(main).toContain("import { addTxt2img } from './txt2img';");
    expect(main).toMatch(
      / {2}addTxt2img\(project\);\n {2}\/\/ modal-cdk import adds apps above this line\n {2}return project;/,
    );
    expect(result.out).toMatch(/prompt +string +6\.text +required/);

    const synth = await runCliIn(dir, ['synth']);
    expect(synth.code).toBe(0);
    expect(synth.out).toContain('Synthesized 2 app(s), 2 endpoint(s)');
    // The only warning: the editor's URL names a branch.
    expect(synth.err.split('\n').filter((l) => l.includes('warning'))).toEqual([
      expect.stringContaining(
        '[team/txt2img/SdXlTurbo10Fp16] stabilityai/sdxl-turbo/sd_xl_turbo_1.0_fp16.safetensors: revision "main"',
      ),
    ]);
    const manifest = JSON.parse(read(dir, 'synth.out/manifest.json'));
    const endpoint = manifest.apps.find((a: { id: string }) => a.id === 'txt2img').endpoints[0];
    expect(endpoint.fields.map((f: { name: string }) => f.name)).toEqual([
      'prompt',
      'negative_prompt',
      'seed',
      'steps',
      'cfg',
      'width',
      'height',
    ]);
  });

  test('the code is stable, formatted as Biome formats it, and compiles under tsc --strict', async () => {
    const { dir, file } = await project(uiWorkflow({ extra: CUSTOM_NODES }));
    writeFileSync(path.join(dir, 'nodes.json'), JSON.stringify(CUSTOM_SCHEMAS));
    const args = ['import', file, '--custom-nodes', 'nodes.json'];
    expect((await runCliIn(dir, args)).code).toBe(0);
    const first = read(dir, 'bin/txt2img.ts');
    expect((await runCliIn(dir, [...args, '--force'])).code).toBe(0);
    expect(read(dir, 'bin/txt2img.ts')).toBe(first);
    const biome = path.join(ROOT, 'node_modules', '.bin', 'biome');
    const formatted = execFileSync(biome, ['format', '--stdin-file-path=app.ts', `--config-path=${ROOT}`], {
      input: first,
      encoding: 'utf8',
    });
    expect(formatted).toBe(first);
    // tsc --strict over the entry and the app, `modal-cdk` mapped to this checkout's constructs.
    writeFileSync(
      path.join(dir, 'tsconfig.strict.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node',
          esModuleInterop: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          baseUrl: '.',
          paths: { 'modal-cdk': [path.join(ROOT, 'constructs')] },
        },
        files: ['bin/app.ts', 'bin/txt2img.ts'],
      }),
    );
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.strict.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
  }, 60_000);

  test('a loader whose file has no models entry is a TODO naming its folder, and synth names it', async () => {
    const { dir, file } = await project(uiWorkflow({ models: [] }));
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      'model models/checkpoints/sd_xl_turbo_1.0_fp16.safetensors: the workflow has no models entry',
    );
    const app = read(dir, 'bin/txt2img.ts');
    expect(app).toContain(
      '// TODO: models/checkpoints/sd_xl_turbo_1.0_fp16.safetensors (node 4 CheckpointLoaderSimple.ckpt_name)',
    );
    expect(app).not.toMatch(/^ +new HfModel/m);
    expect(app).not.toContain('HfModel,'); // not imported when only a TODO names it
    const synth = await runCliIn(dir, ['synth']);
    expect(synth.code).toBe(1);
    expect(synth.err).toMatch(
      /node 4 \(CheckpointLoaderSimple\) input ckpt_name: got "sd_xl_turbo_1.0_fp16.safetensors", expected a file of models\/checkpoints/,
    );
  });

  test('custom nodes: cnr_id + release → CustomNode.registry; aux_id → TODO, or CustomNode.git at the --comfy-dir HEAD', async () => {
    const { dir, file } = await project(uiWorkflow({ extra: CUSTOM_NODES }));
    writeFileSync(path.join(dir, 'object_info.json'), JSON.stringify(CUSTOM_SCHEMAS)); // a raw /object_info dump
    const result = await runCliIn(dir, ['import', file, '--custom-nodes', 'object_info.json']);
    expect(result.code).toBe(0);
    const app = read(dir, 'bin/txt2img.ts');
    expect(squashed(app)).toContain(
      "CustomNode.registry(app, 'ComfyuiFakepack', 'comfyui-fakepack', '1.2.3', { nodeSchemas: 'bin/nodes/comfyui-fakepack.json' });",
    );
    expect(app).toContain('// TODO: ThingNode: the workflow gives the pack someone/ComfyUI-Thing no version');
    expect(JSON.parse(read(dir, 'bin/nodes/comfyui-fakepack.json')).nodes).toEqual({
      FakeNote: CUSTOM_SCHEMAS.FakeNote,
    });
    expect(JSON.parse(read(dir, 'bin/nodes/ComfyUI-Thing.json')).nodes).toEqual({
      ThingNode: CUSTOM_SCHEMAS.ThingNode,
    });

    // The same with the user's ComfyUI folder, where the pack is a git checkout.
    const comfy = tempDir();
    const pack = path.join(comfy, 'custom_nodes', 'ComfyUI-Thing');
    mkdirSync(pack, { recursive: true });
    const git = (...a: string[]) => execFileSync('git', ['-C', pack, ...a], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('remote', 'add', 'origin', 'https://github.com/someone/ComfyUI-Thing.git');
    writeFileSync(path.join(pack, '__init__.py'), '');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'x');
    const head = git('rev-parse', 'HEAD');
    const pinned = await runCliIn(dir, [
      'import',
      file,
      '--custom-nodes',
      'object_info.json',
      '--comfy-dir',
      comfy,
      '--force',
    ]);
    expect(pinned.code).toBe(0);
    expect(squashed(read(dir, 'bin/txt2img.ts'))).toContain(
      `CustomNode.git(app, 'ComfyUIThing', 'https://github.com/someone/ComfyUI-Thing', '${head}', { nodeSchemas: 'bin/nodes/ComfyUI-Thing.json' });`,
    );
    expect(pinned.out).toContain(
      `git https://github.com/someone/ComfyUI-Thing @ ${head.slice(0, 12)} (from custom_nodes/ComfyUI-Thing (git HEAD)): ThingNode`,
    );
    expect((await runCliIn(dir, ['synth'])).code).toBe(0);
  });

  test('a pack whose ver is a full commit SHA is pinned from the workflow itself', async () => {
    const nodes = [{ ...CUSTOM_NODES[1], properties: { aux_id: 'someone/ComfyUI-Thing', ver: SHA } }];
    const { dir, file } = await project(uiWorkflow({ extra: nodes }));
    writeFileSync(path.join(dir, 'nodes.json'), JSON.stringify({ nodes: { ThingNode: CUSTOM_SCHEMAS.ThingNode } }));
    expect((await runCliIn(dir, ['import', file, '--custom-nodes', 'nodes.json'])).code).toBe(0);
    expect(squashed(read(dir, 'bin/txt2img.ts'))).toContain(
      `CustomNode.git(app, 'ComfyUIThing', 'https://github.com/someone/ComfyUI-Thing', '${SHA}', {`,
    );
  });

  test('classes no schema describes stop the import, naming them, their packs and how to dump them', async () => {
    const { dir, file } = await project(uiWorkflow({ extra: CUSTOM_NODES }));
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'no node schemas for FakeNote (pack comfyui-fakepack 1.2.3), ThingNode (pack someone/ComfyUI-Thing)',
    );
    expect(result.err).toContain('curl http://127.0.0.1:8188/object_info > object_info.json');
    expect(existsSync(path.join(dir, 'bin/txt2img.ts'))).toBe(false);
    expect(existsSync(path.join(dir, 'workflows/txt2img.json'))).toBe(false);
  });

  test('never overwrites a file without --force; --dry-run writes nothing', async () => {
    const { dir, file } = await project(uiWorkflow());
    const dry = await runCliIn(dir, ['import', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('--- would write bin/txt2img.ts:\n/**');
    expect(dry.out).toContain("--- would add the app to bin/app.ts:\nimport { addTxt2img } from './txt2img';");
    expect(existsSync(path.join(dir, 'bin/txt2img.ts'))).toBe(false);
    expect(read(dir, 'bin/app.ts')).not.toContain('addTxt2img');

    writeFileSync(path.join(dir, 'bin', 'txt2img.ts'), '// my own file\n');
    const refused = await runCliIn(dir, ['import', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('bin/txt2img.ts is already there (and differs): pass --force to replace it');
    expect(read(dir, 'bin/txt2img.ts')).toBe('// my own file\n');
    expect(existsSync(path.join(dir, 'workflows/txt2img.json'))).toBe(false); // nothing at all
    const forced = await runCliIn(dir, ['import', file, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('replaced bin/txt2img.ts');
  });

  test('a second workflow with the same --app is added to the app file import wrote, its models not repeated', async () => {
    const { dir, file } = await project(uiWorkflow());
    expect((await runCliIn(dir, ['import', file])).code).toBe(0);
    const second = path.join(dir, 'in', 'txt2img-hd.json');
    writeFileSync(second, JSON.stringify(uiWorkflow()));
    const result = await runCliIn(dir, ['import', second, '--app', 'txt2img', '--path', '/txt2img-hd']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('added the endpoint to bin/txt2img.ts');
    const app = read(dir, 'bin/txt2img.ts');
    expect(app.match(/new HfModel/g)).toHaveLength(1);
    expect(app).toContain("new Endpoint(app, 'Txt2imgHd', {");
    expect(read(dir, 'bin/app.ts').match(/addTxt2img\(project\)/g)).toHaveLength(1);
    const synth = await runCliIn(dir, ['synth']);
    expect(synth.code).toBe(0);
    expect(synth.out).toContain('Synthesized 2 app(s), 3 endpoint(s)');
  });

  test("an entry file without init's line is left alone: the two lines to add are printed", async () => {
    const { dir, file } = await project(uiWorkflow());
    const own = read(dir, 'bin/app.ts').replace('  // modal-cdk import adds apps above this line\n', '');
    writeFileSync(path.join(dir, 'bin/app.ts'), own);
    const result = await runCliIn(dir, ['import', file]);
    expect(result.code).toBe(0);
    expect(read(dir, 'bin/app.ts')).toBe(own);
    expect(result.out).toContain(
      "To build the app with the project, add to bin/app.ts:\n    import { addTxt2img } from './txt2img';\n    addTxt2img(project);",
    );
  });

  test('--comfy-version checks against that release and pins the app to it; a bad one is a usage error', async () => {
    const { dir, file } = await project(uiWorkflow());
    const result = await runCliIn(dir, ['import', file, '--comfy-version', '0.3.75']);
    expect([result.code, result.err]).toEqual([0, '']);
    const code = read(dir, 'bin/txt2img.ts');
    expect(code).toContain(
      "const app = new ComfyApp(project, 'txt2img', {\n    gpu: 'L40S',\n    timeout: '3m',\n    comfyVersion: '0.3.75',\n  });",
    );
    // As Biome formats it (an object it keeps broken over lines).
    const biome = path.join(ROOT, 'node_modules', '.bin', 'biome');
    const args = ['format', '--stdin-file-path=app.ts', `--config-path=${ROOT}`];
    expect(execFileSync(biome, args, { input: code, encoding: 'utf8' })).toBe(code);
    const synth = await runCliIn(dir, ['synth']);
    expect(synth.code).toBe(0);
    const manifest = JSON.parse(read(dir, 'synth.out/manifest.json'));
    expect(manifest.apps.find((a: { id: string }) => a.id === 'txt2img').nodeSchemas).toEqual({
      comfyVersion: '0.3.75',
      source: 'snapshot',
    });
    const bad = await runCliIn(dir, ['import', file, '--comfy-version', 'latest', '--force']);
    expect([bad.code, bad.err.trim()]).toEqual([
      2,
      expect.stringContaining(
        '--comfy-version: got "latest", expected a release x.y.z; node schemas exist for 0.3.67, 0.3.71, 0.3.75, 0.10.0, 0.28.2',
      ),
    ]);
  });

  test('usage errors: no file, a bad --app, outside a project, a file that is no workflow', async () => {
    const { dir, file } = await project(uiWorkflow());
    expect((await runCliIn(dir, ['import'])).code).toBe(2);
    const bad = await runCliIn(dir, ['import', file, '--app', 'Bad_Id']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--app: got "Bad_Id", expected lower-case letters, digits and "-"');
    const outside = await runCliIn(tempDir(), ['import', file]);
    expect(outside.code).toBe(1);
    expect(outside.err).toContain('cdk-like.json');
    writeFileSync(path.join(dir, 'in', 'index.json'), JSON.stringify({ templates: [] }));
    const notOne = await runCliIn(dir, ['import', path.join(dir, 'in', 'index.json')]);
    expect(notOne.code).toBe(1);
    expect(notOne.err).toContain('neither a UI-format workflow');
  });
});

test("the code import writes for the package tier's workflow is the one docs/importing.md shows (a golden file)", async () => {
  // UPDATE_IMPORT_FIXTURE=1 rewrites the golden file after a deliberate change to what import writes.
  const fixture = path.join(ROOT, 'test', 'fixtures', 'import', 'sdxl_turbo_txt2img.json');
  const golden = path.join(ROOT, 'test', 'fixtures', 'import', 'my-workflow.ts.txt');
  const { dir, file } = await project(JSON.parse(readFileSync(fixture, 'utf8')), 'my_workflow.json');
  expect((await runCliIn(dir, ['import', file])).code).toBe(0);
  const written = read(dir, 'bin/my-workflow.ts');
  if (process.env.UPDATE_IMPORT_FIXTURE) writeFileSync(golden, written);
  expect(written).toBe(readFileSync(golden, 'utf8'));
});

describe('the parts import is made of', () => {
  test('the package tier and the README import the same workflow as these tests (test/fixtures/import)', () => {
    const fixture = path.join(ROOT, 'test', 'fixtures', 'import', 'sdxl_turbo_txt2img.json');
    if (process.env.UPDATE_IMPORT_FIXTURE) writeFileSync(fixture, `${JSON.stringify(uiWorkflow(), null, 2)}\n`);
    expect(JSON.parse(readFileSync(fixture, 'utf8'))).toEqual(uiWorkflow());
  });

  test.each([
    [
      CKPT_URL,
      { repo: 'stabilityai/sdxl-turbo', repoType: 'model', revision: 'main', file: 'sd_xl_turbo_1.0_fp16.safetensors' },
    ],
    [
      'https://huggingface.co/datasets/o/d/resolve/abc/sub/dir/f.bin',
      { repo: 'o/d', repoType: 'dataset', revision: 'abc', file: 'sub/dir/f.bin' },
    ],
    [
      'https://huggingface.co/o/r/blob/refs%2Fpr%2F1/a%20b.pt',
      { repo: 'o/r', repoType: 'model', revision: 'refs/pr/1', file: 'a b.pt' },
    ],
    ['https://huggingface.co/spaces/o/r/resolve/main/x.pt', undefined],
    ['https://huggingface.co/o/r', undefined],
    ['https://civitai.com/api/download/models/1', undefined],
  ])('huggingFaceFile(%s)', (url, expected) => {
    expect(huggingFaceFile(new URL(url))).toEqual(expected);
  });

  test('TypeScript literals: quotes as Biome picks them, objects broken only past 120 characters', () => {
    expect(tsString("it's")).toBe('"it\'s"');
    expect(tsString('a "b" \'c\'\n')).toBe("'a \"b\" \\'c\\'\\n'");
    expect(tsValue({ a: 1, b: ['x'] })).toBe("{ a: 1, b: ['x'] }");
    expect(tsValue({ text: 'x'.repeat(120) }, '  ')).toBe(`{\n    text: '${'x'.repeat(120)}',\n  }`);
    expect(pascalId('sd_xl_base_1.0')).toBe('SdXlBase10');
    expect(pascalId('4x-ultrasharp')).toBe('Model4xUltrasharp');
  });

  test('CustomNode.git and CustomNode.registry declare what the props do', () => {
    const app = new ComfyApp(testProject(), 'a', { gpu: 'L4' });
    const git = CustomNode.git(app, 'Git', 'https://github.com/o/ComfyUI-X', SHA, { pipPackages: ['x==1'] });
    const reg = CustomNode.registry(app, 'Reg', 'comfyui-x', '1.2.3');
    expect(git._toSpec()).toMatchObject({
      repo: 'https://github.com/o/ComfyUI-X',
      commit: SHA,
      dir: 'ComfyUI-X',
      pipPackages: ['x==1'],
    });
    expect(reg._toSpec()).toMatchObject({ registryId: 'comfyui-x', version: '1.2.3', repo: null, dir: 'comfyui-x' });
  });
});
