import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/*
 * Worked examples in the guides, copied from files the tests run (a stack they synthesize, the init
 * project's own test), so they cannot drift: a block
 *
 *   <!-- example: bin/example.ts#flux -->
 *   ```ts
 *   …
 *   ```
 *   <!-- /example -->
 *
 * holds the lines between `#region flux` and `#endregion` of that file (a whole file without `#name`),
 * with their common indent removed. `npm run docs` rewrites them; a test fails when one is stale.
 */

const BLOCK = /<!-- example: ([^\s#]+)(?:#([\w-]+))? -->\n[\s\S]*?<!-- \/example -->/g;
const LANGUAGES: Record<string, string> = { '.ts': 'ts', '.json': 'json', '.yaml': 'yaml', '.py': 'python' };

/** Every example block of `markdown` refilled from its source under `root`. */
export function fillExamples(markdown: string, root: string): string {
  return markdown.replace(BLOCK, (_, file: string, region: string | undefined) => {
    const source = readFileSync(path.join(root, file), 'utf8');
    const lines = region === undefined ? source.trimEnd().split('\n') : regionLines(source, region, file);
    // A golden file kept out of the type check and linter (`x.ts.txt`) shows as what it holds.
    const language = LANGUAGES[path.extname(file.replace(/\.txt$/, ''))] ?? '';
    return `<!-- example: ${file}${region ? `#${region}` : ''} -->\n\`\`\`${language}\n${dedent(lines).join('\n')}\n\`\`\`\n<!-- /example -->`;
  });
}

/** The files and regions a Markdown text's example blocks name. */
export function exampleSources(markdown: string): string[] {
  return [...markdown.matchAll(BLOCK)].map((m) => (m[2] ? `${m[1]}#${m[2]}` : m[1]));
}

function regionLines(source: string, region: string, file: string): string[] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`#region ${region}\\s*$`).test(l));
  const end = lines.findIndex((l, i) => i > start && /#endregion\b/.test(l));
  if (start < 0 || end < 0) throw new Error(`${file}: expected a "#region ${region}" … "#endregion" pair`);
  return lines.slice(start + 1, end);
}

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut).trimEnd());
}
