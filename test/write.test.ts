import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeAssembly } from '../lib/synth/write';
import { tempDir } from './helpers';

const files = new Map([
  ['manifest.json', '{"version":1}\n'],
  ['apps/one/app.py', 'import modal\n'],
  ['apps/one/runtime/a.py', 'A = 1\n'],
]);

describe('writeAssembly', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = path.join(tempDir(), 'synth.out');
    writeAssembly(outdir, files);
  });
  const identity = (rel: string) => {
    const s = statSync(path.join(outdir, rel));
    return `${s.ino}:${s.mtimeMs}`;
  };

  test('writes every file, and no staging or previous directory is left beside it', () => {
    for (const [rel, content] of files) expect(readFileSync(path.join(outdir, rel), 'utf8')).toBe(content);
    expect(existsSync(`${outdir}.tmp-${process.pid}`) || existsSync(`${outdir}.old-${process.pid}`)).toBe(false);
  });

  test('the same files again: the directory and each file are left untouched', () => {
    const before = ['.', ...files.keys()].map(identity);
    writeAssembly(outdir, new Map(files));
    expect(['.', ...files.keys()].map(identity)).toEqual(before);
  });

  test.each([
    ['a file edited by hand', () => writeFileSync(path.join(outdir, 'apps/one/app.py'), 'import modal  # edited\n')],
    ['a file removed', () => rmSync(path.join(outdir, 'apps/one/runtime/a.py'))],
    ['a file added', () => writeFileSync(path.join(outdir, 'apps/one/extra.py'), 'x = 1\n')],
    [
      'a file added in place of a removed one',
      () => {
        rmSync(path.join(outdir, 'manifest.json'));
        writeFileSync(path.join(outdir, 'other.json'), '{}\n');
      },
    ],
  ])('%s: the whole directory is replaced by the assembly', (_, change) => {
    change();
    const before = identity('.');
    writeAssembly(outdir, files);
    expect(identity('.')).not.toBe(before);
    for (const [rel, content] of files) expect(readFileSync(path.join(outdir, rel), 'utf8')).toBe(content);
    expect(existsSync(path.join(outdir, 'apps/one/extra.py')) || existsSync(path.join(outdir, 'other.json'))).toBe(
      false,
    );
  });
});
