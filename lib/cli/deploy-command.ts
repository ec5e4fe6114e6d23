import * as path from 'node:path';
import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { ModalCdkError } from '../errors';
import { confirm, reportUsage, reportWarnings } from './report';
import { formatTable } from '../table';
import type { AppSpec } from '../synth/spec';
import { type AppResult, deployApp, type PlanStep } from '../deploy/apply';
import { acquireLock } from '../deploy/lock';
import {
  describeStandingCost,
  describeStep,
  positiveInt,
  selectApps,
  type Selection,
  UsageError,
} from '../deploy/plan';
import { checkVolumeFiles, type VolumeFile, volumeFiles } from '../deploy/volume-check';
import { preflight } from '../deploy/preflight';
import { recordDeploy } from '../deploy/state';

export const DEPLOY_HELP = `Usage: modal-cdk deploy (--app <id> [--app <id> ...] | --all) [options]

Synthesizes fresh, checks the client policy, and runs \`modal deploy\` for each selected app whose content
changed since its last successful deploy to the environment (recorded in .modal-cdk/state/<env>.json).

Options:
  -a, --app <id>         Deploy this app (repeatable)
      --all              Deploy every app
  -e, --env <name>       Modal environment (default: cdk-like.json modal.environment, else main)
      --dry-run          Print the plan and the exact commands; run nothing
      --force            Deploy the selected apps even when unchanged since the last deploy
      --concurrency <n>  Apps deployed at once (default: cdk-like.json deploy.concurrency, else 4)
      --timeout <s>      Seconds one app's \`modal deploy\` may take before its process tree is killed
                         (default: cdk-like.json deploy.timeoutSeconds, else 1800)
  -y, --yes              Do not ask for confirmation (needed without a terminal, e.g. in CI)
      --skip-volume-check  Deploy even when a VolumeModel's file is not on its volume (checked with
                         modal volume ls before anything is deployed; see modal-cdk models --help)
      --verify           After deploying, run modal-cdk verify on the apps deployed (health and one smoke
                         request per endpoint; see modal-cdk verify --help); a failed check exits 1
  -h, --help             Show this help

Transient failures (network, 5xx) are retried deploy.retries times (default 2) with backoff from
deploy.retryDelaySeconds (default 5 s, doubled each time); build and auth errors are not retried.
Needs the modal CLI on PATH and a token (MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or \`modal token new\`).
Exit codes: 0 every selected app deployed or unchanged, 1 a check or a deploy failed, 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function deployCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: {
    app?: string[];
    all?: boolean;
    env?: string;
    'dry-run'?: boolean;
    force?: boolean;
    concurrency?: string;
    timeout?: string;
    yes?: boolean;
    help?: boolean;
    'skip-volume-check'?: boolean;
    verify?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a', multiple: true },
        all: { type: 'boolean' },
        env: { type: 'string', short: 'e' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
        'skip-volume-check': { type: 'boolean' },
        verify: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'deploy', (e as Error).message);
  }
  if (values.help) {
    out.write(DEPLOY_HELP);
    return 0;
  }
  if (Boolean(values.all) === Boolean(values.app?.length))
    return reportUsage(err, 'deploy', 'expected --app <id> (one or more) or --all, not both and not neither');
  const config = loadConfig(process.cwd());
  const concurrency = positiveInt(values.concurrency, config.deploy.concurrency);
  const timeoutSeconds = positiveInt(values.timeout, config.deploy.timeoutSeconds);
  if (concurrency === undefined)
    return reportUsage(
      err,
      'deploy',
      `--concurrency: got ${JSON.stringify(values.concurrency)}, expected a whole number ≥ 1`,
    );
  if (timeoutSeconds === undefined)
    return reportUsage(err, 'deploy', `--timeout: got ${JSON.stringify(values.timeout)}, expected whole seconds ≥ 1`);
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();

  let selection: Selection;
  try {
    selection = selectApps(config, root, env, values.all ? 'all' : values.app!, values.force ?? false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'deploy', e.message);
    throw e;
  }
  reportWarnings(selection.warnings, err);
  out.write(
    `Plan for environment "${env}":\n${selection.selected.map((s) => `  ${describeStep(s, selection.state, values.force ?? false)}`).join('\n')}\n`,
  );
  out.write(
    `Standing cost (warm GPUs with no traffic):\n${selection.selected.map((s) => `  ${describeStandingCost(s)}`).join('\n')}\n`,
  );
  if (selection.changed.length === 0) {
    out.write(`Nothing to deploy: every selected app is as last deployed to "${env}" (--force deploys anyway).\n`);
    return 0;
  }
  if (values['dry-run']) {
    out.write(
      `Would run, in ${path.relative(root, path.resolve(config.output)) || '.'}/ (${concurrency} at a time):\n`,
    );
    for (const step of selection.changed) out.write(`  modal ${step.args.join(' ')}\n`);
    return 0;
  }
  const missing = preflight();
  if (missing.length > 0) throw new ModalCdkError(missing);
  if (!values['skip-volume-check']) {
    const absent = await missingVolumeFiles(selection, env, selection.outdir);
    if (typeof absent === 'string') {
      err.write(
        `modal-cdk deploy: could not check the volume models (${absent}); nothing deployed (--skip-volume-check deploys without checking)\n`,
      );
      return 1;
    }
    if (absent.length > 0) {
      throw new ModalCdkError(
        absent.map((f) => ({
          path: f.constructPath,
          message: `app ${f.app}: ${f.pathInVolume} is not on volume ${f.volume} in "${env}": the app would start without it — upload it (modal-cdk models upload --app ${f.app} --from <dir>), or pass --skip-volume-check`,
        })),
      );
    }
  }
  if (!values.yes) {
    if (!process.stdin.isTTY)
      return reportUsage(err, 'deploy', 'not a terminal, so no one can confirm: pass --yes to deploy without asking');
    if (!(await confirm(`Deploy ${selection.changed.length} app(s) to Modal environment "${env}"?`))) {
      out.write('Nothing deployed.\n');
      return 1;
    }
  }

  const release = acquireLock(root, env);
  // Past every check (a held lock refuses too): the files take synth.out's place; modal deploy runs there.
  let outdir: string;
  try {
    outdir = selection.commit();
  } catch (e) {
    release();
    throw e;
  }
  const controller = new AbortController();
  const onSigint = () => {
    err.write('\nmodal-cdk: interrupted: stopping the running deploys (what finished is recorded)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const results = await pool(
      selection.changed,
      concurrency,
      async (step) => {
        const prefix = `[${step.appId}] `;
        const result = await deployApp(step, {
          cwd: outdir,
          timeoutSeconds,
          retries: config.deploy.retries,
          retryDelaySeconds: config.deploy.retryDelaySeconds,
          onLine: (line) => out.write(`${prefix}${line}\n`),
          signal: controller.signal,
        });
        if (result.outcome === 'deployed' || result.outcome === 'unchanged') {
          recordDeploy(
            root,
            env,
            step.appId,
            {
              hash: step.hash,
              modalName: step.modalName,
              tag: step.hash.slice(0, 12),
              deployedAt: new Date().toISOString(),
              urls: result.urls,
            },
            path.join(outdir, 'apps', step.appId),
          );
        } else {
          err.write(`${prefix}${result.outcome}: ${result.reason}\n`);
        }
        return result;
      },
      controller.signal,
    );
    out.write(summary(results, selection.unchanged));
    const ok =
      results.every((r) => r.outcome === 'deployed' || r.outcome === 'unchanged') && !controller.signal.aborted;
    if (!values.verify || controller.signal.aborted) return ok ? 0 : 1;
    const live = results.filter((r) => r.outcome === 'deployed' || r.outcome === 'unchanged').map((r) => r.appId);
    const urls = Object.fromEntries(results.map((r) => [r.appId, r.urls[0]]));
    const { deployedBaseUrl, verifyAndReport } = await import('./verify-command');
    const baseOf = (a: AppSpec) => urls[a.id] ?? deployedBaseUrl(selection, a);
    const verified = await verifyAndReport(
      selection.manifest.apps.filter((a) => live.includes(a.id)),
      baseOf,
      { where: `Modal environment "${env}"`, record: { root, env } },
      out,
      err,
    );
    return ok && verified ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    release();
  }
}

/** The selected apps' VolumeModels missing on their volumes, or why they could not be listed. */
async function missingVolumeFiles(selection: Selection, env: string, cwd: string): Promise<VolumeFile[] | string> {
  const apps = selection.manifest.apps.filter((a) => selection.changed.some((s) => s.appId === a.id));
  const files = apps.flatMap(volumeFiles);
  if (files.length === 0) return [];
  const checked = await checkVolumeFiles(files, env, cwd);
  return 'error' in checked ? checked.error : checked.files.filter((f) => !f.found);
}

/** Runs `work` over `items`, at most `limit` at a time; after `signal` aborts, starts nothing new. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>, signal: AbortSignal): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results.filter((r) => r !== undefined);
}

function summary(results: AppResult[], unchanged: PlanStep[]): string {
  const rows = [
    ...results.map((r) => [
      r.appId,
      r.outcome === 'unchanged' ? 'unchanged (Modal skipped it)' : r.outcome,
      `${(r.durationMs / 1000).toFixed(1)} s`,
      r.urls.join(' ') || (r.reason ?? ''),
    ]),
    ...unchanged.map((s) => [s.appId, 'unchanged since last deploy', '-', '']),
  ];
  return `\n${formatTable(['app', 'result', 'duration', 'URLs'], rows)}`;
}
