import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CONTEXT_CLIENT_POLICY,
  CONTEXT_ENV_VAR,
  CONTEXT_ENVIRONMENT,
  CONTEXT_ENVIRONMENTS,
  CONTEXT_WEB_SUFFIX,
  CONTEXT_WORKSPACE,
  OUTDIR_ENV_VAR,
  STAGE_ENV_VAR,
} from '../context';
import { type Config, configForEnv, environmentContextWarnings } from './config';
import { ModalCdkError, type Problem } from '../errors';
import { canLoad, loadProject } from './load-app';
import { type Manifest, manifestSchema } from '../synth/spec';

export { loadProject } from './load-app';

/**
 * Builds the tree that `config.app` names and writes its assembly to `outdir` (or to `stageDir`, checked
 * as `outdir`: lib/synth/stage.ts). A `ts-node`/`node`
 * command on a file is loaded in this process (no second Node start-up, which costs more than the
 * synth itself); any other command runs as a child process that synthesizes by itself.
 */
export function synthFromConfig(
  config: Config,
  outdir: string,
  strict = false,
  stageDir?: string,
): { manifest: Manifest; fileCount: number; warnings: Problem[] } {
  applyConfigContext(config);
  const file = inProcessAppFile(config.app);
  if (file && canLoad(file)) {
    const assembly = loadProject(path.resolve(file), config.app).synth({ outdir, strict, stageDir });
    return {
      manifest: assembly.manifest,
      fileCount: assembly.files.size,
      warnings: [...environmentContextWarnings(config), ...assembly.warnings],
    };
  }
  // The child prints its own warnings (runApp) and fails on them with MODAL_CDK_STRICT=1.
  const child = spawnSync(config.app, {
    shell: true,
    stdio: 'inherit',
    env: {
      ...process.env,
      [OUTDIR_ENV_VAR]: outdir,
      [STAGE_ENV_VAR]: stageDir ?? '',
      ...(strict && { [STRICT_ENV_VAR]: '1' }),
    },
  });
  if (child.status !== 0) {
    throw new ModalCdkError([
      {
        path: 'cdk-like.json app',
        message: `"${config.app}" exited with ${child.status ?? child.signal}: see its output above`,
      },
    ]);
  }
  const written = stageDir ?? outdir;
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(written, 'manifest.json'), 'utf8')));
  return {
    manifest,
    fileCount: readdirSync(written, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length,
    warnings: environmentContextWarnings(config),
  };
}

/**
 * Hands cdk-like.json's context, workspace and environment to the projects built next (via the
 * environment): the context and web suffix of `modal.environment`'s entry of `environments`, if any.
 */
export function applyConfigContext(config: Config): void {
  const { context: own, webSuffix } = configForEnv(config, config.modal.environment);
  const context = {
    ...own,
    [CONTEXT_WORKSPACE]: config.modal.workspace,
    [CONTEXT_ENVIRONMENT]: config.modal.environment,
    ...(webSuffix && { [CONTEXT_WEB_SUFFIX]: webSuffix }),
    ...(config.environments && { [CONTEXT_ENVIRONMENTS]: Object.keys(config.environments) }),
    // cdk-like.json paths are relative to it (the cwd), the project's to its root: hand over an absolute one.
    ...(config.clientPolicy && { [CONTEXT_CLIENT_POLICY]: path.resolve(config.clientPolicy) }),
  };
  process.env[CONTEXT_ENV_VAR] = JSON.stringify(context);
}

/** The file of `ts-node [flags] file.ts` or `node [flags] file.js`, else undefined. */
export function inProcessAppFile(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  const runner = path.basename(words[0]);
  if (!['ts-node', 'node', 'npx'].includes(runner)) return undefined;
  const file = words.slice(1).find((w) => !w.startsWith('-') && w !== 'ts-node');
  return file && /\.(ts|js|cjs)$/.test(file) ? file : undefined;
}

/** Set for an app command run as a child process of `synth --strict`. */
export const STRICT_ENV_VAR = 'MODAL_CDK_STRICT';
