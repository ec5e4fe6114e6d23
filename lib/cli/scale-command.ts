import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runFailure, runModal } from '../deploy/apply';
import { type Selection, selectApps, UsageError } from '../deploy/plan';
import { writeState } from '../deploy/state';
import { formatDuration, parseDuration } from '../duration';
import { ModalCdkError } from '../errors';
import { WEB_CLASS } from '../clients/web-url';
import { clientPolicySchema, loadClientPolicy, scalingProblems } from '../policy/client-policy';
import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { reportUsage } from './report';

export const SCALE_HELP = `Usage: modal-cdk scale --app <id> [--min <n>] [--max <n>] [--buffer <n>] [--scaledown <duration>] [options]

Changes the live autoscaler of a deployed app's GPU class without a redeploy: Modal's
\`Cls.update_autoscaler\`, run through the project's Python with the \`modal\` package (the same token as
the modal CLI). Settings left out keep their live value. The limits of the client policy (\`scaling\`:
maxWarmContainers for min + buffer, maxContainers) are checked first. The change is recorded in
.modal-cdk/state/<env>.json, and \`status\` shows live scaling that differs from the stack. The next deploy
of the app resets the autoscaler to the stack's settings (Modal does), and clears the record.

Options:
  -a, --app <id>            The app, by its id in the stack (required)
      --min <n>             Containers kept warm with no traffic (min_containers)
      --max <n>             Most containers at once (max_containers)
      --buffer <n>          Idle containers kept beside the busy ones (buffer_containers)
      --scaledown <dur>     How long an idle container stays up, e.g. 5m (scaledown_window)
  -e, --env <name>          Modal environment (default: cdk-like.json modal.environment, else main)
      --python <exe>        The Python with the modal package (default: .venv/bin/python, else python3)
  -h, --help                Show this help

Exit codes: 0 changed and recorded, 1 Modal refused or failed (nothing recorded), 2 usage error or a
setting over the client policy's limits.
`;

/**
 * What runs in the project's Python: the app's GPU class by name, its autoscaler updated; prints the
 * settings Modal answers with as one JSON line. argv[1]: {"app", "cls", "env", "settings"}.
 */
export const UPDATE_AUTOSCALER_PY = `import json, sys
try:
    import modal
except ImportError:
    print("modal-cdk-scale-no-modal " + sys.executable)
    sys.exit(3)
a = json.loads(sys.argv[1])
try:
    cls = modal.Cls.from_name(a["app"], a["cls"], environment_name=a["env"])
    live = cls().update_autoscaler(**a["settings"])
except Exception as e:  # one line, not a traceback: the command says what failed
    said = str(e).strip().splitlines()
    print("modal-cdk-scale-error " + type(e).__name__ + (": " + said[0] if said else ""))
    sys.exit(1)
print("modal-cdk-scale " + json.dumps({k: getattr(live, k) for k in ("min_containers", "max_containers", "buffer_containers", "scaledown_window")}))
`;

type Out = NodeJS.WritableStream;

