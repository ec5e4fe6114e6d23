// How the command line hands cdk-like.json's settings to a stack it builds (constructs read them as context).

import { likelyTypo } from './comfy/closest';

/** Context keys the CLI sets from `cdk-like.json` (`modal.workspace`, `modal.environment`). */
export const CONTEXT_WORKSPACE = 'modal-cdk:workspace';
/** Context key of the Modal environment synthesized for (`--env`, else cdk-like.json `modal.environment`). */
export const CONTEXT_ENVIRONMENT = 'modal-cdk:environment';
/** Context key of the client policy file (cdk-like.json `clientPolicy`), relative to the project root. */
export const CONTEXT_CLIENT_POLICY = 'modal-cdk:client-policy';
/** Context key of the environment's Modal web suffix (cdk-like.json environments.<env>.webSuffix). */
export const CONTEXT_WEB_SUFFIX = 'modal-cdk:web-suffix';
/** Context key of the environments cdk-like.json lists (its `environments`' names), when it lists any. */
export const CONTEXT_ENVIRONMENTS = 'modal-cdk:environments';
/** Environment variable through which the CLI hands `cdk-like.json`'s context to the app. */
export const CONTEXT_ENV_VAR = 'MODAL_CDK_CONTEXT';
/** Set by `modal-cdk synth` when it runs the app as a child process: where the app writes its assembly. */
export const OUTDIR_ENV_VAR = 'MODAL_CDK_OUTDIR';
/** Set with it when the command stages its synth: where the app writes instead, checked as the output (lib/synth/stage.ts). */
export const STAGE_ENV_VAR = 'MODAL_CDK_STAGE_DIR';

/**
 * The ends of a release path (promote's --from/--to, ModalProject releasePath) that `listed`, cdk-like.json's
 * environments, lacks: each with what it got and what is valid.
 */
export function unlistedEnds(
  ends: { readonly from: string; readonly to: string },
  listed: readonly string[],
): { end: 'from' | 'to'; problem: string }[] {
  return (['from', 'to'] as const)
    .filter((end) => !listed.includes(ends[end]))
    .map((end) => {
      const near = likelyTypo(ends[end], listed);
      return {
        end,
        problem: `got "${ends[end]}", which cdk-like.json's environments do not list: expected one of ${listed.map((e) => `"${e}"`).join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`,
      };
    });
}
