import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_MARKER, writeAssembly } from '../lib/synth/write';
import { FIXTURES, ROOT, runCliIn, tempDir } from './helpers';

/** A project of its own in a temporary directory: cdk-like.json, bin/stack.ts and workflows/tiny.json. */
function userProject(config: Record<string, unknown> = {}): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'workflows'));
  copyFileSync(path.join(FIXTURES, 'workflows', 'tiny.json'), path.join(dir, 'workflows', 'tiny.json'));
  writeFileSync(
    path.join(dir, 'bin', 'stack.ts'),
    `import * as path from 'node:path';
import { ComfyApp, Endpoint, ModalProject, Workflow } from ${JSON.stringify(path.join(ROOT, 'constructs'))};
import { tinyCheckpoint } from ${JSON.stringify(path.join(ROOT, 'test', 'helpers'))};
export default () => {
  const project = new ModalProject(undefined, 'mine', { workspace: 'acme', root: path.join(__dirname, '..'), requiresProxyAuth: true });
  const app = new ComfyApp(project, 'one', { gpu: 'L40S', timeout: '2m' });
  tinyCheckpoint(app);
  new Endpoint(app, 'Draw', { path: '/draw', workflow: Workflow.fromFile('workflows/tiny.json'), timeout: '1m', inputs: {} });
  return project;
};
`,
  );
  writeFileSync(path.join(dir, 'cdk-like.json'), JSON.stringify({ app: 'ts-node --swc bin/stack.ts', ...config }));
  writeFileSync(path.join(dir, 'package.json'), '{"name":"mine"}\n');
  return dir;
}

const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe('synth never deletes what it did not write', () => {
  test('a fresh output directory gets the marker beside the assembly; synthesizing again replaces it', async () => {
    const dir = userProject();
    expect(await runCliIn(dir, ['synth', '-q'])).toMatchObject({ code: 0, err: '' });
    expect(readFileSync(path.join(dir, 'synth.out', OUTPUT_MARKER), 'utf8')).toMatch(/Written by modal-cdk synth/);
    writeFileSync(path.join(dir, 'synth.out', 'stale.txt'), 'left by an older synth\n');
    expect(await runCliIn(dir, ['synth', '-q'])).toMatchObject({ code: 0 });
    expect(existsSync(path.join(dir, 'synth.out', 'stale.txt'))).toBe(false);
  }, 30_000);

  test.each([
    [
      "-o into a folder of the user's files",
      (dir: string) => {
        mkdirSync(path.join(dir, 'notes'));
        writeFileSync(path.join(dir, 'notes', 'todo.md'), 'mine\n');
        return ['-o', 'notes'];
      },
      /\[output directory\] got "notes", a directory that holds files synth did not write \(todo\.md\)/,
    ],
    [
      '-o . (the project itself)',
      () => ['-o', '.'],
      /\[output directory\] got "\.", which is the project's own directory/,
    ],
    ["-o .. (the project's parent)", () => ['-o', '..'], /\[output directory\] got "\.\.", which holds the project/],
    [
      "-o workflows (the stack's sources)",
      () => ['-o', 'workflows'],
      /\[output directory\] got "workflows", which holds "workflows\/tiny\.json", a file the stack is built from/,
    ],
    [
      '-o a file',
      (dir: string) => {
        writeFileSync(path.join(dir, 'NOTES'), 'mine\n');
        return ['-o', 'NOTES'];
      },
      /got "NOTES", which is a file, not a directory/,
    ],
  ])(
    '%s is refused, naming the path, and nothing is touched',
    async (_, arrange, message) => {
      const dir = userProject();
      const args = arrange(dir);
      const before = listing(dir);
      const result = await runCliIn(dir, ['synth', ...args]);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(message);
      expect(result.err).not.toMatch(/\n\s+at /); // no stack trace
      expect(listing(dir)).toEqual(before);
    },
    30_000,
  );

  test('"output": "." in cdk-like.json is refused and the project survives', async () => {
    const dir = userProject({ output: '.' });
    const before = listing(dir);
    const result = await runCliIn(dir, ['synth']);
    expect(result).toMatchObject({
      code: 1,
      err: expect.stringMatching(
        /which is the project's own directory: synth replaces its output directory whole and would delete the project/,
      ),
    });
    expect(listing(dir)).toEqual(before);
  }, 30_000);

  test("an output written before the marker existed (manifest + deploy plan) is still synth's own", async () => {
    const dir = userProject();
    mkdirSync(path.join(dir, 'synth.out'));
    writeFileSync(path.join(dir, 'synth.out', 'manifest.json'), '{"version":1,"apps":[]}\n');
    writeFileSync(path.join(dir, 'synth.out', 'deploy-plan.json'), '{"steps":[]}\n');
    expect(await runCliIn(dir, ['synth', '-q'])).toMatchObject({ code: 0, err: '' });
    expect(existsSync(path.join(dir, 'synth.out', OUTPUT_MARKER))).toBe(true);
  }, 30_000);

  test('an empty existing directory is taken', () => {
    const out = path.join(tempDir(), 'empty');
    mkdirSync(out);
    writeAssembly(out, new Map([['manifest.json', '{}\n']]), { protect: [], sources: [] });
    expect(listing(out)).toEqual([OUTPUT_MARKER, 'manifest.json']);
  });
});
