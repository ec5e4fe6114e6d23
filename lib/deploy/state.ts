import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ModalCdkError } from '../errors';
import { stableJson } from '../synth/json';
import { readTree, writeAssembly } from '../synth/write';

/**
 * What was deployed where, kept under `.modal-cdk/` in the project root:
 * - `state/<env>.json`: per app, the content hash (and tag, URLs, time) of its last successful deploy to
 *   that environment; written atomically after each success, so an interrupted run keeps what finished;
 * - `deployed/<env>/<app>/`: a copy of the app's files as deployed, which `diff` compares against.
 */
export const STATE_DIR = '.modal-cdk';

export const deployRecordSchema = z.strictObject({
  hash: z.string(),
  modalName: z.string(),
  tag: z.string(),
  /** ISO time of the deploy. */
  deployedAt: z.string(),
  urls: z.array(z.string()),
  /** Modal's version (`v7`) when known: set by rollback, whose new version may carry no tag. */
  version: z.string().optional(),
});
export type DeployRecord = z.infer<typeof deployRecordSchema>;

export const deployStateSchema = z.strictObject({
  version: z.literal(1),
  environment: z.string(),
  apps: z.record(z.string(), deployRecordSchema),
  /** Every tag deployed from here → its full hash, so a rollback to a tagged version knows its content. */
  tags: z.record(z.string(), z.string()).optional(),
  /**
   * The last verify of each app against Modal (`verify`, `deploy --verify`): the content hash it checked and
   * whether every endpoint passed; `promote` deploys to the next environment only what passed here.
   */
  verified: z
    .record(
      z.string(),
      z.strictObject({
        hash: z.string(),
        passed: z.boolean(),
        passedEndpoints: z.number(),
        failedEndpoints: z.number(),
        skippedEndpoints: z.number(),
        at: z.string(),
      }),
    )
    .optional(),
  /** Live autoscaler settings `scale` set (app id → them); a later deploy of the app removes its entry (Modal resets them). */
  scaling: z
    .record(
      z.string(),
      z.strictObject({
        minContainers: z.number(),
        maxContainers: z.number().nullable(),
        bufferContainers: z.number(),
        scaledownWindowSeconds: z.number(),
        at: z.string(),
      }),
    )
    .optional(),
  /** Apps `destroy` stopped (app id → when, and its Modal name); a later deploy of the app removes its entry. */
  stopped: z.record(z.string(), z.strictObject({ modalName: z.string(), stoppedAt: z.string() })).optional(),
});
export type DeployState = z.infer<typeof deployStateSchema>;

export function stateFile(root: string, env: string): string {
  return path.join(root, STATE_DIR, 'state', `${env}.json`);
}

export function deployedDir(root: string, env: string, appId: string): string {
  return path.join(root, STATE_DIR, 'deployed', env, appId);
}

export function readState(root: string, env: string): DeployState {
  const file = stateFile(root, env);
  if (!existsSync(file)) return { version: 1, environment: env, apps: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModalCdkError([
      {
        path: path.relative(root, file),
        message: `not valid JSON (${(e as Error).message}): delete it to deploy every app again, or restore it`,
      },
    ]);
  }
  const parsed = deployStateSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModalCdkError([
      {
        path: path.relative(root, file),
        message: `not a deploy state file (${parsed.error.issues[0].message}): delete it to deploy every app again`,
      },
    ]);
  }
  return parsed.data;
}

/**
 * Records one app's successful deploy: its files go to `deployed/<env>/<app>/`, then the state file is
 * rewritten through a temporary file and a rename, so a reader (or a crash) never sees half a file.
 * Synchronous on purpose: concurrent deploys finishing together cannot interleave a read and a write.
 */
export function recordDeploy(root: string, env: string, appId: string, record: DeployRecord, appDir: string): void {
  writeAssembly(deployedDir(root, env, appId), readTree(appDir));
  writeState(root, env, (state) => {
    state.apps[appId] = record;
    state.tags = { ...state.tags, [record.tag]: record.hash };
    if (state.stopped) delete state.stopped[appId];
    if (state.scaling) delete state.scaling[appId];
  });
}

/** Reads the state, lets `change` edit it, and writes it back through a temporary file and a rename. */
export function writeState(root: string, env: string, change: (state: DeployState) => void): void {
  const state = readState(root, env);
  change(state);
  const file = stateFile(root, env);
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, stableJson(state));
  renameSync(temporary, file);
}
