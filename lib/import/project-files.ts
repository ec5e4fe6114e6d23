import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_LABEL_MAX, webHostLabel } from '../clients/web-url';
import { ENTRY_MARKER, functionName } from './render';

// Where import puts an app in a project: its default id, and the lines that add it to the entry file.

/** The entry file's new text with the app added at init's marker, or the two lines to add by hand. */
export function wireEntry(
  root: string,
  app: string,
  outFile: string,
  fn: string,
): { file: string; text?: string; added?: string; manual?: string } | undefined {
  const entry = entryFile(app);
  const rel = path.posix.relative(path.posix.dirname(entry ?? 'bin/app.ts'), outFile.replace(/\.ts$/, ''));
  const importLine = `import { ${fn} } from '${rel.startsWith('.') ? rel : `./${rel}`}';`;
  const manual = `add to ${entry ?? `the file cdk-like.json's "app" runs`}:\n    ${importLine}\n    ${fn}(project);   (where the project is built, before it is returned)`;
  if (!entry || !existsSync(path.join(root, entry))) return { file: entry ?? '', manual };
  const text = readFileSync(path.join(root, entry), 'utf8');
  if (text.includes(importLine)) return undefined;
  const lines = text.split('\n');
  const lastImport = lines.reduce((last, l, i) => (/^import .*;\s*$/.test(l) ? i : last), -1);
  const called = lastImport < 0 ? undefined : aboveMarker(text, ENTRY_MARKER, (indent) => `${indent}${fn}(project);\n`);
  if (called === undefined) return { file: entry, manual };
  const withImport = called.split('\n');
  withImport.splice(lastImport + 1, 0, importLine);
  return { file: entry, text: withImport.join('\n'), added: `${importLine}\n…\n  ${fn}(project);\n` };
}

/**
 * `text` with `insert(indent)` put just above the line that holds only `marker` (an import line: init
 * writes one in the entry, import one in each app file), or undefined when no line does. `insert` gets
 * the marker's indent and returns whole lines, each ending in a newline.
 */
export function aboveMarker(text: string, marker: string, insert: (indent: string) => string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === marker);
  if (at < 0) return undefined;
  lines.splice(at, 0, insert(/^[ \t]*/.exec(lines[at])![0]).replace(/\n$/, ''));
  return lines.join('\n');
}

/**
 * The file's name as an app id (`flux_dev.json` → `flux-dev`), cut at a "-" where needed so that the app's
 * web host label (`<workspace>--<project>-<id>-comfyui-fastapi-app`) fits in a DNS label.
 */
export function defaultAppId(file: string, workspace = 'my-workspace', project = 'app'): string {
  const id =
    path
      .basename(file, path.extname(file))
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'app';
  const budget = appIdBudget(workspace, project);
  if (id.length <= budget) return id;
  const cut = id.slice(0, budget + 1);
  return (cut.lastIndexOf('-') >= 4 ? cut.slice(0, cut.lastIndexOf('-')) : cut.slice(0, budget)).replace(/-+$/, '');
}

/** The longest app id whose web host label (`<workspace>--<project>-<id>-comfyui-fastapi-app`) fits a DNS label. */
export function appIdBudget(workspace = 'my-workspace', project = 'app'): number {
  return Math.max(8, DNS_LABEL_MAX - webHostLabel(workspace, `${project}-`).length);
}

/**
 * The default id itself when its app file (`bin/<id>.ts`) is free or already imports this workflow, else
 * the first `<id>-2`, `<id>-3`, … (cut to fit the host label) whose file is: two workflows whose names
 * shorten to the same id each get an app of their own. `changed` says an id other than the default was taken.
 */
export function freeAppId(
  root: string,
  id: string,
  workflowFile: string,
  budget: number,
): { id: string; changed: boolean } {
  const bin = path.join(root, 'bin');
  // The project's bin/*.ts, read once: file name → text.
  const files = new Map(
    (existsSync(bin) ? readdirSync(bin).filter((f) => f.endsWith('.ts')) : []).map((f) => [
      f,
      readFileSync(path.join(bin, f), 'utf8'),
    ]),
  );
  const mine = (candidate: string) => {
    const text = files.get(`${candidate}.ts`);
    // Taken only by an app file import wrote for other workflows; any other file is the user's: the
    // import stops there (--force, --app, --out), never writes beside it under another id.
    if (text !== undefined)
      return text.includes(`'${workflowFile}'`) || !text.includes('written by `modal-cdk import`');
    // Its function (`addImageQwenImage2512`) must be free too: ids `x-2512` and `x-251-2` share one.
    const fn = `function ${functionName(candidate)}(`;
    return ![...files.values()].some((t) => t.includes(fn));
  };
  if (mine(id)) return { id, changed: false };
  for (let n = 2; n < 100; n++) {
    const suffix = `-${n}`;
    const candidate = `${id.slice(0, budget - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (mine(candidate)) return { id: candidate, changed: true };
  }
  return { id, changed: false };
}

/** The entry file cdk-like.json's `app` command runs (`ts-node --swc bin/app.ts` → `bin/app.ts`), if it names one. */
export function entryFile(app: string): string | undefined {
  return app.split(/\s+/).find((t) => /\.[cm]?[jt]s$/.test(t));
}