export async function scaleCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: {
    app?: string;
    min?: string;
    max?: string;
    buffer?: string;
    scaledown?: string;
    env?: string;
    python?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a' },
        min: { type: 'string' },
        max: { type: 'string' },
        buffer: { type: 'string' },
        scaledown: { type: 'string' },
        env: { type: 'string', short: 'e' },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'scale', (e as Error).message);
  }
  if (values.help) {
    out.write(SCALE_HELP);
    return 0;
  }
  if (!values.app) return reportUsage(err, 'scale', 'expected --app <id>');
  const count = (flag: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < min)
      throw new UsageError(`--${flag}: got ${JSON.stringify(text)}, expected a whole number ≥ ${min}`);
    return Number(text);
  };
  let settings: {
    min_containers?: number;
    max_containers?: number;
    buffer_containers?: number;
    scaledown_window?: number;
  };
  try {
    const scaledown = values.scaledown === undefined ? undefined : parseDuration(values.scaledown);
    if (values.scaledown !== undefined && (scaledown === undefined || scaledown < 2)) {
      throw new UsageError(
        `--scaledown: got ${JSON.stringify(values.scaledown)}, expected a duration such as 30s or 5m (at least 2 s)`,
      );
    }
    settings = Object.fromEntries(
      Object.entries({
        min_containers: count('min', values.min, 0),
        max_containers: count('max', values.max, 1),
        buffer_containers: count('buffer', values.buffer, 0),
        scaledown_window: scaledown,
      }).filter(([, v]) => v !== undefined),
    );
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'scale', e.message);
    throw e;
  }
  if (Object.keys(settings).length === 0)
    return reportUsage(err, 'scale', 'expected at least one of --min, --max, --buffer, --scaledown');
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  const root = process.cwd();
  let selection: Selection;
  try {
    selection = selectApps(config, root, env, [values.app], false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'scale', e.message);
    throw e;
  }
  const step = selection.selected[0];
  const app = selection.manifest.apps.find((a) => a.id === step.appId)!;
  const recorded = selection.state.scaling?.[step.appId];
  // The autoscaler after the change: what is given, else what scale set before, else the stack's.
  const after = {
    minContainers: settings.min_containers ?? recorded?.minContainers ?? app.minContainers,
    maxContainers: settings.max_containers ?? recorded?.maxContainers ?? app.maxContainers,
    bufferContainers: settings.buffer_containers ?? recorded?.bufferContainers ?? app.bufferContainers,
    scaledownWindowSeconds: settings.scaledown_window ?? recorded?.scaledownWindowSeconds ?? app.scaledownWindowSeconds,
  };
  const policy = config.clientPolicy
    ? loadClientPolicy(path.resolve(config.clientPolicy), config.clientPolicy)
    : clientPolicySchema.parse({});
  const problems = scalingProblems(policy, after);
  if (after.maxContainers !== null && after.minContainers > after.maxContainers) {
    problems.push(`min ${after.minContainers} containers, more than max ${after.maxContainers}`);
  }
  if (problems.length > 0) return reportUsage(err, 'scale', `${step.appId}: ${problems.join('; ')} — nothing changed`);
  const python = values.python ?? (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3');
  const request = { app: step.modalName, cls: WEB_CLASS, env, settings };
  const printed: string[] = [];
  const run = await runModal(['-c', UPDATE_AUTOSCALER_PY, JSON.stringify(request)], {
    command: python,
    cwd: root,
    timeoutSeconds: 120,
    signal: new AbortController().signal,
    onLine: (line) => printed.push(line),
  });
  const answer = printed.find((l) => l.startsWith('modal-cdk-scale '));
  if (run.kind !== 'ok' || answer === undefined) {
    if (run.kind === 'not-found')
      throw new ModalCdkError([
        { path: '--python', message: `${python} was not found: pass --python <a Python with the modal package>` },
      ]);
    const noModal = printed.find((l) => l.startsWith('modal-cdk-scale-no-modal '));
    if (noModal)
      throw new ModalCdkError([
        {
          path: '--python',
          message: `${python} (${noModal.slice('modal-cdk-scale-no-modal '.length)}) has no modal package: install it (${python} -m pip install modal), or pass --python <a Python that has it>; nothing changed`,
        },
      ]);
    const failed = printed.find((l) => l.startsWith('modal-cdk-scale-error '));
    if (failed) {
      err.write(
        `modal-cdk scale: update_autoscaler of ${step.modalName} in "${env}" failed: ${failed.slice('modal-cdk-scale-error '.length)}; nothing recorded\n`,
      );
      return 1;
    }
    const why = run.kind === 'ok' ? 'printed no settings' : runFailure(run, 'see its output above', 'took over 120 s');
    err.write(
      `${printed.join('\n')}\nmodal-cdk scale: update_autoscaler of ${step.modalName} ${why}; nothing recorded\n`,
    );
    return 1;
  }
  const live = JSON.parse(answer.slice('modal-cdk-scale '.length)) as Record<string, number | null>;
  writeState(root, env, (state) => {
    state.scaling = {
      ...state.scaling,
      [step.appId]: { ...after, maxContainers: after.maxContainers ?? null, at: new Date().toISOString() },
    };
  });
  out.write(
    `Scaled ${step.modalName} in "${env}": min ${live.min_containers ?? after.minContainers}, max ${live.max_containers ?? after.maxContainers ?? 'no limit'}, buffer ${live.buffer_containers ?? after.bufferContainers}, scaledown ${formatDuration(live.scaledown_window ?? after.scaledownWindowSeconds)}; recorded in .modal-cdk/state/${env}.json (the next deploy resets it to the stack's).\n`,
  );
  return 0;
}
