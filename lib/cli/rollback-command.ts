import { rmSync } from 'node:fs';
import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { ModalCdkError } from '../errors';
import { confirm, reportUsage } from './report';
import { runFailure, runModal } from '../deploy/apply';
import { acquireLock } from '../deploy/lock';
import { modalArgs } from '../deploy/modal-args';
import { appHistorySchema, modalJson } from '../deploy/modal-json';
import { failureHint } from '../deploy/modal-output';
import { selectApps, UsageError, type Selection } from '../deploy/plan';
import { preflight } from '../deploy/preflight';
import { deployedDir, writeState } from '../deploy/state';

export const ROLLBACK_HELP = `Usage: modal-cdk rollback --app <id> [--to <version>] [options]

Runs Modal's rollback for the app (\`modal app rollback <name> [version]\`): Modal redeploys an earlier
version, which becomes the newest entry of the app's history. Then the state file is updated so that
\`status\` and the next \`deploy\` know what is live: the app's record takes the restored version's tag (and
its content hash, when that tag was deployed from here), so the next deploy deploys the stack's current
content again. The copy \`diff\` compares against is dropped (the restored files are not kept here), so
\`diff\` then shows the whole app as new.

Options:
  -a, --app <id>       The app, by its id in the stack (required)
      --to <version>   The version to restore, as \`modal app history\` names it (v3)
                       (default: the version before the newest)
  -e, --env <name>     Modal environment (default: cdk-like.json modal.environment, else main)
  -y, --yes            Do not ask for confirmation (needed without a terminal, e.g. in CI)
  -h, --help           Show this help

Exit codes: 0 rolled back and recorded, 1 Modal refused or failed (nothing recorded), 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function rollbackCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: { app?: string; to?: string; env?: string; yes?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a' },
        to: { type: 'string' },
        env: { type: 'string', short: 'e' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'rollback', (e as Error).message);
  }
  if (values.help) {
    out.write(ROLLBACK_HELP);
    return 0;
  }
  if (!values.app) return reportUsage(err, 'rollback', 'expected --app <id>');
  if (values.to !== undefined && !/^v[1-9]\d*$/.test(values.to))
    return reportUsage(
      err,
      'rollback',
      `--to: got ${JSON.stringify(values.to)}, expected a version as modal app history names it, e.g. v3`,
    );
  if (!values.yes && !process.stdin.isTTY)
    return reportUsage(
      err,
      'rollback',
      'not a terminal, so no one can confirm: pass --yes to roll back without asking',
    );
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();
  let selection: Selection;
  try {
    selection = selectApps(config, root, env, [values.app], false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'rollback', e.message);
    throw e;
  }
  const missing = preflight();
  if (missing.length > 0) throw new ModalCdkError(missing);
  const step = selection.selected[0];
  const cwd = selection.outdir;
  const history = await modalJson(modalArgs.appHistory(step.modalName, env), appHistorySchema, cwd);
  if (!history.ok) {
    err.write(`modal-cdk rollback: could not read the history of ${step.modalName}: ${history.reason}\n`);
    return 1;
  }
  const versions = history.data;
  const target = values.to ? versions.find((v) => v.version === values.to) : versions[1];
  if (!target) {
    const known = versions.map((v) => v.version).join(', ') || 'none';
    err.write(
      `modal-cdk rollback: ${values.to ? `${values.to} is not a version of ${step.modalName}` : `${step.modalName} has no version before the newest`} in "${env}" (versions: ${known})\n`,
    );
    return 1;
  }
  if (target === versions[0]) {
    err.write(
      `modal-cdk rollback: ${target.version} is already the newest version of ${step.modalName}: nothing to roll back\n`,
    );
    return 1;
  }
  const what = `${step.modalName} in "${env}" from ${versions[0].version} to ${target.version}${target.tag ? ` (tag ${target.tag})` : ''}`;
  if (!values.yes) {
    if (!(await confirm(`Roll back ${what}?`))) {
      out.write('Nothing rolled back.\n');
      return 1;
    }
  }
  const release = acquireLock(root, env);
  try {
    const run = await runModal(modalArgs.rollback(step.modalName, target.version, env), {
      cwd,
      timeoutSeconds: config.deploy.timeoutSeconds,
      signal: new AbortController().signal,
      onLine: (line) => out.write(`${line}\n`),
    });
    if (run.kind !== 'ok') {
      const why = runFailure(run, 'see its output above', failureHint('timeout', config.deploy.timeoutSeconds));
      err.write(`modal-cdk rollback: modal app rollback ${why}; the state file is unchanged\n`);
      return 1;
    }
    // The rollback is Modal's newest version now; it may carry no tag, so its version is recorded too.
    const after = await modalJson(modalArgs.appHistory(step.modalName, env), appHistorySchema, cwd);
    const newest = after.ok ? after.data[0]?.version : undefined;
    writeState(root, env, (state) => {
      const tag = target.tag ?? '';
      state.apps[step.appId] = {
        hash: (tag && state.tags?.[tag]) || `unknown (restored ${target.version})`,
        modalName: step.modalName,
        tag,
        deployedAt: new Date().toISOString(),
        urls: state.apps[step.appId]?.urls ?? [],
        ...(newest ? { version: newest } : {}),
      };
    });
    rmSync(deployedDir(root, env, step.appId), { recursive: true, force: true });
    out.write(
      `Rolled back ${what}${newest ? `, now ${newest}` : ''}; recorded in .modal-cdk/state/${env}.json: the next deploy of ${step.appId} deploys the stack's current content.\n`,
    );
    if (!after.ok)
      err.write(
        `modal-cdk rollback: could not read the new version (${after.reason}): status may show ${step.appId} as deployed from elsewhere until the next deploy\n`,
      );
    return 0;
  } finally {
    release();
  }
}
