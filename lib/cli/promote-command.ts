import { unlistedEnds } from '../context';
import { type Selection, selectApps, UsageError } from '../deploy/plan';
import { readState } from '../deploy/state';
import { parseCommandArgs } from './args';
import { type Config, loadConfig } from './config';
import { deployCommand } from './deploy-command';
import { reportUsage } from './report';

export const PROMOTE_HELP = `Usage: modal-cdk promote --from <env> --to <env> [--app <id> ...] [options]

Deploys to one Modal environment what \`verify\` passed in another: for each app, the stack is synthesized
for --from, and its content hash must be the one the last \`verify\` (or \`deploy --verify\`) against --from
passed (recorded in .modal-cdk/state/<from>.json). Then the apps are deployed to --to as \`deploy\` does
(the client policy, the volume check, the lock, the state), built with --to's settings from cdk-like.json
"environments" (its context and web suffix): the same stack, the other environment's values.

Refused, naming the app and the reason, when --from never verified the app, its last verify failed, or
synth now gives another hash than the one verified (the stack changed since): verify it again first.
--force promotes anyway and says so.

Options:
      --from <env>     The environment that was verified, e.g. staging (required)
      --to <env>       The environment to deploy to, e.g. main (required)
  -a, --app <id>       An app to promote (repeat for several; default: every app)
  -y, --yes            Do not ask for confirmation (needed without a terminal, e.g. in CI)
      --force          Promote apps that were not verified at their current hash (loudly)
  -h, --help           Show this help

Exit codes: 0 promoted (or nothing to deploy), 1 a deploy failed, 2 usage error or a refusal.
`;

type Out = NodeJS.WritableStream;

export async function promoteCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: { from?: string; to?: string; app?: string[]; yes?: boolean; force?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        app: { type: 'string', short: 'a', multiple: true },
        yes: { type: 'boolean', short: 'y' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'promote', (e as Error).message);
  }
  if (values.help) {
    out.write(PROMOTE_HELP);
    return 0;
  }
  if (!values.from || !values.to) return reportUsage(err, 'promote', 'expected --from <env> and --to <env>');
  if (values.from === values.to)
    return reportUsage(err, 'promote', `--from and --to are both "${values.from}": expected two environments`);
  const config = loadConfig(process.cwd());
  const unlisted = unlistedEnvironments(config, { from: values.from, to: values.to });
  if (unlisted) return reportUsage(err, 'promote', unlisted);
  const root = process.cwd();
  let from: Selection;
  try {
    from = selectApps(config, root, values.from, values.app?.length ? values.app : 'all', false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'promote', e.message);
    throw e;
  }
  // What --from synthesizes is only compared with what verify passed there: it never reaches synth.out.
  from.discard();
  const verified = readState(root, values.from).verified ?? {};
  const refusals = from.selected.flatMap((step) => {
    const v = verified[step.appId];
    if (!v)
      return [
        `${step.appId}: never verified in "${values.from}" — run modal-cdk verify --app ${step.appId} --env ${values.from}`,
      ];
    if (!v.passed)
      return [
        `${step.appId}: its last verify in "${values.from}" failed (${v.failedEndpoints} endpoint(s), ${v.at}) — fix it, deploy and verify again`,
      ];
    if (v.hash !== step.hash) {
      return [
        `${step.appId}: synth now gives ${step.hash.slice(0, 12)} for "${values.from}", but verify passed ${v.hash.slice(0, 12)} (${v.at}): the stack changed since — deploy and verify it in "${values.from}" again`,
      ];
    }
    return [];
  });
  if (refusals.length > 0 && !values.force) {
    err.write(
      `modal-cdk promote: refused, nothing deployed:\n${refusals.map((r) => `  ${r}`).join('\n')}\n(--force promotes anyway)\n`,
    );
    return 2;
  }
  for (const r of refusals) err.write(`modal-cdk promote: WARNING --force: promoting what was not verified: ${r}\n`);
  out.write(
    `Promoting ${from.selected.map((s) => s.appId).join(', ')} from "${values.from}" (verified) to "${values.to}":\n`,
  );
  return deployCommand(
    ['--env', values.to, ...from.selected.flatMap((s) => ['--app', s.appId]), ...(values.yes ? ['--yes'] : [])],
    out,
    err,
  );
}

/**
 * Where cdk-like.json lists environments, `--from` and `--to` must be two of them: said before anything
 * else is checked or synthesized. Returns the usage message, or undefined.
 */
function unlistedEnvironments(config: Config, ends: { from: string; to: string }): string | undefined {
  if (!config.environments) return undefined;
  const wrong = unlistedEnds(ends, Object.keys(config.environments));
  return wrong.length ? wrong.map((w) => `--${w.end}: ${w.problem}`).join('; ') : undefined;
}
