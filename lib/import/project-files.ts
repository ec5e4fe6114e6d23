import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_LABEL_MAX, webHostLabel } from '../clients/web-url';
import { ENTRY_MARKER } from './render';

// Where import puts an app in a project: its default id, and the lines that add it to the entry file.

/** The entry file's new text with the app added at init's marker, or the two lines to add by hand. */
export function wireEntry(
  root: string,
  app: string,
  outFile: string,
  fn: string,
): { file: string; text?: string; added?: string; manual?: string } | undefined {
  const entry = app.split(/\s+/).find((t) => /\.[cm]?[jt]s$/.test(t));
  const rel = path.posix.relative(path.posix.dirname(entry ?? 'bin/app.ts'), outFile.replace(/\.ts$/, ''));
  const importLine = `import { ${fn} } from '${rel.startsWith('.') ? rel : `./${rel}`}';`;
  const manual = `add to ${entry ?? `the file cdk-like.json's "app" runs`}:\n    ${importLine}\n    ${fn}(project);   (where the project is built, before it is returned)`;
  if (!entry || !existsSync(path.join(root, entry))) return { file: entry ?? '', manual };
  const text = readFileSync(path.join(root, entry), 'utf8');
  if (text.includes(importLine)) return undefined;
  const marker = new RegExp(`^([ \\t]*)${escapeRegExp(ENTRY_MARKER)}`, 'm');
  const lines = text.split('\n');
  const lastImport = lines.reduce((last, l, i) => (/^import .*;\s*$/.test(l) ? i : last), -1);
  if (!marker.test(text) || lastImport < 0) return { file: entry, manual };
  lines.splice(lastImport + 1, 0, importLine);
  const text2 = lines.join('\n').replace(marker, `$1${fn}(project);\n$1${ENTRY_MARKER}`);
  return { file: entry, text: text2, added: `${importLine}\n…\n  ${fn}(project);\n` };
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
  const budget = Math.max(8, DNS_LABEL_MAX - webHostLabel(workspace, `${project}-`).length);
  if (id.length <= budget) return id;
  const cut = id.slice(0, budget + 1);
  return (cut.lastIndexOf('-') >= 4 ? cut.slice(0, cut.lastIndexOf('-')) : cut.slice(0, budget)).replace(/-+$/, '');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
