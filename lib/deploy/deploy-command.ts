import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { ModalCdkError } from '../errors';
import { reportUsage, reportWarnings } from '../report';
import { AppResult, deployApp, PlanStep } from './apply';
import { acquireLock } from './lock';
import { describeStep, positiveInt, selectApps, UsageError } from './plan';
import { preflight } from './preflight';
import { recordDeploy } from './state';

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
  -h, --help             Show this help

Transient failures (network, 5xx) are retried deploy.retries times (default 2) with backoff from
deploy.retryDelaySeconds (default 5 s, doubled each time); build and auth errors are not retried.
Needs the modal CLI on PATH and a token (MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or \`modal token new\`).
Exit codes: 0 every selected app deployed or unchanged, 1 a check or a deploy failed, 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function deployCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: { app?: string[]; all?: boolean; env?: string; 'dry-run'?: boolean; force?: boolean; concurrency?: string; timeout?: string; yes?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a', multiple: true }, all: { type: 'boolean' }, env: { type: 'string', short: 'e' },
        'dry-run': { type: 'boolean' }, force: { type: 'boolean' }, concurrency: { type: 'string' }, timeout: { type: 'string' },
        yes: { type: 'boolean', short: 'y' }, help: { type: 'boolean', short: 'h' },
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
  if (Boolean(values.all) === Boolean(values.app?.length)) return reportUsage(err, 'deploy', 'expected --app <id> (one or more) or --all, not both and not neither');
  const config = loadConfig(process.cwd());
  const concurrency = positiveInt(values.concurrency, config.deploy.concurrency);
  const timeoutSeconds = positiveInt(values.timeout, config.deploy.timeoutSeconds);
  if (concurrency === undefined) return reportUsage(err, 'deploy', `--concurrency: got ${JSON.stringify(values.concurrency)}, expected a whole number ≥ 1`);
  if (timeoutSeconds === undefined) return reportUsage(err, 'deploy', `--timeout: got ${JSON.stringify(values.timeout)}, expected whole seconds ≥ 1`);
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();

  let selection;
  try {
    selection = selectApps(config, root, env, values.all ? 'all' : values.app!, values.force ?? false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'deploy', e.message);
    throw e;
  }
  reportWarnings(selection.warnings, err);
  out.write(`Plan for environment "${env}":\n${selection.selected.map((s) => `  ${describeStep(s, selection.state, values.force ?? false)}`).join('\n')}\n`);
  if (selection.changed.length === 0) {
    out.write(`Nothing to deploy: every selected app is as last deployed to "${env}" (--force deploys anyway).\n`);
    return 0;
  }
  const outdir = path.resolve(config.output);
  if (values['dry-run']) {
    out.write(`Would run, in ${path.relative(root, outdir) || '.'}/ (${concurrency} at a time):\n`);
    for (const step of selection.changed) out.write(`  modal ${step.args.join(' ')}\n`);
    return 0;
  }
  const missing = preflight();
  if (missing.length > 0) throw new ModalCdkError(missing);
  if (!values.yes) {
    if (!process.stdin.isTTY) return reportUsage(err, 'deploy', 'not a terminal, so no one can confirm: pass --yes to deploy without asking');
    const question = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await question.question(`Deploy ${selection.changed.length} app(s) to Modal environment "${env}"? [y/N] `);
    question.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      out.write('Nothing deployed.\n');
      return 1;
    }
  }

  const release = acquireLock(root, env);
  const controller = new AbortController();
  const onSigint = () => {
    err.write('\nmodal-cdk: interrupted: stopping the running deploys (what finished is recorded)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const results = await pool(selection.changed, concurrency, async (step) => {
      const prefix = `[${step.appId}] `;
      const result = await deployApp(step, {
        cwd: outdir, timeoutSeconds, retries: config.deploy.retries, retryDelaySeconds: config.deploy.retryDelaySeconds,
        onLine: (line) => out.write(`${prefix}${line}\n`), signal: controller.signal,
      });
      if (result.outcome === 'deployed' || result.outcome === 'unchanged') {
        recordDeploy(root, env, step.appId, { hash: step.hash, modalName: step.modalName, tag: step.hash.slice(0, 12), deployedAt: new Date().toISOString(), urls: result.urls }, path.join(outdir, 'apps', step.appId));
      } else {
        err.write(`${prefix}${result.outcome}: ${result.reason}\n`);
      }
      return result;
    }, controller.signal);
    out.write(summary(results, selection.unchanged));
    return results.every((r) => r.outcome === 'deployed' || r.outcome === 'unchanged') && !controller.signal.aborted ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    release();
  }
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
    ...results.map((r) => [r.appId, r.outcome === 'unchanged' ? 'unchanged (Modal skipped it)' : r.outcome, `${(r.durationMs / 1000).toFixed(1)} s`, r.urls.join(' ') || (r.reason ?? '')]),
    ...unchanged.map((s) => [s.appId, 'unchanged since last deploy', '-', '']),
  ];
  const header = ['app', 'result', 'duration', 'URLs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return `\n${[line(header), ...rows.map(line)].join('\n')}\n`;
}

