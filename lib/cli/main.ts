import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandArgs, parseContext, warnUnknownContext } from './args';
import { loadConfig } from './config';
import { reportError, reportUsage, reportWarnings } from './report';
import { settleStages } from '../synth/stage';
import { synthFromConfig } from './synthesize';

/** The commands of `modal-cdk help`, in its order. */
export const COMMANDS = [
  'synth',
  'deploy',
  'diff',
  'verify',
  'status',
  'logs',
  'models',
  'rollback',
  'promote',
  'scale',
  'destroy',
  'schemas',
  'serve',
  'workflow',
  'init',
  'import',
  'ls',
] as const;

const HELP = `modal-cdk: define serverless ComfyUI apps for Modal in TypeScript, and synthesize them

Usage: modal-cdk <command> [options]

Commands:
  synth      Build the construct tree (cdk-like.json "app"), validate it, and write the assembly
             (Modal app files, manifest, deploy plan, clients, docs, CI workflow) to the output directory.
  deploy     Synthesize, check the client policy, and \`modal deploy\` the changed apps (modal-cdk deploy --help).
  diff       Show which apps changed since their last deploy, with a unified diff (modal-cdk diff --help).
  verify     Call each deployed endpoint (health, then a smoke request cold and warm) and check the answers
             (modal-cdk verify --help).
  status     Per app: what synth would deploy, what was deployed from here, what Modal runs; exit 1 on drift
             (modal-cdk status --help).
  logs       An app's logs through modal app logs, cut at a time limit so it never hangs (modal-cdk logs --help).
  models     List the Volume model files an app expects and whether its volume has them; upload the missing
             ones (modal-cdk models --help).
  rollback   Roll an app back to an earlier Modal version and record it (modal-cdk rollback --help).
  promote    Deploy to one environment what verify passed in another, e.g. staging → main
             (modal-cdk promote --help).
  scale      Change a deployed app's autoscaler (warm, max, buffer containers) without a redeploy
             (modal-cdk scale --help).
  destroy    Stop deployed apps; their volumes and secrets stay (modal-cdk destroy --help).
  schemas    Dump a running ComfyUI's custom-node schemas for nodeSchemas (modal-cdk schemas --help).
  serve      Serve one app's endpoints locally against a running ComfyUI (modal-cdk serve --help).
  workflow   Convert a UI-format workflow to API format, or check one against ComfyUI's node schemas
             (modal-cdk workflow --help).
  init       Write a new project into the current directory (modal-cdk init --help).
  import     Write the stack code for a ComfyUI workflow you have: app, models, custom nodes, endpoint
             and its request fields (modal-cdk import --help).
  ls         List the stack's apps and endpoints (modal-cdk ls --help).
  help       Show this help (\`modal-cdk <command> --help\` for one command).

Run modal-cdk synth --help for synth's options.

Exit codes: 0 success, 1 the stack or config has errors (each printed as [path] message), 2 usage error.
Run from the project root (the directory with cdk-like.json). npm run synth / deploy / diff / serve
run "modal-cdk synth / deploy / diff / serve"; pass options after --, e.g. npm run deploy -- --app wan26.
`;

export const SYNTH_HELP = `Usage: modal-cdk synth [options]

Build the construct tree (cdk-like.json "app"), validate the whole tree, and write the assembly (Modal app
files, manifest, deploy plan, clients, docs, CI workflow) to the output directory. Every problem is printed
at once as [construct path] message; nothing is written then. The output directory is replaced whole, so
synth refuses one that holds files it did not write (the project itself, a folder of sources, …).

Options:
  -o, --output <dir>   Where to write the assembly (default: cdk-like.json "output", else synth.out)
  -q, --quiet          Print nothing on success (warnings still go to stderr)
      --strict         Fail on warnings too (client policy, public endpoints), not only on errors; a
                       warning the stack acknowledged (Warnings.of(scope).acknowledge) does not count
      --typecheck      Type-check the project first (its tsconfig.json, with its own TypeScript): the
                       app runs through SWC, which does not; a type error fails synth, nothing written
  -c, --context k=v    Set a context value (read with node.tryGetContext), over cdk-like.json's; repeat
                       for several; the value is JSON when it parses as JSON, else a string; a key that
                       cdk-like.json's context does not have is set all the same, with a warning
  -h, --help           Show this help

Exit codes: 0 success, 1 the stack or config has errors (each printed as [path] message), 2 usage error.
`;

