import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir } from './helpers';

/**
 * Mistakes in a user's own stack, through the real CLI process: each said in one located line, never as
 * "unexpected error" with our frames.
 */
describe("errors in the user's code are located", () => {
  const CONSTRUCTS = JSON.stringify(path.join(ROOT, 'constructs'));
  const HEAD = `import { ComfyApp, Endpoint, HfModel, ModalProject, Workflow } from ${CONSTRUCTS};\n`;

  function synth(stack: string, opts: { app?: string; args?: string[]; tsconfig?: boolean } = {}) {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: opts.app ?? 'ts-node --swc stack.ts', modal: { workspace: 'acme' } }),
    );
    writeFileSync(path.join(dir, 'stack.ts'), stack);
    if (opts.tsconfig)
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: true, types: [] },
          files: ['stack.ts'],
        }),
      );
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), 'synth', ...(opts.args ?? [])], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { code: run.status, err: run.stderr };
  }

  test("an exception in the stack shows the user's file:line, no frames of ours", () => {
    const stack = `${HEAD}export default function build() {\n  const settings: any = undefined;\n  const project = new ModalProject(undefined, 'p', {});\n  return settings.gpu ? project : project;\n}\n`;
    const { code, err } = synth(stack);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^modal-cdk: 1 problem found, nothing was written:\n\[stack\.ts\] your stack threw while building the tree: TypeError: Cannot read properties of undefined \(reading 'gpu'\)\n {4}at build \(stack\.ts:5:19\)\n$/,
    );
    expect(err).not.toMatch(/unexpected error|\/lib\/|node_modules/);
  }, 30_000);

  test('a missing app file, a file that exports nothing, a builder that returns nothing', () => {
    expect(synth('', { app: 'ts-node --swc stak.ts' }).err).toMatch(
      /\[cdk-like.json app\] got "ts-node --swc stak.ts", whose file stak.ts does not exist in .*: expected the file that builds your stack — fix "app" in cdk-like.json\n$/,
    );
    expect(synth(`${HEAD}const project = 1;\n`).err).toContain(
      '[stack.ts] exports nothing: expected `export default` a ModalProject or a function that returns one',
    );
    expect(synth(`${HEAD}export const build = () => 1;\n`).err).toContain(
      '[stack.ts] exports "build": expected `export default` a ModalProject',
    );
    expect(
      synth(`${HEAD}export default function build() {\n  new ModalProject(undefined, 'p', {});\n}\n`).err,
    ).toContain(
      '[stack.ts] the default export is a function that returned undefined: expected it to return the ModalProject — add `return project` at its end',
    );
  }, 30_000);

  test('a model or endpoint created on the project instead of an app is an error naming it', () => {
    const stack = `${HEAD}export default () => {
  const project = new ModalProject(undefined, 'p', { root: ${JSON.stringify(path.join(ROOT, 'test', 'fixtures', 'comfy'))} });
  const app = new ComfyApp(project, 'one', { gpu: 'L40S' });
  new Endpoint(app, 'Ok', { path: '/ok', workflow: Workflow.fromFile('invert.json') });
  new HfModel(project, 'Lost', { repo: 'a/b', file: 'x.safetensors', target: 'loras' });
  new Endpoint(project, 'Stray', { path: '/stray', workflow: Workflow.fromFile('invert.json') });
  return project;
};\n`;
    const { err } = synth(stack);
    expect(err).toContain(
      "[p/Lost] an HfModel belongs to a ComfyApp, got it on the project: it would be in no app's image or routes — create it with the app as its scope: new HfModel(app, 'Lost', …)",
    );
    expect(err).toContain(
      "[p/Stray] an Endpoint belongs to a ComfyApp, got it on the project: it would be in no app's image or routes — create it with the app as its scope: new Endpoint(app, 'Stray', …)",
    );
  }, 30_000);

  test('synth --typecheck fails on a type error that SWC alone lets through', () => {
    const stack = `${HEAD}export default () => {\n  const project = new ModalProject(undefined, 'p', { root: ${JSON.stringify(path.join(ROOT, 'test', 'fixtures', 'comfy'))} });\n  const app = new ComfyApp(project, 'one', { gpu: 'L40S' });\n  const timeout: number = '1m';\n  new Endpoint(app, 'Ok', { path: '/ok', workflow: Workflow.fromFile('invert.json'), timeout });\n  return project;\n};\n`;
    expect(synth(stack, { tsconfig: true }).code).toBe(0); // SWC strips types: it passes
    const checked = synth(stack, { tsconfig: true, args: ['--typecheck'] });
    expect(checked.code).toBe(1);
    expect(checked.err).toMatch(/stack\.ts\(5,9\): error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(checked.err).toContain('modal-cdk synth --typecheck: type errors found (above), nothing was written');
  }, 60_000);
});
