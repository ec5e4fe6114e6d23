import { runFailure, runModal } from '../deploy/apply';
import { acquireLock } from '../deploy/lock';
import { modalArgs } from '../deploy/modal-args';
import { failureHint } from '../deploy/modal-output';
import { type Selection, selectApps, UsageError } from '../deploy/plan';
import { preflight } from '../deploy/preflight';
import { writeState } from '../deploy/state';
import { ModalCdkError } from '../errors';
import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { confirm, reportUsage } from './report';

export const DESTROY_HELP = `Usage: modal-cdk destroy --app <id> [--app <id> ...] [options]

Stops deployed apps: \`modal app stop <Modal name>\` for each, which terminates its running containers and
takes its endpoints down (Modal keeps the app's history; a later \`modal-cdk deploy\` brings it back). Each
stop is recorded in .modal-cdk/state/<env>.json, so \`status\` says "stopped".

Never touches the apps' Modal Volumes (models, LoRAs, the Hugging Face cache) or Secrets: they are shared
and outlive the apps; remove them with \`modal volume delete\` / \`modal secret delete\` by hand if you mean to.

Options:
  -a, --app <id>       An app to stop, by its id in the stack (repeat for several; required)
  -e, --env <name>     Modal environment (default: cdk-like.json modal.environment, else main)
  -y, --yes            Do not ask for confirmation (needed without a terminal, e.g. in CI)
  -h, --help           Show this help

Exit codes: 0 every app stopped and recorded, 1 Modal refused or failed for an app (the others are still
stopped and recorded), 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function destroyCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: { app?: string[]; env?: string; yes?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a', multiple: true },
        env: { type: 'string', short: 'e' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'destroy', (e as Error).message);
  }
  if (values.help) {
    out.write(DESTROY_HELP);
    return 0;
  }
  if (!values.app?.length) return reportUsage(err, 'destroy', 'expected --app <id> (repeat for several)');
  if (!values.yes && !process.stdin.isTTY) {
    return reportUsage(
      err,
      'destroy',
      'not a terminal, so no one can confirm: pass --yes to stop the apps without asking',
    );
  }
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();
  let selection: Selection;
  try {
    selection = selectApps(config, root, env, values.app, false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'destroy', e.message);
    throw e;
  }
  const steps = selection.selected;
  const missing = preflight();
  if (missing.length > 0) throw new ModalCdkError(missing);
  const names = steps.map((s) => s.modalName).join(', ');
  if (!values.yes) {
    if (!(await confirm(`Stop ${names} in "${env}" (their containers end now; volumes and secrets stay)?`))) {
      out.write('Nothing stopped.\n');
      return 1;
    }
  }
  const cwd = selection.outdir;
  const release = acquireLock(root, env);
  let failed = 0;
  try {
    for (const step of steps) {
      const run = await runModal(modalArgs.appStop(step.modalName, env), {
        cwd,
        timeoutSeconds: config.deploy.timeoutSeconds,
        signal: new AbortController().signal,
        onLine: (line) => out.write(`[${step.appId}] ${line}\n`),
      });
      if (run.kind !== 'ok') {
        failed++;
        const why = runFailure(run, 'see its output above', failureHint('timeout', config.deploy.timeoutSeconds));
        err.write(`modal-cdk destroy: modal app stop ${step.modalName} ${why}; not recorded\n`);
        continue;
      }
      writeState(root, env, (state) => {
        state.stopped = {
          ...state.stopped,
          [step.appId]: { modalName: step.modalName, stoppedAt: new Date().toISOString() },
        };
      });
      out.write(
        `Stopped ${step.modalName} in "${env}" (volumes and secrets untouched); recorded in .modal-cdk/state/${env}.json.\n`,
      );
    }
  } finally {
    release();
  }
  return failed > 0 ? 1 : 0;
}
