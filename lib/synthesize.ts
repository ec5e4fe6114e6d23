import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_CLIENT_POLICY, CONTEXT_ENV_VAR, CONTEXT_ENVIRONMENT, CONTEXT_WORKSPACE, ModalProject, OUTDIR_ENV_VAR } from '../constructs/modal-project';
import { Config } from './config';
import { ModalCdkError, Problem } from './errors';
import { Manifest, manifestSchema } from './synth/model';

/**
 * Builds the tree that `config.app` names and writes its assembly to `outdir`. A `ts-node`/`node`
 * command on a file is loaded in this process (no second Node start-up, which costs more than the
 * synth itself); any other command runs as a child process that synthesizes by itself.
 */
export function synthFromConfig(config: Config, outdir: string, strict = false): { manifest: Manifest; fileCount: number; warnings: Problem[] } {
  applyConfigContext(config);
  const file = inProcessAppFile(config.app);
  if (file && canLoad(file)) {
    const assembly = loadProject(path.resolve(file)).synth({ outdir, strict });
    return { manifest: assembly.manifest, fileCount: assembly.files.size, warnings: assembly.warnings };
  }
  // The child prints its own warnings (runApp) and fails on them with MODAL_CDK_STRICT=1.
  const child = spawnSync(config.app, { shell: true, stdio: 'inherit', env: { ...process.env, [OUTDIR_ENV_VAR]: outdir, ...(strict && { [STRICT_ENV_VAR]: '1' }) } });
  if (child.status !== 0) {
    throw new ModalCdkError([{ path: 'cdk-like.json app', message: `"${config.app}" exited with ${child.status ?? child.signal}: see its output above` }]);
  }
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')));
  return { manifest, fileCount: readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length, warnings: [] };
}

/** Hands cdk-like.json's context, workspace and environment to the projects built next (via the environment). */
export function applyConfigContext(config: Config): void {
  const context = {
    ...config.context,
    [CONTEXT_WORKSPACE]: config.modal.workspace,
    [CONTEXT_ENVIRONMENT]: config.modal.environment,
    // cdk-like.json paths are relative to it (the cwd), the project's to its root: hand over an absolute one.
    ...(config.clientPolicy && { [CONTEXT_CLIENT_POLICY]: path.resolve(config.clientPolicy) }),
  };
  process.env[CONTEXT_ENV_VAR] = JSON.stringify(context);
}

/**
 * Whether this process can require the app file: JavaScript always; TypeScript when a `.ts` hook is
 * installed (this repository's CLI from source) or can be, with the @swc/core of the user's project. Else
 * the app command runs as a child process.
 */
function canLoad(file: string): boolean {
  if (!file.endsWith('.ts') || require.extensions?.['.ts']) return true;
  // The project's @swc/core, else this package's own (a checkout of modal-cdk has it as a dev tool).
  const swc = [process.cwd(), __dirname].map((dir) => {
    try {
      return require.resolve('@swc/core', { paths: [dir] });
    } catch {
      return undefined;
    }
  }).find((found) => found !== undefined);
  if (swc === undefined) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registerTypeScript } = require('../bin/swc-register') as { registerTypeScript: (o: object) => boolean };
  registerTypeScript({ loadSwc: () => require(swc), cacheDir: path.join(process.cwd(), 'node_modules', '.cache', 'modal-cdk-swc') });
  return true;
}

/** The file of `ts-node [flags] file.ts` or `node [flags] file.js`, else undefined. */
export function inProcessAppFile(command: string): string | undefined {
  const words = command.trim().split(/\s+/);
  const runner = path.basename(words[0]);
  if (!['ts-node', 'node', 'npx'].includes(runner)) return undefined;
  const file = words.slice(1).find((w) => !w.startsWith('-') && w !== 'ts-node');
  return file && /\.(ts|js|cjs)$/.test(file) ? file : undefined;
}

/** Requires the app file and gets its project: the default export, a project or a function returning one. */
export function loadProject(file: string): ModalProject {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file);
  const exported = mod.default ?? mod.project ?? mod;
  const project = typeof exported === 'function' ? exported() : exported;
  if (!ModalProject.isModalProject(project)) {
    throw new ModalCdkError([{ path: file, message: 'expected the app file to export (as default) a ModalProject or a function that returns one' }]);
  }
  return project;
}

/** Set for an app command run as a child process of `synth --strict`. */
export const STRICT_ENV_VAR = 'MODAL_CDK_STRICT';
