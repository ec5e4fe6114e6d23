import { ModalProject, OUTDIR_ENV_VAR } from '../constructs/modal-project';
import { reportError, reportWarnings } from './report';
import { STRICT_ENV_VAR } from './synthesize';

/**
 * For an app file run directly (`ts-node bin/example.ts`): synthesizes the project into
 * `$MODAL_CDK_OUTDIR` (default `synth.out`), printing problems the way the CLI does.
 */
export function runApp(build: () => ModalProject): void {
  try {
    const result = build().synth({ outdir: process.env[OUTDIR_ENV_VAR] ?? 'synth.out', strict: process.env[STRICT_ENV_VAR] === '1' });
    reportWarnings(result.warnings, process.stderr);
  } catch (e) {
    process.exitCode = reportError(e, process.stderr);
  }
}
