import { CONTEXT_ENV_VAR, CONTEXT_WORKSPACE, type ModalProject, OUTDIR_ENV_VAR } from '../../constructs/modal-project';
import { reportError, reportWarnings } from './report';
import { STAGE_ENV_VAR } from '../context';
import { STRICT_ENV_VAR } from './synthesize';

/**
 * For an app file run directly (`ts-node bin/example.ts`): synthesizes the project into
 * `$MODAL_CDK_OUTDIR` (default `synth.out`), printing problems the way the CLI does. `defaults.workspace`:
 * the Modal workspace when no cdk-like.json gives one (the app run by itself).
 */
export function runApp(build: () => ModalProject, defaults: { workspace?: string } = {}): void {
  // Run by the CLI, the context carries cdk-like.json's workspace; run by itself, the default applies.
  const context = JSON.parse(process.env[CONTEXT_ENV_VAR] ?? '{}');
  if (defaults.workspace && context[CONTEXT_WORKSPACE] === undefined) {
    process.env[CONTEXT_ENV_VAR] = JSON.stringify({ ...context, [CONTEXT_WORKSPACE]: defaults.workspace });
  }
  try {
    const result = build().synth({
      outdir: process.env[OUTDIR_ENV_VAR] ?? 'synth.out',
      strict: process.env[STRICT_ENV_VAR] === '1',
      stageDir: process.env[STAGE_ENV_VAR] || undefined,
    });
    reportWarnings(result.warnings, process.stderr);
  } catch (e) {
    process.exitCode = reportError(e, process.stderr);
  }
}
