import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCliIn, tempDir } from './helpers';

const NPM_INIT_Y = {
  name: 'team',
  version: '1.0.0',
  main: 'index.js',
  scripts: { test: 'echo "Error: no test specified" && exit 1' },
  license: 'ISC',
};
const pkgOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

describe('modal-cdk init in a folder that already has things', () => {
  test("npm init -y's placeholder test script is replaced by the project's own", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(NPM_INIT_Y));
    const result = await runCliIn(dir, ['init', '--name', 'team']);
    expect(result.code).toBe(0);
    expect(pkgOf(dir).scripts).toMatchObject({ test: 'tsc -p . && jest --ci', synth: 'modal-cdk synth' });
    expect(result.out).not.toMatch(/script "test"/);
  });

  test("scripts of the user's own that modal-cdk would set are kept and reported", async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'team', scripts: { test: 'vitest', deploy: './deploy.sh', lint: 'eslint .' } }),
    );
    const result = await runCliIn(dir, ['init', '--name', 'team']);
    expect(result.code).toBe(0);
    expect(pkgOf(dir).scripts).toMatchObject({
      test: 'vitest',
      deploy: './deploy.sh',
      lint: 'eslint .',
      synth: 'modal-cdk synth',
    });
    expect(result.out).toContain(
      'package.json script "test": yours ("vitest") is kept; modal-cdk\'s is "tsc -p . && jest --ci"',
    );
    expect(result.out).toContain(
      'package.json script "deploy": yours ("./deploy.sh") is kept; modal-cdk\'s is "modal-cdk deploy"',
    );
  });

  test.each(['module', 'esm'])('"type": "%s" is refused before anything is written', async (type) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'team', type }));
    const result = await runCliIn(dir, ['init']);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`package.json has "type": "${type}": a modal-cdk project is CommonJS TypeScript`);
    expect(result.err).toContain('nothing was written');
    expect(existsSync(path.join(dir, 'cdk-like.json'))).toBe(false);
    expect(pkgOf(dir)).toEqual({ name: 'team', type });
  });

  test("a fresh git repository's README.md and .gitignore are kept, the .gitignore extended", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'README.md'), '# team\n');
    writeFileSync(path.join(dir, '.gitignore'), '.env\nnode_modules/'); // no final newline, as editors leave it
    const result = await runCliIn(dir, ['init', '--name', 'team']);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('# team\n');
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.env\nnode_modules/\nsynth.out/\n.modal-cdk/\n');
    expect(result.out).toContain('.gitignore: yours is kept, with synth.out/, .modal-cdk/ added');
    expect(existsSync(path.join(dir, 'bin', 'app.ts'))).toBe(true);
  });

  test('a file init writes that is already there still stops it, naming the file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'cdk-like.json'), '{}');
    const result = await runCliIn(dir, ['init']);
    expect(result).toMatchObject({ code: 1, err: expect.stringContaining('cdk-like.json already exists') });
    expect(existsSync(path.join(dir, 'bin'))).toBe(false);
  });
});