/** The `modal-cdk` command: runs the CLI on this process's arguments and sets its exit code. */
export function main(): void {
  // `modal-cdk ls | head`: a reader that closes the pipe early is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/** Runs the CLI; returns the exit code. Output goes to the given streams (tests pass their own). */
export async function runCli(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out.write(HELP);
    return command === undefined ? 2 : 0;
  }
  let code = 1;
  try {
    code = await dispatch(command, rest, out, err);
    return code;
  } catch (e) {
    code = reportError(e, err);
    return code;
  } finally {
    // What a command synthesized reaches the output directory only when it succeeded (lib/synth/stage.ts).
    settleStages(code === 0);
  }
}

async function dispatch(
  command: string,
  rest: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  switch (command) {
    case 'synth':
      return synthCommand(rest, out, err);
    // Loaded on use: synth, the common command, should not pay for loading deploy's modules.
    case 'deploy':
      return await (await import('./deploy-command')).deployCommand(rest, out, err);
    case 'diff':
      return await (await import('./diff-command')).diffCommand(rest, out, err);
    case 'logs':
      return await (await import('./logs-command')).logsCommand(rest, out, err);
    case 'verify':
      return await (await import('./verify-command')).verifyCommand(rest, out, err);
    case 'status':
      return await (await import('./status-command')).statusCommand(rest, out, err);
    case 'models':
      return await (await import('./models-command')).modelsCommand(rest, out, err);
    case 'rollback':
      return await (await import('./rollback-command')).rollbackCommand(rest, out, err);
    case 'promote':
      return await (await import('./promote-command')).promoteCommand(rest, out, err);
    case 'scale':
      return await (await import('./scale-command')).scaleCommand(rest, out, err);
    case 'schemas':
      return await (await import('./schemas-command')).schemasCommand(rest, out, err);
    case 'destroy':
      return await (await import('./destroy-command')).destroyCommand(rest, out, err);
    case 'serve':
      return await (await import('./serve-command')).serveCommand(rest, out, err);
    case 'workflow':
      return (await import('./workflow-command')).workflowCommand(rest, out, err);
    case 'import':
      return await (await import('./import-command')).importCommand(rest, out, err);
    case 'init':
      return (await import('./init-command')).initCommand(rest, out, err);
    case 'ls':
      return (await import('./ls-command')).lsCommand(rest, out, err);
    default:
      err.write(`modal-cdk: unknown command "${command}": expected one of ${COMMANDS.join(', ')}, help\n`);
      return 2;
  }
}

function synthCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: {
    output?: string;
    quiet?: boolean;
    help?: boolean;
    strict?: boolean;
    context?: string[];
    typecheck?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        output: { type: 'string', short: 'o' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        strict: { type: 'boolean' },
        context: { type: 'string', short: 'c', multiple: true },
        typecheck: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'synth', (e as Error).message);
  }
  if (values.help) {
    out.write(SYNTH_HELP);
    return 0;
  }
  const started = performance.now();
  const overrides = parseContext(values.context ?? []);
  if (typeof overrides === 'string') return reportUsage(err, 'synth', overrides);
  const base = loadConfig(process.cwd());
  const config = { ...base, context: { ...base.context, ...overrides } };
  warnUnknownContext(overrides, base.context, err);
  if (values.typecheck && !typecheck(process.cwd(), err)) return 1;
  const outdir = values.output ?? config.output;
  const assembly = synthFromConfig(config, outdir, values.strict ?? false);
  reportWarnings(assembly.warnings, err);
  if (!values.quiet) {
    const endpoints = assembly.manifest.apps.reduce((n, a) => n + a.endpoints.length, 0);
    const ms = Math.round(performance.now() - started);
    out.write(
      `Synthesized ${assembly.manifest.apps.length} app(s), ${endpoints} endpoint(s), ${assembly.fileCount} files to ${outdir}/ in ${ms} ms\n`,
    );
  }
  return 0;
}

/**
 * `synth --typecheck`: the project's TypeScript (else this package's) checks its tsconfig.json; errors
 * are printed as tsc prints them (file:line). Returns whether it passed.
 */
function typecheck(dir: string, err: NodeJS.WritableStream): boolean {
  if (!existsSync(path.join(dir, 'tsconfig.json'))) {
    err.write(
      `modal-cdk synth --typecheck: no tsconfig.json in ${dir}: expected one that includes the app (modal-cdk init writes one)\n`,
    );
    return false;
  }
  let tsc: string;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [dir, __dirname] });
  } catch {
    err.write('modal-cdk synth --typecheck: TypeScript is not installed: npm install --save-dev typescript\n');
    return false;
  }
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', dir], { cwd: dir, encoding: 'utf8' });
  if (run.status === 0) return true;
  err.write(`${run.stdout}${run.stderr}modal-cdk synth --typecheck: type errors found (above), nothing was written\n`);
  return false;
}
