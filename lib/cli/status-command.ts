import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { reportUsage } from './report';
import { formatTable } from '../table';
import type { PlanStep } from '../deploy/apply';
import { modalArgs } from '../deploy/modal-args';
import { appHistorySchema, appListSchema, modalJson } from '../deploy/modal-json';
import { selectApps } from '../deploy/plan';
import type { DeployRecord } from '../deploy/state';

export const STATUS_HELP = `Usage: modal-cdk status [options]

For each app of the stack: the content synth would deploy now (hash), what .modal-cdk/state/<env>.json says
was deployed from here, and what Modal reports (\`modal app list --json\`, and the newest entry of
\`modal app history <name> --json\`, whose tag deploy sets to the hash's first 12 characters):

  up to date               Modal runs what this project deployed, and synth would deploy the same
  changed since deploy     Modal runs what this project deployed, but the stack changed since: deploy it
  missing on Modal         Modal has no such app in the environment (never deployed, or deleted)
  stopped                  the app exists on Modal but is stopped or disabled, or \`destroy\` stopped it
  deployed from elsewhere  Modal's newest version has a tag this project did not deploy (another
                           checkout, a hand-run modal deploy, or a rollback not done by modal-cdk)

Options:
  -e, --env <name>   Modal environment (default: cdk-like.json modal.environment, else main)
      --json         Print JSON: [{ app, modalName, status, synthHash, deployedHash, modal: { state, version, tag } }]
  -h, --help         Show this help

Exit codes: 0 every app up to date, 1 drift (any other status) or Modal could not be asked, 2 usage error.
`;

export type AppStatus =
  | 'up to date'
  | 'changed since deploy'
  | 'missing on Modal'
  | 'stopped'
  | 'deployed from elsewhere';

export interface StatusRow {
  readonly app: string;
  readonly modalName: string;
  readonly status: AppStatus;
  readonly synthHash: string;
  readonly deployedHash: string | null;
  readonly modal: { readonly state: string | null; readonly version: string | null; readonly tag: string | null };
  /** Live autoscaler settings `scale` set that differ from the stack's: setting → { live, stack }. */
  readonly liveScaling?: Record<string, { live: number | null; stack: number | null }>;
}

/** What Modal's listing and newest history entry say about one app, compared with synth and the state file. */
export function appStatus(
  step: PlanStep,
  recorded: DeployRecord | undefined,
  modalState: string | null,
  newest: { version: string; tag?: string | null } | undefined,
): AppStatus {
  if (modalState === null) return 'missing on Modal';
  if (modalState !== 'deployed') return 'stopped';
  const tag = newest?.tag ?? null;
  const ours =
    recorded !== undefined &&
    ((tag !== null && tag === recorded.tag) ||
      (recorded.version !== undefined && newest?.version === recorded.version));
  if (tag === step.hash.slice(0, 12) || (ours && recorded.hash === step.hash)) return 'up to date';
  return ours ? 'changed since deploy' : 'deployed from elsewhere';
}

export async function statusCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let values: { env?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        env: { type: 'string', short: 'e' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'status', (e as Error).message);
  }
  if (values.help) {
    out.write(STATUS_HELP);
    return 0;
  }
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  const { selected, state, manifest, outdir: cwd } = selectApps(config, process.cwd(), env, 'all', false);
  const list = await modalJson(modalArgs.appList(env), appListSchema, cwd);
  if (!list.ok) {
    err.write(`modal-cdk status: could not ask Modal: ${list.reason}\n`);
    return 1;
  }
  const rows: StatusRow[] = [];
  for (const step of selected) {
    const entries = list.data.filter((a) => a.description === step.modalName);
    // A name can have old stopped entries beside the deployed one: the deployed one counts.
    const modalState = entries.find((a) => a.state === 'deployed')?.state ?? entries[0]?.state ?? null;
    let newest: { version: string; tag?: string | null } | undefined;
    if (modalState === 'deployed') {
      const history = await modalJson(modalArgs.appHistory(step.modalName, env), appHistorySchema, cwd);
      if (!history.ok) {
        err.write(`modal-cdk status: could not read the history of ${step.modalName}: ${history.reason}\n`);
        return 1;
      }
      newest = history.data[0];
    }
    const recorded = state.apps[step.appId];
    // An app destroy stopped may no longer be listed: the state says what happened to it.
    const destroyed = state.stopped?.[step.appId] !== undefined && modalState !== 'deployed';
    rows.push({
      app: step.appId,
      modalName: step.modalName,
      status: destroyed ? 'stopped' : appStatus(step, recorded, modalState, newest),
      synthHash: step.hash,
      deployedHash: recorded?.hash ?? null,
      modal: { state: modalState, version: newest?.version ?? null, tag: newest?.tag ?? null },
      ...liveScaling(state.scaling?.[step.appId], manifest.apps.find((a) => a.id === step.appId)!),
    });
  }
  if (values.json) out.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    const short = (hash: string | null) => (hash ? hash.slice(0, 12) : '-');
    out.write(`Environment "${env}":\n`);
    out.write(
      formatTable(
        ['app', 'Modal name', 'synth', 'deployed', 'on Modal', 'status'],
        rows.map((r) => [
          r.app,
          r.modalName,
          short(r.synthHash),
          short(r.deployedHash),
          r.modal.state === null
            ? '-'
            : [r.modal.state, r.modal.version, r.modal.tag && `tag ${r.modal.tag}`].filter(Boolean).join(' '),
          r.liveScaling
            ? `${r.status}; live scaling ${Object.entries(r.liveScaling)
                .map(([k, v]) => `${k} ${v.live ?? 'none'} (stack ${v.stack ?? 'none'})`)
                .join(', ')}`
            : r.status,
        ]),
      ),
    );
  }
  return rows.every((r) => r.status === 'up to date') ? 0 : 1;
}

/** The settings `scale` changed (recorded) that differ from what the stack deploys. */
function liveScaling(
  live:
    | { minContainers: number; maxContainers: number | null; bufferContainers: number; scaledownWindowSeconds: number }
    | undefined,
  stack: {
    minContainers: number;
    maxContainers: number | null;
    bufferContainers: number;
    scaledownWindowSeconds: number;
  },
): { liveScaling?: StatusRow['liveScaling'] } {
  if (!live) return {};
  const keys = ['minContainers', 'maxContainers', 'bufferContainers', 'scaledownWindowSeconds'] as const;
  const differing = keys.filter((k) => live[k] !== stack[k]).map((k) => [k, { live: live[k], stack: stack[k] }]);
  return differing.length > 0 ? { liveScaling: Object.fromEntries(differing) } : {};
}
