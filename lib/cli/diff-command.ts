import * as path from 'node:path';
import { parseCommandArgs } from './args';
import { createTwoFilesPatch } from 'diff';
import { loadConfig } from './config';
import { reportUsage } from './report';
import { selectApps, UsageError, type Selection } from '../deploy/plan';
import { deployedDir } from '../deploy/state';
import { readTree } from '../synth/write';

export const DIFF_HELP = `Usage: modal-cdk diff [--app <id> ...] [--env <name>]

Synthesizes fresh and shows, per app, whether it changed since its last successful deploy to the
environment, with a unified diff of each changed file against the copy kept at deploy time
(.modal-cdk/deployed/<env>/<app>/). Runs no Modal command.

Options:
  -a, --app <id>     Only this app (repeatable; default: every app)
  -e, --env <name>   Modal environment (default: cdk-like.json modal.environment, else main)
  -h, --help         Show this help

Exit codes: 0 shown (changed or not), 1 the stack has errors, 2 usage error.
`;

export async function diffCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let values: { app?: string[]; env?: string; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a', multiple: true },
        env: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'diff', (e as Error).message);
  }
  if (values.help) {
    out.write(DIFF_HELP);
    return 0;
  }
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();
  let selection: Selection;
  try {
    selection = selectApps(config, root, env, values.app?.length ? values.app : 'all', false);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`modal-cdk diff: ${e.message}\n`);
    return 2;
  }
  for (const step of selection.selected) {
    const previous = selection.state.apps[step.appId];
    if (selection.unchanged.includes(step)) {
      out.write(`${step.appId}: unchanged since its deploy to "${env}" at ${previous!.deployedAt}\n`);
      continue;
    }
    out.write(
      previous
        ? `${step.appId}: changed since its deploy to "${env}" at ${previous.deployedAt}\n`
        : `${step.appId}: never deployed to "${env}" (every file is new)\n`,
    );
    const before = readTree(deployedDir(root, env, step.appId));
    const after = readTree(path.join(selection.outdir, 'apps', step.appId));
    for (const rel of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const a = before.get(rel);
      const b = after.get(rel);
      if (a === b) continue;
      out.write(
        createTwoFilesPatch(
          a === undefined ? '/dev/null' : `deployed/${step.appId}/${rel}`,
          b === undefined ? '/dev/null' : `${config.output}/apps/${step.appId}/${rel}`,
          a ?? '',
          b ?? '',
          undefined,
          undefined,
          { context: 3 },
        ),
      );
    }
  }
  return 0;
}
