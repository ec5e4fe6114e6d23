import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, runCliIn, tempDir } from './helpers';

/** CDK habits: `ls`, `-c key=value` context, piping the CLI's output. */
describe('modal-cdk ls and context', () => {
  /** A project whose stack reads context `gpu` and `replicas` (maxContainers). */
  function project(): string {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: 'ts-node --swc stack.ts', modal: { workspace: 'acme' }, context: { gpu: 'L4' } }),
    );
    writeFileSync(
      path.join(dir, 'stack.ts'),
      `import { ComfyApp, Endpoint, ModalProject, Workflow } from ${JSON.stringify(path.join(ROOT, 'constructs'))};
export default () => {
  const project = new ModalProject(undefined, 'p', { root: ${JSON.stringify(path.join(ROOT, 'test', 'fixtures', 'comfy'))} });
  const app = new ComfyApp(project, 'one', { gpu: project.node.tryGetContext('gpu'), maxContainers: project.node.tryGetContext('replicas') ?? 1 });
  new Endpoint(app, 'Invert', { path: '/invert', workflow: Workflow.fromFile('invert.json'), timeout: '1m' });
  return project;
};\n`,
    );
    return dir;
  }

  test('ls lists apps and endpoints; --json gives the same as data', async () => {
    const dir = project();
    const text = await runCliIn(dir, ['ls']);
    expect(text).toMatchObject({
      code: 0,
      out: 'one  p-one  L4  timeout 5m\n  /invert  png  timeout 1m, clients wait 1m\n',
    });
    const json = await runCliIn(dir, ['ls', '--json']);
    expect(JSON.parse(json.out)).toEqual([
      {
        id: 'one',
        modalName: 'p-one',
        gpu: 'L4',
        timeout: '5m',
        endpoints: [{ path: '/invert', output: 'png', timeout: '1m', clientTimeout: '1m' }],
      },
    ]);
    expect((await runCliIn(dir, ['ls', '--help'])).out).toMatch(/^Usage: modal-cdk ls \[--json\]/);
  });

  test('-c key=value overrides cdk-like.json context; JSON values are parsed', async () => {
    const dir = project();
    const json = await runCliIn(dir, ['ls', '--json', '-c', 'gpu=H100', '-c', 'replicas=3']);
    expect(JSON.parse(json.out)[0].gpu).toBe('H100');
    const synth = await runCliIn(dir, ['synth', '-q', '-c', 'replicas=3']);
    expect(synth.code).toBe(0);
    expect(require(path.join(dir, 'synth.out', 'manifest.json')).apps[0].maxContainers).toBe(3);
    expect(await runCliIn(dir, ['synth', '-c', 'oops'])).toMatchObject({
      code: 2,
      err: 'modal-cdk synth: --context: got "oops", expected key=value\n(see modal-cdk synth --help)\n',
    });
  });

  test('a reader that closes the pipe early is not an error', () => {
    // `ls` writes line by line, so `head -1` has closed the pipe before the later writes.
    const run = spawnSync(
      'bash',
      ['-c', `node ${path.join(ROOT, 'bin', 'modal-cdk.js')} ls | head -1; exit \${PIPESTATUS[0]}`],
      { encoding: 'utf8', cwd: ROOT },
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  }, 30_000);
});
