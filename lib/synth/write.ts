import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes the assembly into `outdir`, replacing what was there, so that a reader never sees a mix of
 * two synths: everything is written into a sibling temporary directory first, which then takes the
 * old directory's place by rename. If writing fails, the previous `outdir` is left as it was. When
 * `outdir` already holds exactly these files (the same names, the same bytes, nothing else), it is left
 * untouched: a synth that changed nothing changes no file or modification time.
 */
export function writeAssembly(outdir: string, files: ReadonlyMap<string, string>): void {
  const target = path.resolve(outdir);
  if (holdsExactly(target, files)) return;
  const staging = `${target}.tmp-${process.pid}`;
  const previous = `${target}.old-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const made = new Set<string>();
    for (const [rel, content] of files) {
      const file = path.join(staging, rel);
      const dir = path.dirname(file);
      if (!made.has(dir)) mkdirSync(dir, { recursive: true });
      made.add(dir);
      writeFileSync(file, content);
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  let moved = false;
  try {
    renameSync(target, previous);
    moved = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  renameSync(staging, target);
  if (moved) rmSync(previous, { recursive: true, force: true });
}

/** Whether `dir` holds these files and no other file (reading is several times cheaper than replacing). */
function holdsExactly(dir: string, files: ReadonlyMap<string, string>): boolean {
  try {
    const found = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => !d.isDirectory());
    if (found.length !== files.size) return false;
    for (const [rel, content] of files) {
      if (readFileSync(path.join(dir, rel), 'utf8') !== content) return false;
    }
    return true;
  } catch {
    return false; // no such directory yet, or a file of the assembly is missing
  }
}
