import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Where a project's code declares an app id or an endpoint path: `bin/flux.ts:12`. */
export interface Declared {
  readonly value: string;
  readonly at: string;
  readonly file: string;
}

/**
 * The app ids (`new ComfyApp(scope, 'id', …)`) and endpoint paths (`path: '/x'` in an Endpoint's props)
 * the project's TypeScript declares as literals, with file:line, read from the folder of its entry file
 * and `bin/` (subfolders included, `node_modules` never). Ids or paths the code computes are not seen:
 * synth still refuses a duplicate of those.
 */
export function declaredInProject(root: string, entry: string | undefined): { apps: Declared[]; paths: Declared[] } {
  const dirs = [...new Set([path.dirname(entry ?? 'bin/app.ts'), 'bin'])];
  const apps: Declared[] = [];
  const paths: Declared[] = [];
  for (const file of dirs.flatMap((d) => tsFiles(root, d))) {
    const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const at = `${file}:${i + 1}`;
      for (const m of line.matchAll(/new ComfyApp\(\s*[\w.]+\s*,\s*['"`]([^'"`]+)['"`]/g))
        apps.push({ value: m[1], at, file });
      for (const m of line.matchAll(/\bpath:\s*['"`](\/[^'"`]*)['"`]/g)) paths.push({ value: m[1], at, file });
    });
  }
  return { apps, paths };
}

function tsFiles(root: string, dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) =>
      e.isDirectory()
        ? e.name === 'node_modules' || e.name.startsWith('.')
          ? []
          : tsFiles(root, path.posix.join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
          ? [path.posix.join(dir, e.name)]
          : [],
    );
}

/** What import is about to write, for the checks below. */
export interface ImportTarget {
  readonly root: string;
  /** The entry file import adds the app to (cdk-like.json's `app`), relative to the root. */
  readonly entry: string | undefined;
  readonly appId: string;
  readonly endpointPath: string;
  /** The app file, relative to the root. */
  readonly outFile: string;
  /** The longest app id whose host label fits (appIdBudget) and that label for this id. */
  readonly budget: number;
  readonly hostLabel: string;
}

/**
 * Why import must not write into this project: a usage error (the option is wrong whatever the project
 * holds) or problems (the project already has the id or the path, naming where). Checked before anything
 * is written.
 */
export function targetProblems(t: ImportTarget): { usage?: string; problems: string[] } {
  const out = path.relative(t.root, path.resolve(t.root, t.outFile)).split(path.sep).join('/');
  if (!out.endsWith('.ts'))
    return {
      usage: `--out: got ${JSON.stringify(t.outFile)}, expected a .ts file (the app's code), e.g. bin/${t.appId}.ts`,
      problems: [],
    };
  if (out.startsWith('../') || path.isAbsolute(out))
    return {
      usage: `--out: got ${JSON.stringify(t.outFile)}, outside the project (${t.root}): expected a file under it, e.g. bin/${t.appId}.ts`,
      problems: [],
    };
  if (t.entry && out === path.posix.normalize(t.entry))
    return {
      usage: `--out: got ${JSON.stringify(t.outFile)}, the entry file import adds the app to (cdk-like.json's "app"), which --force would overwrite: expected a file of its own, e.g. bin/${t.appId}.ts`,
      problems: [],
    };
  if (t.appId.length > t.budget)
    return {
      usage: `--app: got ${JSON.stringify(t.appId)} (${t.appId.length} characters): the app's web host label ${t.hostLabel} would be ${t.hostLabel.length} characters, and a DNS label holds 63 — use an id of at most ${t.budget} characters`,
      problems: [],
    };
  const declared = declaredInProject(t.root, t.entry);
  const problems: string[] = [];
  for (const app of declared.apps.filter((a) => a.value === t.appId && a.file !== out))
    problems.push(
      `app id "${t.appId}" is already declared at ${app.at}: pass --app <another id>, or --out ${app.file} to add the endpoint to that app (an app file import wrote)`,
    );
  // The app file itself is import's: replaced with --force, else its own checks name the endpoint it has.
  for (const p of declared.paths.filter((d) => d.value === t.endpointPath && d.file !== out))
    problems.push(
      `endpoint path "${t.endpointPath}" is already declared at ${p.at} (paths are unique in a project): pass --path </another-path>, or --app <id> for a new app`,
    );
  return { problems };
}
