import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { ModalCdkError } from '../errors';

/**
 * The file synth writes into every output directory, so that a later synth knows the directory is its
 * own to replace. It is not part of the assembly (no manifest or hash names it).
 */
export const OUTPUT_MARKER = '.modal-cdk-synth';
const MARKER_TEXT =
  'Written by modal-cdk synth. Every synth replaces this whole directory: keep no files of your own here.\n';

/** What an output directory must not be or hold (`writeAssembly`'s guard). */
export interface OutputGuard {
  /** Directories that must survive a synth: the project root and the working directory. */
  readonly protect: readonly string[];
  /** Files the stack is built from (workflows, node schemas): a directory holding one is never replaced. */
  readonly sources: readonly string[];
  /** How the directory was given, for the message (`synth -o`, cdk-like.json `output`). */
  readonly label?: string;
}

/**
 * Writes the assembly into `outdir`, replacing what was there, so that a reader never sees a mix of
 * two synths: everything is written into a sibling temporary directory first, which then takes the
 * old directory's place by rename. If writing fails, the previous `outdir` is left as it was. When
 * `outdir` already holds exactly these files (the same names, the same bytes, nothing else), it is left
 * untouched: a synth that changed nothing changes no file or modification time.
 *
 * With `guard`, a directory that is not synth's own is refused before anything is written (see
 * `checkOutputDir`), and `OUTPUT_MARKER` is written with the assembly: synth never deletes a file it
 * did not write. With `stageTo`, the files go into that directory instead and `outdir` is not touched:
 * the command that asked commits them later (`moveInto`) or drops them.
 */
export function writeAssembly(
  outdir: string,
  assembly: ReadonlyMap<string, string>,
  guard?: OutputGuard,
  stageTo?: string,
): void {
  const target = path.resolve(outdir);
  if (guard) {
    const problem = checkOutputDir(outdir, guard);
    if (problem) throw new ModalCdkError([{ path: guard.label ?? 'output directory', message: problem }]);
  }
  // The marker goes only into synth outputs (a guarded write); deploy's own copies under .modal-cdk/ need none.
  const files = guard ? new Map(assembly).set(OUTPUT_MARKER, MARKER_TEXT) : assembly;
  if (stageTo) {
    // Checked as `outdir`, written beside it: a command commits it later, or drops it (lib/synth/stage.ts).
    writeTree(path.resolve(stageTo), files);
    return;
  }
  if (holdsExactly(target, files)) return;
  const staging = `${target}.tmp-${process.pid}`;
  writeTree(staging, files);
  replaceDir(target, staging);
}

/**
 * Makes the written directory `staging` take `outdir`'s place, unless `outdir` already holds exactly its
 * files (then `staging` is removed and `outdir` keeps its modification times).
 */
export function moveInto(staging: string, outdir: string, files: ReadonlyMap<string, string>): void {
  const target = path.resolve(outdir);
  if (holdsExactly(target, files)) rmSync(staging, { recursive: true, force: true });
  else replaceDir(target, staging);
}

/** Writes `files` into a new directory `dir` (whatever was there is removed first; on failure, nothing stays). */
function writeTree(dir: string, files: ReadonlyMap<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  try {
    const made = new Set<string>();
    for (const [rel, content] of files) {
      const file = path.join(dir, rel);
      const parent = path.dirname(file);
      if (!made.has(parent)) mkdirSync(parent, { recursive: true });
      made.add(parent);
      writeFileSync(file, content);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** `staging` takes `target`'s place by rename; the old `target`, if any, is removed after. */
function replaceDir(target: string, staging: string): void {
  const previous = `${target}.old-${process.pid}`;
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

/**
 * Why `target` may not be replaced by a synth, or undefined when it may: it must not be a protected
 * directory (the project root, the working directory) or an ancestor of one, must not hold a source of
 * the stack, must be a directory if it exists, and, when not empty, must be a previous synth output
 * (it holds `OUTPUT_MARKER`, or the manifest and deploy plan of a synth from before the marker).
 */
export function checkOutputDir(target: string, guard: OutputGuard): string | undefined {
  const real = realOrResolved(target);
  const relative = (p: string) => path.relative(process.cwd(), p) || '.';
  const fix = 'choose a directory of its own, such as synth.out (cdk-like.json "output" or synth -o)';
  for (const dir of guard.protect) {
    const kept = realOrResolved(dir);
    if (kept === real)
      return `got ${show(target)}, which is the project's own directory: synth replaces its output directory whole and would delete the project — ${fix}`;
    if (isInside(kept, real))
      return `got ${show(target)}, which holds the project (${show(relative(dir))}): synth replaces its output directory whole and would delete it — ${fix}`;
  }
  const source = guard.sources.map(realOrResolved).find((file) => isInside(file, real));
  if (source)
    return `got ${show(target)}, which holds ${show(relative(source))}, a file the stack is built from: synth would delete it — ${fix}`;
  if (!existsSync(real)) return undefined;
  if (!lstatSync(real).isDirectory())
    return `got ${show(target)}, which is a file, not a directory: synth would replace it — ${fix}`;
  const entries = readdirSync(real);
  if (entries.length === 0 || isPreviousOutput(real, entries)) return undefined;
  const some = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
  return `got ${show(target)}, a directory that holds files synth did not write (${some}): synth replaces its output directory whole and would delete them — ${fix}, or empty this one (a synth output carries ${OUTPUT_MARKER})`;
}

function isPreviousOutput(dir: string, entries: string[]): boolean {
  if (entries.includes(OUTPUT_MARKER)) return true;
  // Outputs written before the marker existed: a modal-cdk manifest beside a deploy plan.
  if (!entries.includes('manifest.json') || !entries.includes('deploy-plan.json')) return false;
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    return typeof manifest === 'object' && manifest !== null && 'version' in manifest && Array.isArray(manifest.apps);
  } catch {
    return false;
  }
}

/** Whether `inner` is `outer` or lies below it. */
function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The real path, following links (of the nearest existing ancestor when `p` does not exist yet). */
function realOrResolved(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realOrResolved(parent), path.basename(abs));
  }
}

function show(p: string): string {
  return JSON.stringify(p);
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

/** Relative path → content of every file under `dir` (empty when it does not exist). */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
