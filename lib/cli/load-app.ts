import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ModalProject } from '../../constructs/modal-project';
import { fromConstructsError, ModalCdkError, show } from '../errors';
import { PACKAGE_ROOT } from '../package-files';

/**
 * This package's own files (from source, or dist/: the built bundle and its launcher): frames in them are ours, not the
 * user's.
 */
const OWN_DIRS = ['lib', 'constructs', 'dist', 'bin/modal-cdk.ts', 'bin/modal-cdk.js'].map((p) =>
  path.join(PACKAGE_ROOT, p),
);

/**
 * Whether this process can require the app file: JavaScript always; TypeScript when a `.ts` hook is
 * installed (this repository's CLI from source) or can be, with the @swc/core of the user's project (or
 * this package's own). Else the app command runs as a child process.
 */
export function canLoad(file: string): boolean {
  if (!file.endsWith('.ts') || require.extensions?.['.ts']) return true;
  const swc = [process.cwd(), __dirname]
    .map((dir) => {
      try {
        return require.resolve('@swc/core', { paths: [dir] });
      } catch {
        return undefined;
      }
    })
    .find((found) => found !== undefined);
  if (swc === undefined) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registerTypeScript } = require('./swc-register') as { registerTypeScript: (o: object) => boolean };
  registerTypeScript({
    loadSwc: () => require(swc),
    cacheDir: path.join(process.cwd(), 'node_modules', '.cache', 'modal-cdk-swc'),
    mapsFor: isUserFile,
  });
  return true;
}

/**
 * Requires the app file and gets its project: the default export (or `project`), a ModalProject or a
 * function that returns one. What goes wrong in the user's code is said in one place, located: a missing
 * file, a file that exports nothing, a builder that returns something else, an exception thrown while
 * building the tree (with the user's file:line frames only).
 */
export function loadProject(file: string, command = file): ModalProject {
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw new ModalCdkError([
      {
        path: 'cdk-like.json app',
        message: `got ${show(command)}, whose file ${shown} does not exist in ${process.cwd()}: expected the file that builds your stack — fix "app" in cdk-like.json`,
      },
    ]);
  }
  let mod: Record<string, unknown> | undefined;
  let project: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as Record<string, unknown>;
    const exported = mod?.default ?? mod?.project;
    if (exported === undefined) {
      const names = mod && typeof mod === 'object' ? Object.keys(mod) : [];
      throw new ModalCdkError([
        {
          path: shown,
          message: `${names.length ? `exports ${names.map((n) => `"${n}"`).join(', ')}` : 'exports nothing'}: expected \`export default\` a ModalProject or a function that returns one (\`export default function build() { …; return project; }\`)`,
        },
      ]);
    }
    project = typeof exported === 'function' ? exported() : exported;
  } catch (e) {
    if (ModalCdkError.isModalCdkError(e)) throw e;
    throw fromConstructsError(e) ?? new ModalCdkError([{ path: shown, message: thrownBy(e) }]);
  }
  if (!ModalProject.isModalProject(project)) {
    const what =
      project === undefined
        ? 'undefined'
        : project === null
          ? 'null'
          : typeof project === 'object'
            ? `an object (${(project as object).constructor?.name ?? 'Object'})`
            : typeof project;
    const builder = typeof (mod?.default ?? mod?.project) === 'function';
    throw new ModalCdkError([
      {
        path: shown,
        message: builder
          ? `the default export is a function that returned ${what}: expected it to return the ModalProject — add \`return project\` at its end`
          : `the default export is ${what}: expected a ModalProject or a function that returns one`,
      },
    ]);
  }
  return project;
}

/** An exception the user's code threw while building the tree: its message and the user's frames. */
function thrownBy(e: unknown): string {
  const error = e instanceof Error ? e : new Error(String(e));
  const frames = (error.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at ') && isUserFrame(l));
  const where = frames.slice(0, 5).map((l) => l.replace(process.cwd() + path.sep, ''));
  return `your stack threw while building the tree: ${error.name}: ${error.message}${where.length ? `\n    ${where.join('\n    ')}` : ''}`;
}

function isUserFrame(line: string): boolean {
  const file = /(?:\(|at )((?:\/|[A-Za-z]:\\)[^():]+):\d+:\d+\)?$/.exec(line)?.[1];
  return file !== undefined && isUserFile(file);
}

/** A file of the user's: not Node's, not a dependency's, not this package's own code. */
function isUserFile(file: string): boolean {
  return !file.includes(`${path.sep}node_modules${path.sep}`) && !OWN_DIRS.some((dir) => file.startsWith(dir));
}
