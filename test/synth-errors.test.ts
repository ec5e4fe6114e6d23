import { OUTPUT_MARKER } from '../lib/synth/write';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModalCdkError } from '../lib/errors';
import { renderAssembly } from '../lib/synth/render';
import { demoStack, FIXTURES, ROOT, runCliIn, tempDir } from './helpers';

/** A throwaway project dir: cdk-like.json + a stack file whose body is `code`, run through `modal-cdk synth`. */
async function synthStack(code: string, previous?: string): Promise<{ code: number; stderr: string; outdir: string }> {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'workflows'));
  for (const f of ['tiny.json', 'malformed.json'])
    writeFileSync(path.join(dir, 'workflows', f), readFileSync(path.join(FIXTURES, 'workflows', f)));
  writeFileSync(
    path.join(dir, 'cdk-like.json'),
    JSON.stringify({ app: 'ts-node --swc stack.ts', modal: { workspace: 'acme' } }),
  );
  writeFileSync(
    path.join(dir, 'stack.ts'),
    `import { ComfyApp, CustomNode, Endpoint, HfModel, ModalProject, Workflow } from ${JSON.stringify(path.join(ROOT, 'constructs'))};
export default () => {
  const project = new ModalProject(undefined, 'p', { root: __dirname });
  const tiny = Workflow.fromFile('workflows/tiny.json');
  const app = new ComfyApp(project, 'one', { gpu: 'L40S' });
  new HfModel(app, 'Tiny', { repo: 'acme/tiny', file: 'tiny.safetensors', target: 'checkpoints', sizeGb: 0.1 });
  ${code}
  return project;
};\n`,
  );
  const outdir = path.join(dir, 'synth.out');
  if (previous !== undefined) {
    mkdirSync(outdir);
    writeFileSync(path.join(outdir, OUTPUT_MARKER), 'a previous synth\n');
    writeFileSync(path.join(outdir, 'marker.txt'), previous);
  }
  const result = await runCliIn(dir, ['synth', '--quiet']);
  return { code: result.code, stderr: result.err, outdir };
}

const endpoint = (path = '/one', inputs = '{}') =>
  `new Endpoint(app, 'E${path.replace(/\W/g, '')}', { path: '${path}', workflow: tiny, inputs: ${inputs} });`;

