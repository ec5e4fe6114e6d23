import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { likelyTypo } from '../comfy/closest';
import { ModalCdkError, type Problem, parseProps } from '../errors';

export const CONFIG_FILE = 'cdk-like.json';

/** `cdk-like.json`: how to build the tree, where to write it, and defaults for deploy (DESIGN §6). */
export const configSchema = z.strictObject({
  /** The command that builds the construct tree, e.g. `ts-node --swc bin/example.ts`. */
  app: z.string().min(1),
  /** Where synth writes the assembly. */
  output: z.string().min(1).default('synth.out'),
  modal: z
    .strictObject({
      workspace: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a Modal workspace name (lower-case letters, digits, "-")')
        .optional(),
      environment: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Modal environment name')
        .default('main'),
    })
    .default({ environment: 'main' }),
  /** Path of the client policy file (timeouts and GPUs clients rely on); none when left out. */
  clientPolicy: z.string().min(1).optional(),
  deploy: z
    .strictObject({
      /** How many apps `deploy` runs at once. */
      concurrency: z.number().int().min(1).max(32).default(4),
      /** Per-app limit of one `modal deploy`; past it the whole process tree is killed. */
      timeoutSeconds: z.number().int().positive().default(1800),
      /** Retries of a transient failure (network, 5xx); build errors are never retried. */
      retries: z.number().int().min(0).max(10).default(2),
      /** Wait before the first retry; doubled for each further one. */
      retryDelaySeconds: z.number().min(0).max(300).default(5),
    })
    .default({ concurrency: 4, timeoutSeconds: 1800, retries: 2, retryDelaySeconds: 5 }),
  /** Free values for `node.tryGetContext(key)`. */
  context: z.record(z.string(), z.unknown()).default({}),
  /**
   * The Modal environments of a release path (e.g. staging, then main): each a Modal environment, with its
   * web suffix when it has one (its URLs are `https://<workspace>-<suffix>--…`) and context values over
   * `context` (e.g. fewer containers in staging). When given, `--env` must name one of them.
   */
  environments: z
    .record(
      z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Modal environment name'),
      z.strictObject({
        webSuffix: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a Modal web suffix (lower-case letters, digits, "-")')
          .optional(),
        context: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .optional(),
});
export type Config = z.output<typeof configSchema>;

/**
 * The config as one environment sees it: `modal.environment` set to it, its context over the shared one,
 * its web suffix handed on. Throws when cdk-like.json names environments and `env` is not one of them.
 */
export function configForEnv(config: Config, env: string): Config & { webSuffix?: string } {
  const own = config.environments?.[env];
  if (config.environments && !own) {
    throw new ModalCdkError([
      {
        path: `${CONFIG_FILE} environments`,
        message: `environment "${env}" is not one of ${Object.keys(config.environments)
          .map((e) => `"${e}"`)
          .join(', ')}: add it to environments, or pass --env with one of them`,
      },
    ]);
  }
  return {
    ...config,
    modal: { ...config.modal, environment: env },
    context: { ...config.context, ...own?.context },
    ...(own?.webSuffix && { webSuffix: own.webSuffix }),
  };
}

/**
 * A key of an environment's `context` that the shared `context` lacks is most often a typo (as a `-c` key
 * is): a warning per key, naming the closest shared key. It is set all the same for that environment.
 */
export function environmentContextWarnings(config: Config): Problem[] {
  const shared = Object.keys(config.context);
  return Object.entries(config.environments ?? {}).flatMap(([env, own]) =>
    Object.keys(own.context)
      .filter((key) => !shared.includes(key))
      .map((key) => {
        const near = likelyTypo(key, shared);
        return {
          path: `${CONFIG_FILE} environments.${env}.context.${key}`,
          message: `not a key of the shared context${near ? ` (did you mean ${near}?)` : ''}: ${shared.length ? `it has ${shared.join(', ')}` : 'it has none'} — set all the same in "${env}"; a stack reads it only with node.tryGetContext('${key}'), so give it a default in the shared context if it is meant`,
        };
      }),
  );
}

/** Reads and validates `cdk-like.json` in `dir`; every problem names the key, the value and what is allowed. */
export function loadConfig(dir: string): Config {
  const file = path.join(dir, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ModalCdkError([
      {
        path: CONFIG_FILE,
        message: `not found in ${dir}: run modal-cdk from the project root, which has ${CONFIG_FILE}`,
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModalCdkError([{ path: CONFIG_FILE, message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseProps(configSchema, raw, CONFIG_FILE, 'key');
}
