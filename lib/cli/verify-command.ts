import { writeFileSync } from 'node:fs';
import { parseCommandArgs } from './args';
import { writeState } from '../deploy/state';
import { endpointUrl, jobsUrl, webSource } from '../clients/web-url';
import { loadConfig } from './config';
import { reportUsage } from './report';
import type { AppSpec } from '../synth/spec';
import { formatTable } from '../table';
import { selectApps, type Selection, UsageError } from '../deploy/plan';
import { type EndpointCheck, proxyAuthHeaders, verifyApp } from '../deploy/verify';

export const VERIFY_HELP = `Usage: modal-cdk verify (--app <id> [--app <id> ...] | --all) [options]

Checks that deployed endpoints answer as the stack declares. Per app, GET /health; then per endpoint its
smoke request (the endpoint's smokeRequest, else a body built from the fields' defaults) twice: cold (the
first call, which loads the models) and warm (the second, seeds changed so ComfyUI's cache is missed).
Each answer must be HTTP 200 with the declared content type and a body in the declared format. Calls wait
as clients do (the endpoint's client timeout from the policy) and follow redirects (Modal's 303 after
150 s); MODAL_PROXY_TOKEN_ID / MODAL_PROXY_TOKEN_SECRET, when set, are sent as Modal-Key / Modal-Secret.
Endpoints are called one at a time: each call costs GPU time.

Where: the URL deploy recorded for the app (.modal-cdk/state/<env>.json), else the app's Modal URL in the
project's workspace (https://<workspace>--<app>-comfyui-fastapi-app.modal.run); --base-url instead points
at one app served elsewhere, e.g. modal-cdk serve on this machine.

Options:
  -a, --app <id>          Verify this app (repeatable)
      --all               Verify every app
      --endpoint <path>   Only this endpoint (repeatable), e.g. --endpoint /flux
  -e, --env <name>        Modal environment (default: cdk-like.json modal.environment, else main)
      --base-url <url>    Call <url><path> instead of Modal (one --app only), e.g. http://127.0.0.1:8000
      --jobs              Also run one endpoint per app (the first that takes jobs) through its job path:
                          submit to the app's job front door, poll the job, fetch and check its result;
                          an app with no job path to run fails (the job path was not checked)
      --jobs-optional     With --jobs: an app with no job path to run is skipped, not failed
      --json              Print the results as JSON instead of a table
      --report <file.md>  Also write a markdown report (the table, the failures, when and where)
  -h, --help              Show this help

Exit codes: 0 every endpoint passed, 1 an endpoint failed (each named with why), 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function verifyCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: {
    app?: string[];
    all?: boolean;
    endpoint?: string[];
    env?: string;
    'base-url'?: string;
    json?: boolean;
    jobs?: boolean;
    'jobs-optional'?: boolean;
    report?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a', multiple: true },
        all: { type: 'boolean' },
        endpoint: { type: 'string', multiple: true },
        env: { type: 'string', short: 'e' },
        'base-url': { type: 'string' },
        json: { type: 'boolean' },
        jobs: { type: 'boolean' },
        'jobs-optional': { type: 'boolean' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'verify', (e as Error).message);
  }
  if (values.help) {
    out.write(VERIFY_HELP);
    return 0;
  }
  if (Boolean(values.all) === Boolean(values.app?.length))
    return reportUsage(err, 'verify', 'expected --app <id> (one or more) or --all, not both and not neither');
  const baseUrl = values['base-url']?.replace(/\/+$/, '');
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(baseUrl))
    return reportUsage(
      err,
      'verify',
      `--base-url: got ${JSON.stringify(values['base-url'])}, expected an http(s) URL such as http://127.0.0.1:8000`,
    );
  if (baseUrl !== undefined && (values.all || values.app!.length > 1))
    return reportUsage(err, 'verify', '--base-url serves one app: expected exactly one --app');
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  let selection: Selection;
  try {
    selection = selectApps(config, process.cwd(), env, values.all ? 'all' : values.app!, false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'verify', e.message);
    throw e;
  }
  const apps = selection.manifest.apps.filter((a) => selection.selected.some((s) => s.appId === a.id));
  const known = apps.flatMap((a) => a.endpoints.map((e) => e.path));
  const unknown = (values.endpoint ?? []).filter((p) => !known.includes(p));
  if (unknown.length > 0)
    return reportUsage(
      err,
      'verify',
      `--endpoint: ${unknown.map((u) => JSON.stringify(u)).join(', ')} is not an endpoint of the selected apps: expected one of ${known.join(', ')}`,
    );
  const baseOf = (app: AppSpec) => baseUrl ?? deployedBaseUrl(selection, app);
  const where = baseUrl ?? `Modal environment "${env}"`;
  return (await verifyAndReport(
    apps,
    baseOf,
    {
      endpoints: values.endpoint,
      json: values.json,
      // The job front door: on Modal its own URL; served elsewhere (--base-url), the same server.
      ...(values.jobs && {
        jobsBaseOf: (app: AppSpec) => baseUrl ?? jobsUrl(webSource(selection.manifest.project), app.modalName),
        jobsOptional: values['jobs-optional'] === true,
      }),
      report: values.report,
      where,
      // Against Modal, a verify of whole apps is recorded for promote; one against --base-url is not.
      ...(baseUrl === undefined && { record: { root: process.cwd(), env } }),
    },
    out,
    err,
  ))
    ? 0
    : 1;
}

/** Where a deployed app answers: the URL its last deploy recorded, else its URL in the project's workspace. */
export function deployedBaseUrl(selection: Pick<Selection, 'state' | 'manifest'>, app: AppSpec): string {
  return selection.state.apps[app.id]?.urls[0] ?? endpointUrl(webSource(selection.manifest.project), app.modalName, '');
}

