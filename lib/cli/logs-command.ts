import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { reportUsage } from './report';
import { runFailure, runModal } from '../deploy/apply';
import { failureHint } from '../deploy/modal-output';
import { positiveInt, selectApps, UsageError, type Selection } from '../deploy/plan';

export const LOGS_HELP = `Usage: modal-cdk logs --app <id> [options]

Prints an app's logs through \`modal app logs\` with a hard time limit, so it never hangs: when the limit
comes, the modal process and everything it started are killed, what arrived stays printed, and one line
on stderr says the output was cut. The Modal name comes from the synthesized stack.

Options:
  -a, --app <id>        The app, by its id in the stack (as for deploy --app).
  --since <duration>    Only entries from that long ago on: 30m, 2h, 1d, or an ISO 8601 time (modal's --since).
  -n, --tail <n>        Only the last n entries (modal's --tail; modal's default is 100).
  -f, --follow          Stream new entries until the time limit or Ctrl-C; the limit is then off unless
                        --timeout is given, and a cut is the normal end (exit 0). Not with --since/--tail.
  --timeout <s>         Time limit in whole seconds (default 30 without --follow).
  -e, --env <name>      Modal environment (default: cdk-like.json's modal.environment).
  -h, --help            Show this help.

Exit: 0 logs printed (or --follow cut); 1 modal failed or a fetch was cut at the limit; 2 usage.
`;

/** The most entries `modal app logs --tail` fetches (modal 1.6.4: modal/_logs.py `_FETCH_LIMIT`). */
const MODAL_TAIL_MAX = 20_000;

/**
 * Whether `modal app logs --since` takes `text` (modal 1.6.4, modal/cli/_logs.py `_parse_time_arg`): a
 * duration `<n>s|m|h|d`, else what Python's `datetime.fromisoformat` reads (a date, a date-time).
 */
export function isLogsTime(text: string): boolean {
  if (/^\d+[smhd]$/.test(text)) return true;
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!iso) return false;
  const [, y, mo, d, h = '0', mi = '0', sec = '0'] = iso;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return (
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(sec) < 60
  );
}

/** No limit, for --follow without --timeout: the longest a Node timer can wait (about 24 days). */
const NO_LIMIT_SECONDS = 2_147_483;

/** The argv after `modal` (what test/python/test_real_modal_cli.py gives the real CLI). */
export function logsArgs(
  modalName: string,
  env: string,
  o: { since?: string; tail?: string; follow?: boolean },
): string[] {
  return [
    'app',
    'logs',
    modalName,
    '--env',
    env,
    ...(o.since ? ['--since', o.since] : []),
    ...(o.tail ? ['--tail', o.tail] : []),
    ...(o.follow ? ['--follow'] : []),
  ];
}

export async function logsCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let values: {
    app?: string;
    since?: string;
    tail?: string;
    follow?: boolean;
    timeout?: string;
    env?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a' },
        since: { type: 'string' },
        tail: { type: 'string', short: 'n' },
        follow: { type: 'boolean', short: 'f' },
        timeout: { type: 'string' },
        env: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'logs', (e as Error).message);
  }
  if (values.help) {
    out.write(LOGS_HELP);
    return 0;
  }
  if (!values.app) return reportUsage(err, 'logs', 'expected --app <id>');
  if (values.follow && (values.since !== undefined || values.tail !== undefined)) {
    return reportUsage(
      err,
      'logs',
      'expected --follow alone, or --since/--tail without it: modal app logs streams new entries or fetches old ones, not both',
    );
  }
  const timeoutSeconds = positiveInt(values.timeout, values.follow ? NO_LIMIT_SECONDS : 30);
  if (timeoutSeconds === undefined)
    return reportUsage(err, 'logs', `--timeout: got ${JSON.stringify(values.timeout)}, expected whole seconds ≥ 1`);
  const tail = positiveInt(values.tail, 1);
  if (tail === undefined || tail > MODAL_TAIL_MAX)
    return reportUsage(
      err,
      'logs',
      `--tail: got ${JSON.stringify(values.tail)}, expected a whole number from 1 to ${MODAL_TAIL_MAX} (what modal app logs fetches at most)`,
    );
  if (values.since !== undefined && !isLogsTime(values.since)) {
    return reportUsage(
      err,
      'logs',
      `--since: got ${JSON.stringify(values.since)}, expected a relative time such as 30m, 2h or 1d (whole s, m, h or d) or an ISO 8601 date-time such as 2026-03-01T05:00:00 — what modal app logs takes`,
    );
  }
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  let step: Selection['selected'][number];
  try {
    // Synthesized fresh, as deploy does, for the Modal name; its warnings are synth's and deploy's to say.
    step = selectApps(config, process.cwd(), env, [values.app], false).selected[0];
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'logs', e.message);
    throw e;
  }
  const args = logsArgs(step.modalName, env, values);
  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const run = await runModal(args, {
      cwd: process.cwd(),
      timeoutSeconds,
      signal: abort.signal,
      onLine: (line) => out.write(`${line}\n`),
    });
    switch (run.kind) {
      case 'ok':
        return 0;
      case 'cancelled':
        return 130;
      case 'timeout':
        err.write(
          `modal-cdk: logs of ${step.appId} (${step.modalName}) cut after ${timeoutSeconds} s (--timeout): what arrived is above${values.follow ? '' : '; modal app logs did not finish'}\n`,
        );
        return values.follow ? 0 : 1;
      case 'not-found':
        err.write(`modal-cdk: ${failureHint('not-found')}\n`);
        return 1;
      case 'failed':
        err.write(`modal-cdk: modal app logs ${runFailure(run, 'see its output above', '')}\n`);
        return 1;
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