describe('synth errors: printed as [construct path] message, exit 1, no stack trace, nothing written', () => {
  test.each([
    [
      'duplicate app id',
      `${endpoint()} new ComfyApp(project, 'one', { gpu: 'T4' });`,
      '[p] duplicate app id "one": p/one already exists — each ComfyApp id must be unique in the project',
    ],
    [
      'duplicate endpoint path',
      `${endpoint('/same')} const two = new ComfyApp(project, 'two', { gpu: 'T4' }); new Endpoint(two, 'E', { path: '/same', workflow: tiny });`,
      '[p] duplicate endpoint path "/same": declared by p/one/Esame and p/two/E',
    ],
    [
      'duplicate construct id',
      `${endpoint()} new HfModel(app, 'M', { repo: 'a/b', file: 'x.safetensors', target: 'loras' }); new HfModel(app, 'M', { repo: 'a/b', file: 'y.safetensors', target: 'loras' });`,
      '[one] duplicate construct id "M" in ComfyApp one: expected each child of a construct to have its own id',
    ],
    [
      'a binding to a node id missing from the workflow',
      endpoint('/one', `{ w: { type: 'int', node: '404', input: 'width' } }`),
      '[p/one/Eone] input \'w\' binds node "404", which workflows/tiny.json lacks',
    ],
    [
      'a binding to an input that node lacks',
      endpoint('/one', `{ w: { type: 'int', node: '1', input: 'depth' } }`),
      '[p/one/Eone] input \'w\' binds node "1" (EmptyImage).depth, an input that node lacks',
    ],
    [
      'malformed workflow JSON',
      `new Endpoint(app, 'E', { path: '/one', workflow: Workflow.fromFile('workflows/malformed.json') });`,
      '[p/one/E] workflow workflows/malformed.json: not valid JSON',
    ],
    [
      'a GPU string Modal does not accept',
      `new ComfyApp(project, 'two', { gpu: 'RTX4090' }); ${endpoint()}`,
      `[p/two] prop 'gpu': got "RTX4090", expected a Modal GPU type: one of T4, L4, A10, L40S`,
    ],
    [
      'a gated model with no HF secret',
      `${endpoint()} new HfModel(app, 'Dev', { repo: 'black-forest-labs/FLUX.1-dev', file: 'flux1-dev.safetensors', target: 'diffusion_models', gated: true });`,
      '[p/one] Dev: gated model black-forest-labs/FLUX.1-dev/flux1-dev.safetensors needs a Hugging Face token, got no huggingfaceSecret — set huggingfaceSecret',
    ],
    [
      'a custom node without a full commit SHA',
      `${endpoint()} new CustomNode(app, 'Node', { repo: 'https://github.com/cubiq/ComfyUI_InstantID', commit: '1ef34ef' });`,
      `[p/one/Node] prop 'commit': got "1ef34ef", expected a full 40-character lower-case commit SHA`,
    ],
  ])('%s', async (_, code, expected) => {
    const result = await synthStack(code, 'previous synth');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).toMatch(/^modal-cdk: \d+ problems? found, nothing was written:\n\[/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readFileSync(path.join(result.outdir, 'marker.txt'), 'utf8')).toBe('previous synth');
    expect(existsSync(path.join(result.outdir, 'manifest.json'))).toBe(false);
  });

  test('a valid stack replaces the previous synth.out/ whole', async () => {
    const result = await synthStack(endpoint(), 'previous synth');
    expect(result.stderr).not.toMatch(/problem|unexpected/); // rule-4 warnings (5m client timeout) may print
    expect(result.code).toBe(0);
    expect(existsSync(path.join(result.outdir, 'marker.txt'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(result.outdir, 'manifest.json'), 'utf8')).apps[0].id).toBe('one');
  });

  test('an add_local_* followed by a build step cannot be rendered', () => {
    const draft = demoStack().app._toSpec();
    // The constructs always put the (uncopied) local files last; a build step after them is the mistake.
    const image = [...draft.spec.image, { kind: 'run' as const, comment: 'late step', commands: ['echo late'] }];
    let error: unknown;
    try {
      renderAssembly({
        project: { name: 'test', workspace: 'acme', environment: 'main' },
        apps: [{ ...draft, spec: { ...draft.spec, image } }],
      });
    } catch (e) {
      error = e;
    }
    expect(ModalCdkError.isModalCdkError(error)).toBe(true);
    expect((error as ModalCdkError).problems).toEqual([
      {
        path: 'test/demo',
        message: expect.stringMatching(
          /^spec field 'image': got "run", image layer 'run' \(late step\) comes after an uncopied add_local_\w+ .*put local files last, or copy them into the image \(copy: true\)$/,
        ),
      },
    ]);
  });

  test('the same order is fine when the local files are copied into the image', () => {
    const draft = demoStack().app._toSpec();
    const image = draft.spec.image.map((l) => (l.kind === 'local' ? { ...l, copy: true } : l));
    image.push({ kind: 'run', comment: 'late step', commands: ['echo late'] });
    const assembly = renderAssembly({
      project: { name: 'test', workspace: 'acme', environment: 'main' },
      apps: [{ ...draft, spec: { ...draft.spec, image } }],
    });
    expect(assembly.files.get('apps/demo/app.py')).toMatch(
      /\.add_local_dir\(HERE \/ "workflows", "\/root\/workflows", copy=True\)\n {4}# late step\n {4}\.run_commands\("echo late"\)/,
    );
  });
});
