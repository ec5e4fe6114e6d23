import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI_REFERENCE, expectedCliReference, expectedGuide } from '../bin/update-docs';
import { exampleSources } from '../lib/docs/examples';
import { COMMANDS } from '../lib/cli/main';
import { ROOT, tempDir } from './helpers';

/**
 * The docs (issue 36): a short README that links every guide, the generated parts fresh (a stale CLI
 * reference fails as a stale snapshot does: `npm run docs` rewrites it), every warning id the code can
 * print explained in the troubleshooting page, and every relative link resolving.
 */
const DOCS = path.join(ROOT, 'docs');
const guides = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

test('the README fits on a few screens and links every guide', () => {
  expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  expect(guides.filter((g) => !readme.includes(`(docs/${g})`))).toEqual([]);
});

test('docs/cli-reference.md is each command’s --help as it is now (npm run docs)', async () => {
  const reference = readFileSync(CLI_REFERENCE, 'utf8');
  for (const command of COMMANDS) expect(reference).toContain(`## modal-cdk ${command}\n`);
  expect(reference).toBe(await expectedCliReference());
});

/** Guides without a worked example, and why: each other guide shows one from a file the tests run. */
const NO_EXAMPLE: Record<string, string> = {
  'cli-reference.md': "generated from each command's --help",
  'cli.md': 'commands and their output; the reference is generated',
  'contributing.md': 'where code goes, not a stack',
  'ryla-stack.md': 'its endpoint table is generated from the stack',
  'testing.md': "the project's test tiers, not a stack",
  'troubleshooting.md': 'an index of ids',
};
/** Files the tests run (synthesize, or run as the init project's test), which examples may be taken from. */
const TESTED =
  /^(bin\/example\.ts|test\/fixtures\/[\w-]+\.ts|test\/fixtures\/import\/[\w.-]+|templates\/init\/.+)(#[\w-]+)?$/;

test('each guide shows a worked example from a file the tests run, as that file is now (npm run docs)', () => {
  for (const guide of guides) {
    const text = readFileSync(path.join(DOCS, guide), 'utf8');
    expect({ guide, text }).toEqual({ guide, text: expectedGuide(path.join(DOCS, guide)) });
    const sources = exampleSources(text);
    expect({ guide, untested: sources.filter((s) => !TESTED.test(s)) }).toEqual({ guide, untested: [] });
    if (!(guide in NO_EXAMPLE)) expect({ guide, examples: sources.length > 0 }).toEqual({ guide, examples: true });
  }
});

test('every warning and note id the code can print is explained in docs/troubleshooting.md', () => {
  const ids = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  for (const file of [...walk(path.join(ROOT, 'constructs')), ...walk(path.join(ROOT, 'lib'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/add(?:Warning|Note)\(\s*[^,]+,\s*['`]([a-z0-9-]+)['`]/g)) ids.add(m[1]);
    for (const m of text.matchAll(/\bid: '([a-z0-9-]+)'/g)) ids.add(m[1]);
  }
  expect(ids.size).toBeGreaterThanOrEqual(15);
  const page = readFileSync(path.join(DOCS, 'troubleshooting.md'), 'utf8');
  expect([...ids].filter((id) => !page.includes(`| \`${id}\` |`)).sort()).toEqual([]);
});

test('every relative link of the README and the guides names a file that exists', () => {
  const broken: string[] = [];
  for (const [file, text] of [
    ['README.md', readme],
    ...guides.map((g) => [`docs/${g}`, readFileSync(path.join(DOCS, g), 'utf8')]),
  ]) {
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1])) continue; // https:, mailto:
      const target = path.join(ROOT, path.dirname(file), m[1]);
      try {
        readFileSync(target);
      } catch {
        broken.push(`${file} → ${m[1]}`);
      }
    }
  }
  expect(broken).toEqual([]);
});

describe('the API reference (TypeDoc, typedoc.json)', () => {
  const tree = (dir: string): Record<string, string> =>
    Object.fromEntries(
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => {
          const file = path.join(e.parentPath, e.name);
          return [path.relative(dir, file), readFileSync(file, 'utf8')];
        }),
    );
  let generated: { out: string; log: string; status: number | null };

  beforeAll(() => {
    const out = path.join(tempDir(), 'api');
    const run = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    generated = { out, log: `${run.stdout}${run.stderr}`, status: run.status };
  }, 120_000);

  test('docs/api is what TypeDoc writes from the code now (npm run docs)', () => {
    expect(tree(path.join(DOCS, 'api'))).toEqual(tree(generated.out));
    expect(readFileSync(path.join(DOCS, 'api', 'README.md'), 'utf8')).toContain('[modal-cdk/assertions]');
  });

  test('every exported symbol, prop and member has a doc comment (typedoc.json: notDocumented, warnings are errors)', () => {
    expect(generated.log).not.toMatch(/does not have any documentation|\[warning\]|\[error\]/);
    expect(generated.status).toBe(0);
  });
});
