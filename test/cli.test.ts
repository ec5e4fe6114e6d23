import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { inProcessAppFile } from '../lib/cli/synthesize';
import { ROOT, runCliIn, tempDir } from './helpers';

const cli = (args: string[], cwd = ROOT) => runCliIn(cwd, args);

describe('modal-cdk CLI', () => {
  test('--help lists the commands and exit codes', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Commands:\n\s+synth\s/);
    expect(result.out).toMatch(/modal-cdk synth --help/);
    expect(result.out).toMatch(/Exit codes: 0 success, 1 .*, 2 usage error/);
  });

  test('no command prints help and exits 2; an unknown command or option exits 2', async () => {
    expect((await cli([])).code).toBe(2);
    expect(await cli(['deploy-all'])).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        'unknown command "deploy-all": expected one of synth, deploy, diff, verify, status, logs, models, rollback, promote, scale, destroy, schemas, serve, workflow, init, import, ls, help',
      ),
    });
    expect(await cli(['synth', '--outptu', 'x'])).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        'modal-cdk synth: unknown option --outptu: did you mean --output? (this command takes --output, --quiet, --help, --strict, --context, --typecheck)',
      ),
    });
  });

  test.each([
    [
      { app: 'ts-node bin/example.ts', colour: 'blue' },
      "[cdk-like.json] unknown key 'colour': remove it or check the spelling",
    ],
    [{ app: 'ts-node bin/example.ts', deploy: { concurrency: 0 } }, "[cdk-like.json] key 'deploy.concurrency': got 0"],
    [
      { app: 'ts-node bin/example.ts', modal: { workspace: 'Has Space' } },
      '[cdk-like.json] key \'modal.workspace\': got "Has Space", expected a Modal workspace name',
    ],
    [{}, "[cdk-like.json] key 'app': got nothing"],
  ])('cdk-like.json %j is rejected with the key and value', async (config, message) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'cdk-like.json'), JSON.stringify(config));
    const result = await cli(['synth'], dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain(message);
  });

  test("synth --help shows synth's own usage and options", async () => {
    const result = await cli(['synth', '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^Usage: modal-cdk synth \[options\]\n/);
    expect(result.out).toMatch(/-o, --output <dir>/);
    expect(result.out).not.toMatch(/Commands:/);
  });

  test("one argument rule: a negative number reaches the command's own check; a value left out names its option", async () => {
    expect(await cli(['deploy', '--all', '--concurrency', '-2'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--concurrency: got "-2"'),
    });
    expect(await cli(['verify', '--all', '--timeout', '0'])).toMatchObject({ code: 2 });
    expect(await cli(['synth', '-o'])).toMatchObject({
      code: 2,
      err: 'modal-cdk synth: --output: expected a value after it\n(see modal-cdk synth --help)\n',
    });
    expect(await cli(['synth', '--quiet=yes'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--quiet: takes no value (it is a switch)'),
    });
    expect(await cli(['status', 'extra'])).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        'unexpected argument "extra": this command takes only options (--env, --json, --help)',
      ),
    });
    expect(await cli(['workflow'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('expected a sub-command, convert or check, got nothing'),
    });
  });

  test('an unknown -c key is set, with a warning naming the keys cdk-like.json has', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({
        app: `ts-node --swc ${path.join(ROOT, 'test', 'fixtures', 'clients-stack.ts')}`,
        context: { replicas: 1 },
      }),
    );
    const result = await cli(['synth', '-q', '-c', 'replcas=3', '-c', 'replicas=2'], dir);
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      "modal-cdk: warning: -c replcas: not a key of cdk-like.json's context; cdk-like.json's context has replicas (did you mean replicas?) — it is set all the same; a stack reads it only with node.tryGetContext('replcas')\n",
    );
  }, 30_000);

  test('a missing cdk-like.json says to run from the project root', async () => {
    expect((await cli(['synth'], tempDir())).err).toMatch(
      /\[cdk-like.json\] not found in .*: run modal-cdk from the project root/,
    );
  });

  test('the app command: ts-node/node on a file is loaded in-process', () => {
    expect(inProcessAppFile('ts-node --swc bin/app.ts')).toBe('bin/app.ts');
    expect(inProcessAppFile('node dist/app.js')).toBe('dist/app.js');
    expect(inProcessAppFile('npx ts-node bin/x.ts')).toBe('bin/x.ts');
    expect(inProcessAppFile('python gen.py')).toBeUndefined();
  });

  test('any other app command runs as a child process that writes $MODAL_CDK_OUTDIR', async () => {
    const dir = tempDir();
    const stack = path.join(dir, 'stack.ts');
    writeFileSync(
      stack,
      readFileSync(path.join(ROOT, 'bin', 'example.ts'), 'utf8')
        .replace(/'\.\.\//g, `'${ROOT}/`)
        .replace("path.join(__dirname, '..')", JSON.stringify(ROOT)),
    );
    const tsNode = path.join(ROOT, 'node_modules', '.bin', 'ts-node');
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: `MODAL_CDK_X=1 ${tsNode} --swc ${stack}`, modal: { workspace: 'acme' } }),
    );
    const result = await cli(['synth'], dir);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/^Synthesized 2 app\(s\), 3 endpoint\(s\), \d+ files to synth.out\/ in \d+ ms\n$/);
    expect(JSON.parse(readFileSync(path.join(dir, 'synth.out', 'manifest.json'), 'utf8')).project.workspace).toBe(
      'acme',
    );
  }, 30_000);

  test('the npm bin runs a whole synth as its own process', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'cdk-like.json'),
      JSON.stringify({ app: `ts-node --swc ${path.join(ROOT, 'test', 'fixtures', 'clients-stack.ts')}` }),
    );
    const out = path.join(dir, 'out');
    const stdout = execFileSync(
      process.execPath,
      [path.join(ROOT, 'bin', 'modal-cdk.js'), 'synth', '--output', 'out'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(stdout).toMatch(/^Synthesized 2 app\(s\), 3 endpoint\(s\), \d+ files to out\/ in \d+ ms\n$/);
    expect(
      JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).apps.map(
        (a: { modalName: string }) => a.modalName,
      ),
    ).toEqual(['cli-images', 'cli-frames']);
    const failing = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), 'nope'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(failing.status).toBe(2);
  }, 30_000);
});
