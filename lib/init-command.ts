import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { reportUsage } from './report';
import { TEMPLATES_DIR } from './synth/templates';

export const INIT_HELP = `Usage: modal-cdk init [--name <name>]

Writes a new modal-cdk project into the current directory: package.json (or adds to the one there, e.g.
after \`npm install modal-cdk\`), cdk-like.json, bin/app.ts (one app, one endpoint), workflows/ (one
ComfyUI workflow of core nodes), client-policy.yaml, test/app.test.ts (modal-cdk/assertions), tsconfig.json,
jest.config.js, .gitignore and a README. Then: npm install && npm run synth, npm install && npm test.

Options:
      --name <name>  The project name: the prefix of its Modal app names (default: the directory's name)
  -h, --help         Show this help

Exit codes: 0 written, 1 a file it would write is already there (nothing is written), 2 usage error.
`;

/** The dev tools a project made by init uses: the versions this package is built and tested with. */
const DEV_TOOLS = ['@swc/core', '@swc/jest', '@types/jest', '@types/node', 'jest', 'ts-node', 'typescript'];

export function initCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: { name?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    return reportUsage(err, 'init', (e as Error).message);
  }
  if (values.help) {
    out.write(INIT_HELP);
    return 0;
  }
  const dir = process.cwd();
  const name = values.name ?? (path.basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'my-project');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) return reportUsage(err, 'init', `--name: got ${JSON.stringify(name)}, expected lower-case letters, digits and "-" (it prefixes every Modal app name)`);

  const source = path.join(TEMPLATES_DIR, 'init');
  const files = listFiles(source).map((rel) => ({ rel, target: rel === 'gitignore' ? '.gitignore' : rel }));
  const taken = files.filter((f) => existsSync(path.join(dir, f.target))).map((f) => f.target);
  if (taken.length > 0) {
    err.write(`modal-cdk init: ${taken.join(', ')} already ${taken.length === 1 ? 'exists' : 'exist'} in ${dir}: expected a new project's directory (empty, or with only package.json and node_modules) — nothing was written\n`);
    return 1;
  }
  for (const { rel, target } of files) {
    const text = readFileSync(path.join(source, rel), 'utf8').replaceAll('{{name}}', name);
    mkdirSync(path.dirname(path.join(dir, target)), { recursive: true });
    writeFileSync(path.join(dir, target), text);
  }
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(projectPackage(dir, name), null, 2)}\n`);
  out.write(`Wrote a modal-cdk project "${name}" in ${dir}:\n${['package.json', ...files.map((f) => f.target)].map((f) => `  ${f}`).join('\n')}\n`);
  out.write('Next: set modal.workspace in cdk-like.json, then\n  npm install && npm run synth\n  npm test\n');
  return 0;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`])).sort();
}

/** The project's package.json: the one there (an `npm install modal-cdk` made it) with what init adds. */
function projectPackage(dir: string, name: string): Record<string, any> {
  const file = path.join(dir, 'package.json');
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const own = ownPackage();
  return {
    name,
    version: '0.1.0',
    private: true,
    ...existing,
    scripts: { synth: 'modal-cdk synth', deploy: 'modal-cdk deploy', diff: 'modal-cdk diff', verify: 'modal-cdk verify', status: 'modal-cdk status', ls: 'modal-cdk ls', test: 'tsc -p . && jest --ci', ...existing.scripts },
    dependencies: { 'modal-cdk': `^${own.version}`, ...existing.dependencies },
    devDependencies: { ...Object.fromEntries(DEV_TOOLS.map((t) => [t, own.devDependencies[t]])), ...existing.devDependencies },
  };
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
