import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandArgs } from './args';
import { reportUsage } from './report';
import { TEMPLATES_DIR } from '../synth/templates';

export const INIT_HELP = `Usage: modal-cdk init [--name <name>]

Writes a new modal-cdk project into the current directory: package.json (or adds to the one there, e.g.
after \`npm init -y\` or \`npm install modal-cdk\`: npm's placeholder test script is replaced, scripts of
your own are kept and listed), cdk-like.json, bin/app.ts (one app, one endpoint), workflows/ (one
ComfyUI workflow of core nodes), client-policy.yaml, test/app.test.ts (modal-cdk/assertions), tsconfig.json,
jest.config.js, .gitignore and a README (a README.md or .gitignore already there is kept, the .gitignore
extended with what modal-cdk writes). Then: npm install && npm run synth, npm install && npm test.

Options:
      --name <name>  The project name: the prefix of its Modal app names (default: the directory's name)
  -h, --help         Show this help

Exit codes: 0 written, 1 a file it would write is already there, or package.json is not one init can use
("type": "module"; nothing is written then), 2 usage error.
`;

/** The dev tools a project made by init uses: the versions this package is built and tested with. */
const DEV_TOOLS = ['@swc/core', '@swc/jest', '@types/jest', '@types/node', 'jest', 'ts-node', 'typescript'];

export function initCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: { name?: string; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'init', (e as Error).message);
  }
  if (values.help) {
    out.write(INIT_HELP);
    return 0;
  }
  const dir = process.cwd();
  const name =
    values.name ??
    (path
      .basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') ||
      'my-project');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    return reportUsage(
      err,
      'init',
      `--name: got ${JSON.stringify(name)}, expected lower-case letters, digits and "-" (it prefixes every Modal app name)`,
    );

  const source = path.join(TEMPLATES_DIR, 'init');
  const existing = readPackage(dir);
  if (typeof existing === 'string') {
    err.write(`modal-cdk init: ${existing} — nothing was written\n`);
    return 1;
  }
  const files = listFiles(source).map((rel) => ({ rel, target: rel === 'gitignore' ? '.gitignore' : rel }));
  // A fresh git repository's README.md and .gitignore are the user's: kept, the .gitignore extended.
  const mergeable = new Set(['README.md', '.gitignore']);
  const taken = files
    .filter((f) => !mergeable.has(f.target) && existsSync(path.join(dir, f.target)))
    .map((f) => f.target);
  if (taken.length > 0) {
    err.write(
      `modal-cdk init: ${taken.join(', ')} already ${taken.length === 1 ? 'exists' : 'exist'} in ${dir}: expected a new project's directory (empty, or with only package.json, node_modules, README.md and .gitignore) — nothing was written\n`,
    );
    return 1;
  }
  const notes: string[] = [];
  const written: string[] = ['package.json'];
  for (const { rel, target } of files) {
    const text = readFileSync(path.join(source, rel), 'utf8').replaceAll('{{name}}', name);
    const file = path.join(dir, target);
    if (target === 'README.md' && existsSync(file)) {
      notes.push("README.md: yours is kept (modal-cdk's quick start is in its own README)");
      continue;
    }
    if (target === '.gitignore' && existsSync(file)) {
      const own = readFileSync(file, 'utf8');
      const have = new Set(own.split(/\r?\n/).map((l) => l.trim()));
      const missing = text.split('\n').filter((l) => l.trim() && !have.has(l.trim()));
      if (missing.length > 0)
        writeFileSync(file, `${own}${own.endsWith('\n') || own === '' ? '' : '\n'}${missing.join('\n')}\n`);
      notes.push(
        missing.length > 0
          ? `.gitignore: yours is kept, with ${missing.join(', ')} added`
          : '.gitignore: yours already ignores what modal-cdk writes',
      );
      continue;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    written.push(target);
  }
  const pkg = projectPackage(existing, name);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg.json, null, 2)}\n`);
  notes.push(...pkg.notes);
  out.write(`Wrote a modal-cdk project "${name}" in ${dir}:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
  if (notes.length > 0) out.write(`Kept what was there:\n${notes.map((n) => `  ${n}`).join('\n')}\n`);
  out.write('Next: set modal.workspace in cdk-like.json, then\n  npm install && npm run synth\n  npm test\n');
  return 0;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory() ? listFiles(path.join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
    )
    .sort();
}

/** The parts of a package.json init reads and writes; the rest is kept as it is. */
interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** What `npm init -y` writes as the test script: a placeholder that always fails. */
const NPM_PLACEHOLDER_TEST = /^echo "Error: no test specified" && exit 1$/;

/** The package.json there (`npm init` or `npm install modal-cdk` made it), {} when none, or why init cannot use it. */
function readPackage(dir: string): PackageJson | string {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return {};
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `package.json is not valid JSON (${(e as Error).message}): fix it or remove it`;
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg))
    return 'package.json is not a JSON object: fix it or remove it';
  const type = (pkg as { type?: unknown }).type;
  if (type !== undefined && type !== 'commonjs') {
    return `package.json has "type": ${JSON.stringify(type)}: a modal-cdk project is CommonJS TypeScript (ts-node --swc and jest load bin/app.ts as CommonJS; as an ES module its tests fail to compile, TS2835) — remove "type" from package.json (or set it to "commonjs"), or run init in a directory of its own`;
  }
  return pkg as PackageJson;
}

/** The project's package.json: the one there with what init adds, and what it kept of the user's. */
function projectPackage(existing: PackageJson, name: string): { json: PackageJson; notes: string[] } {
  const own = ownPackage();
  const scripts: Record<string, string> = {
    synth: 'modal-cdk synth',
    deploy: 'modal-cdk deploy',
    diff: 'modal-cdk diff',
    verify: 'modal-cdk verify',
    status: 'modal-cdk status',
    promote: 'modal-cdk promote',
    ls: 'modal-cdk ls',
    test: 'tsc -p . && jest --ci',
  };
  const theirs: Record<string, string> = { ...existing.scripts };
  const notes: string[] = [];
  if (typeof theirs.test === 'string' && NPM_PLACEHOLDER_TEST.test(theirs.test.trim())) delete theirs.test; // npm's placeholder: replaced
  for (const [script, command] of Object.entries(scripts)) {
    if (theirs[script] !== undefined && theirs[script] !== command) {
      notes.push(
        `package.json script "${script}": yours (${JSON.stringify(theirs[script])}) is kept; modal-cdk's is ${JSON.stringify(command)}`,
      );
    }
  }
  const json = {
    name,
    version: '0.1.0',
    private: true,
    ...existing,
    scripts: { ...scripts, ...theirs },
    dependencies: { 'modal-cdk': `^${own.version}`, ...existing.dependencies },
    devDependencies: {
      ...Object.fromEntries(DEV_TOOLS.map((t) => [t, own.devDependencies[t]])),
      ...existing.devDependencies,
    },
  };
  return { json, notes };
}

/** This package's package.json (above the source or the built dist/ tree). */
function ownPackage(): { version: string; devDependencies: Record<string, string> } {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.name === 'modal-cdk') return pkg;
    }
  }
  throw new Error('modal-cdk: cannot find its own package.json');
}
