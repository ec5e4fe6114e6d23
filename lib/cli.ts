import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTEXT_CLIENT_POLICY, CONTEXT_ENV_VAR, CONTEXT_ENVIRONMENT, CONTEXT_WORKSPACE, ModalProject, OUTDIR_ENV_VAR } from '../constructs/modal-project';
import { Config, loadConfig } from './config';
import { formatProblems, ModalCdkError, Problem } from './errors';
import { Manifest, manifestSchema } from './synth/model';

const HELP = `modal-cdk: define serverless ComfyUI apps for Modal in TypeScript, and synthesize them

Usage: modal-cdk <command> [options]

Commands:
  synth      Build the construct tree (cdk-like.json "app"), validate it, and write the assembly
             (Modal app files, manifest, deploy plan) to the output directory.
  help       Show this help.

Options for synth:
  -o, --output <dir>   Where to write the assembly (default: cdk-like.json "output", else synth.out)
  -q, --quiet          Print nothing on success (warnings still go to stderr)
      --strict         Fail on client-policy warnings too, not only on errors
  -h, --help           Show this help

Exit codes: 0 success, 1 the stack or config has errors (each printed as [path] message), 2 usage error.
Run from the project root (the directory with cdk-like.json). npm run synth runs "modal-cdk synth".
`;

/** Runs the CLI; returns the exit code. Output goes to the given streams (tests pass their own). */
export async function runCli(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out.write(HELP);
    return command === undefined ? 2 : 0;
  }
  try {
    switch (command) {
      case 'synth':
        return synthCommand(rest, out, err);
      default:
        err.write(`modal-cdk: unknown command "${command}": expected one of synth, help\n`);
        return 2;
    }
  } catch (e) {
    return reportError(e, err);
  }
}

function synthCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: { output?: string; quiet?: boolean; help?: boolean; strict?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { output: { type: 'string', short: 'o' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' }, strict: { type: 'boolean' } },
      strict: true,
    }));
  } catch (e) {
    err.write(`modal-cdk synth: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  const started = performance.now();
  const config = loadConfig(process.cwd());
  const outdir = values.output ?? config.output;
  const assembly = synthFromConfig(config, outdir, values.strict ?? false);
  reportWarnings(assembly.warnings, err);
  if (!values.quiet) {
    const endpoints = assembly.manifest.apps.reduce((n, a) => n + a.endpoints.length, 0);
    const ms = Math.round(performance.now() - started);
    out.write(`Synthesized ${assembly.manifest.apps.length} app(s), ${endpoints} endpoint(s), ${assembly.fileCount} files to ${outdir}/ in ${ms} ms\n`);
  }
  return 0;
}

/**
 * Builds the tree that `config.app` names and writes its assembly to `outdir`. A `ts-node`/`node`
 * command on a file is loaded in this process (no second Node start-up, which costs more than the
 * synth itself); any other command runs as a child process that synthesizes by itself.
 */
export function synthFromConfig(config: Config, outdir: string, strict = false): { manifest: Manifest; fileCount: number; warnings: Problem[] } {
  applyConfigContext(config);
  const file = inProcessAppFile(config.app);
  if (file) {
    const assembly = loadProject(path.resolve(file)).synth({ outdir, strict });
    return { manifest: assembly.manifest, fileCount: assembly.files.size, warnings: assembly.warnings };
  }
  // The child prints its own warnings (runApp) and fails on them with MODAL_CDK_STRICT=1.
  const child = spawnSync(config.app, { shell: true, stdio: 'inherit', env: { ...process.env, [OUTDIR_ENV_VAR]: outdir, ...(strict && { [STRICT_ENV_VAR]: '1' }) } });
  if (child.status !== 0) {
    throw new ModalCdkError([{ path: 'cdk-like.json app', message: `"${config.app}" exited with ${child.status ?? child.signal}: see its output above` }]);
  }
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')));
  return { manifest, fileCount: readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length, warnings: [] };
}

/** Hands cdk-like.json's context, workspace and environment to the projects built next (via the environment). */
export function applyConfigContext(config: Config): void {
  const context = {
    ...config.context,
    [CONTEXT_WORKSPACE]: config.modal.workspace,
    [CONTEXT_ENVIRONMENT]: config.modal.environment,
    // cdk-like.json paths are relative to it (the cwd), the project's to its root: hand over an absolute one.
    ...(config.clientPolicy && { [CONTEXT_CLIENT_POLICY]: path.resolve(config.clientPolicy) }),
  };
  process.env[CONTEXT_ENV_VAR] = JSON.stringify(context);
}

/** The file of `ts-node [flags] file.ts` or `node [flags] file.js`, else undefined. */
export function inProcessAppFile(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  const runner = path.basename(words[0]);
  if (!['ts-node', 'node', 'npx'].includes(runner)) return undefined;
  const file = words.slice(1).find((w) => !w.startsWith('-') && w !== 'ts-node');
  return file && /\.(ts|js|cjs)$/.test(file) ? file : undefined;
}

/** Requires the app file and gets its project: the default export, a project or a function returning one. */
export function loadProject(file: string): ModalProject {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file);
  const exported = mod.default ?? mod.project ?? mod;
  const project = typeof exported === 'function' ? exported() : exported;
  if (!(project instanceof ModalProject)) {
    throw new ModalCdkError([{ path: file, message: 'expected the app file to export (as default) a ModalProject or a function that returns one' }]);
  }
  return project;
}

/** Set for an app command run as a child process of `synth --strict`. */
export const STRICT_ENV_VAR = 'MODAL_CDK_STRICT';

/** Prints client-policy warnings, one `warning: [path] message` line each. */
export function reportWarnings(warnings: Problem[], err: NodeJS.WritableStream): void {
  for (const w of warnings) err.write(`modal-cdk: warning: [${w.path}] ${w.message}\n`);
}

/** Prints a user error as `[path] message` lines (no stack); anything else as a bug report. */
export function reportError(e: unknown, err: NodeJS.WritableStream): number {
  // The constructs library's own refusal of a repeated id, said the way our problems are.
  const duplicate = /^There is already a Construct with name '([^']*)' in (\w+) \[([^\]]*)\]/.exec((e as Error)?.message ?? '');
  if (duplicate) {
    const [, id, kind, parent] = duplicate;
    e = new ModalCdkError([{ path: parent, message: `duplicate construct id "${id}" in ${kind} ${parent}: expected each child of a construct to have its own id` }]);
  }
  if (ModalCdkError.isModalCdkError(e)) {
    const n = e.problems.length;
    err.write(`modal-cdk: ${n} problem${n === 1 ? '' : 's'} found, nothing was written:\n${formatProblems(e.problems)}\n`);
    return 1;
  }
  const error = e as Error;
  err.write(`modal-cdk: unexpected error: ${error?.message ?? String(e)}\n`);
  if (process.env.MODAL_CDK_DEBUG) err.write(`${error?.stack}\n`);
  else err.write('(set MODAL_CDK_DEBUG=1 for the stack trace; if the error is not in your stack code, please report it)\n');
  return 1;
}