export interface ReportOptions {
  readonly endpoints?: readonly string[];
  readonly json?: boolean;
  readonly report?: string;
  /** Where the endpoints were called, for the report. */
  readonly where?: string;
  /** Where each app's job front door answers, to check its job path too (verify --jobs). */
  readonly jobsBaseOf?: (app: AppSpec) => string;
  /** With jobsBaseOf: an app with no job path to run is skipped, not failed (verify --jobs-optional). */
  readonly jobsOptional?: boolean;
  /** Record each app's result in .modal-cdk/state/<env>.json (verified), for promote. */
  readonly record?: { readonly root: string; readonly env: string };
}

/** Verifies `apps` at the URLs `baseOf` gives, prints the table (or JSON) and failures; true when all passed. */
export async function verifyAndReport(
  apps: AppSpec[],
  baseOf: (app: AppSpec) => string,
  options: ReportOptions,
  out: Out,
  err: Out,
): Promise<boolean> {
  const headers = proxyAuthHeaders();
  const checks: EndpointCheck[] = [];
  for (const app of apps) {
    if (!options.json) err.write(`Verifying ${app.id} at ${baseOf(app)}\n`);
    const jobsBaseUrl = options.jobsBaseOf?.(app).replace(/\/+$/, '');
    checks.push(
      ...(await verifyApp(app, baseOf(app).replace(/\/+$/, ''), {
        endpoints: options.endpoints,
        headers,
        jobsBaseUrl,
        jobsOptional: options.jobsOptional,
      })),
    );
  }
  const failed = checks.filter((c) => c.result === 'failed');
  const skipped = checks.filter((c) => c.result === 'skipped');
  if (options.json) out.write(`${JSON.stringify(checks, null, 2)}\n`);
  else {
    // Beside the live figures, what the GPU measurements (the client policy's `measurements`) expect, if any.
    const measured = new Map(apps.flatMap((a) => a.endpoints.map((e) => [e.path, e.measured] as const)));
    const expected = (c: EndpointCheck) => {
      const m = measured.get(c.path);
      if (!m) return '-';
      const first =
        m.firstAfterWarmupSeconds !== undefined ? `first ${m.firstAfterWarmupSeconds} s after warm-up, ` : '';
      return `${first}warm ${m.warmSeconds} s (${m.device})`;
    };
    const withExpected = checks.some((c) => measured.get(c.path));
    out.write(
      formatTable(
        ['endpoint', 'app', 'status', 'cold ms', 'warm ms', 'bytes', ...(withExpected ? ['measured on a GPU'] : [])],
        checks.map((c) => [...row(c), ...(withExpected ? [expected(c)] : [])]),
      ),
    );
    for (const c of failed) err.write(`modal-cdk verify: ${c.path} (${c.app}) failed: ${c.problem}\n`);
    for (const c of skipped) err.write(`modal-cdk verify: ${c.path} (${c.app}) skipped: ${c.problem}\n`);
    out.write(`${summaryLine(checks)}\n`);
  }
  if (options.report) writeFileSync(options.report, markdownReport(checks, options.where ?? 'Modal'));
  // What promote relies on: each app's hash and whether every endpoint of it passed (skipped ones aside).
  if (options.record && !options.endpoints?.length) {
    const { root, env } = options.record;
    writeState(root, env, (state) => {
      for (const app of apps) {
        const own = checks.filter((c) => c.app === app.id);
        const count = (r: EndpointCheck['result']) => own.filter((c) => c.result === r).length;
        state.verified = {
          ...state.verified,
          [app.id]: {
            hash: app.hash,
            passed: count('failed') === 0,
            passedEndpoints: count('passed'),
            failedEndpoints: count('failed'),
            skippedEndpoints: count('skipped'),
            at: new Date().toISOString(),
          },
        };
      }
    });
  }
  return failed.length === 0;
}

const cell = (n: number | null) => (n === null ? '-' : String(n));

function row(c: EndpointCheck): string[] {
  const status = {
    passed: `ok ${c.status}`,
    failed: `FAILED${c.status === null ? '' : ` ${c.status}`}`,
    skipped: 'skipped',
  }[c.result];
  return [c.path, c.app, status, cell(c.coldMs), cell(c.warmMs), cell(c.bytes)];
}

function summaryLine(checks: EndpointCheck[]): string {
  const count = (r: EndpointCheck['result']) => checks.filter((c) => c.result === r).length;
  return `${count('passed')} of ${checks.length} endpoint(s) passed${count('failed') ? `, ${count('failed')} failed` : ''}${count('skipped') ? `, ${count('skipped')} skipped (no smoke request: declare smokeRequest)` : ''}.`;
}

/** The report the team's benchmark script wrote by hand: when, where, the table, the failures. */
export function markdownReport(checks: EndpointCheck[], where: string, at = new Date()): string {
  const failed = checks.filter((c) => c.result !== 'passed');
  const table = [
    '| Endpoint | App | Status | Cold (ms) | Warm (ms) | Bytes |',
    '|---|---|---|---:|---:|---:|',
    ...checks.map((c) => `| \`${c.path}\` | ${row(c).slice(1).join(' | ')} |`),
  ];
  return [
    '# modal-cdk verify',
    '',
    `${at.toISOString()}, against ${where}: ${summaryLine(checks)} Cold is the first call after /health answered (ComfyUI loads the models), warm the second.`,
    '',
    ...table,
    ...(failed.length
      ? [
          '',
          '## Failed or skipped',
          '',
          ...failed.map((c) => `- \`${c.path}\` (${c.app}), ${c.result}: ${c.problem!.replace(/\s+/g, ' ')}`),
        ]
      : []),
    '',
  ].join('\n');
}
