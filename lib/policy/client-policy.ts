import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, parse as parseYaml, parseDocument } from 'yaml';
import { z } from 'zod';
import { durationSchema, formatDuration } from '../duration';
import { ModalCdkError, parseProps, type Problem, show } from '../errors';
import type { AppSpec, EndpointSpec } from '../synth/spec';
import * as path from 'node:path';
import { appGpus, GPU_TYPES, parseGpu } from './gpu';
import { gpuFitProblems, loadMeasurements, type Measurements, measuredOn } from './gpu-fit';

/**
 * `client-policy.yaml`: the clients' side of the contract (DESIGN §7). Client timeouts per endpoint path
 * (others take the default) and the GPUs apps may use; synth and deploy check the stack against it.
 */
const gpuTypeSchema = z.enum(Object.keys(GPU_TYPES) as [string, ...string[]]);
const gpusSchema = z.strictObject({ allowed: z.array(gpuTypeSchema).min(1) });

export const clientPolicySchema = z.strictObject({
  defaults: z.strictObject({ clientTimeout: durationSchema.optional() }).default({}),
  gpus: gpusSchema.optional(),
  apps: z.record(z.string(), z.strictObject({ gpus: gpusSchema })).default({}),
  endpoints: z
    .record(
      z.string().regex(/^\//, 'expected an endpoint path starting with "/"'),
      z.strictObject({ clientTimeout: durationSchema }),
    )
    .default({}),
  /** A file of GPU measurements (test/gpu/measure.py), relative to the policy file: rule 5 checks against it. */
  measurements: z.string().min(1).optional(),
  /** Limits on containers, which `modal-cdk scale` (and synth, for the stack's own settings) checks. */
  scaling: z
    .strictObject({
      /** Most containers any app may run at once (its max). */
      maxContainers: z.number().int().positive().optional(),
      /** Most GPUs any app may keep warm with no traffic (min + buffer containers). */
      maxWarmContainers: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

/** What `scale` (or the stack) would set, against the policy's `scaling` limits; one message each. */
export function scalingProblems(
  policy: Pick<ClientPolicy, 'scaling'>,
  settings: { minContainers?: number; maxContainers?: number | null; bufferContainers?: number },
): string[] {
  const limits = policy.scaling ?? {};
  const problems: string[] = [];
  const warm = (settings.minContainers ?? 0) + (settings.bufferContainers ?? 0);
  if (limits.maxWarmContainers !== undefined && warm > limits.maxWarmContainers) {
    problems.push(
      `${warm} warm containers (min + buffer), more than the client policy's scaling.maxWarmContainers ${limits.maxWarmContainers}`,
    );
  }
  if (limits.maxContainers !== undefined && settings.maxContainers == null) {
    problems.push(
      `no max containers, so it can scale without bound, past the client policy's scaling.maxContainers ${limits.maxContainers}: set maxContainers (at most ${limits.maxContainers})`,
    );
  } else if (
    limits.maxContainers !== undefined &&
    settings.maxContainers != null &&
    settings.maxContainers > limits.maxContainers
  ) {
    problems.push(
      `max ${settings.maxContainers} containers, more than the client policy's scaling.maxContainers ${limits.maxContainers}`,
    );
  }
  return problems;
}
export type ClientPolicy = z.output<typeof clientPolicySchema>;

/** Modal answers a web request that runs longer than this with a 303 to a result URL (reference/modal.md). */
export const WEB_REDIRECT_SECONDS = 150;

/** Reads and validates a policy file; problems name the file's key, the value and what is allowed. */
export function loadClientPolicy(
  file: string,
  shownAs: string,
): ClientPolicy & { measured?: Measurements; measuredAs?: string } {
  if (!existsSync(file)) {
    throw new ModalCdkError([
      { path: shownAs, message: `not found: create it, or leave clientPolicy out of cdk-like.json` },
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    const text = readFileSync(file, 'utf8');
    throw new ModalCdkError([{ path: shownAs, message: `not valid YAML: ${yamlProblem(text, e as Error)}` }]);
  }
  const policy = parseProps(clientPolicySchema, raw, shownAs, 'key');
  if (!policy.measurements) return policy;
  const measuredFile = path.resolve(path.dirname(file), policy.measurements);
  const measuredAs = path.join(path.dirname(shownAs), policy.measurements);
  return { ...policy, measured: loadMeasurements(measuredFile, measuredAs), measuredAs };
}

/** What the YAML parser found wrong, in one line; a repeated key is named by its path. */
function yamlProblem(text: string, e: Error & { code?: string }): string {
  const said = e.message.split('\n')[0];
  if (e.code !== 'DUPLICATE_KEY') return said;
  const repeated = duplicateKeys(parseDocument(text, { uniqueKeys: false }).contents, []);
  return repeated.length
    ? `key '${repeated[0]}' is given twice (${said.replace(/^Map keys must be unique /, '')}): keep one of them`
    : said;
}

/** The dotted paths of keys a YAML map gives more than once (nested maps too). */
function duplicateKeys(node: unknown, at: string[]): string[] {
  if (!isMap(node)) return [];
  const seen = new Set<string>();
  return node.items.flatMap((pair) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const twice = seen.has(key) ? [[...at, key].join('.')] : [];
    seen.add(key);
    return [...twice, ...duplicateKeys(pair.value, [...at, key])];
  });
}

export interface PolicyOutcome {
  /** The apps with each endpoint's client timeout taken from the policy. */
  readonly apps: Omit<AppSpec, 'hash'>[];
  /** Rule violations that fail synth and deploy. */
  readonly errors: Problem[];
  /** Findings that print and pass (`--strict` makes them fail). */
  readonly warnings: Problem[];
}

/**
 * Applies the policy's client timeouts (`clientTimeoutOf`: `ownClientTimeouts` holds the construct paths
 * of endpoints that set their own) and checks rules 1-4 of DESIGN §7:
 * 1. each app's GPUs are allowed; 2. an app's timeout covers its endpoints' client timeouts (warn above
 * twice); 3. every policy entry names an endpoint; 4. requests over 150 s: called as jobs, or clients must follow 303s;
 * 5. with `measurements`: GPU memory and server timeouts against measured runs (policy/gpu-fit.ts).
 */
export function applyClientPolicy(
  apps: Omit<AppSpec, 'hash'>[],
  policy: ClientPolicy & { measured?: Measurements; measuredAs?: string },
  policyFile: string,
  ownClientTimeouts: ReadonlySet<string> = new Set(),
): PolicyOutcome {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const known = new Set(apps.flatMap((a) => a.endpoints.map((e) => e.path)));
  for (const path of Object.keys(policy.endpoints)) {
    if (!known.has(path))
      errors.push({
        path: `${policyFile} endpoints`,
        message: `"${path}" names no endpoint of the stack (rule 3: no stale entries): remove it, or fix the path — known: ${show([...known].sort())}`,
      });
  }
  for (const id of Object.keys(policy.apps)) {
    if (!apps.some((a) => a.id === id))
      errors.push({
        path: `${policyFile} apps`,
        message: `"${id}" names no app of the stack: expected one of ${show(apps.map((a) => a.id))}`,
      });
  }
  for (const app of apps) {
    // Rule 6: the stack's own scaling (its warm schedule's busiest entry too) within the policy's limits.
    const minContainers = Math.max(app.minContainers, ...app.warmSchedule.map((e) => e.minContainers));
    for (const problem of scalingProblems(policy, {
      minContainers,
      maxContainers: app.maxContainers,
      bufferContainers: app.bufferContainers,
    })) {
      errors.push({
        path: app.constructPath,
        message: `app ${app.id}: ${problem} (rule 6) — lower it, or raise the limit in ${policyFile}`,
      });
    }
  }
  const withPolicy = apps.map((app) => {
    const allowed = policy.apps[app.id]?.gpus.allowed ?? policy.gpus?.allowed;
    for (const gpu of appGpus(app)) {
      const parsed = parseGpu(gpu);
      const type = 'type' in parsed ? parsed.type : gpu;
      if (allowed && !allowed.includes(type))
        errors.push({
          path: app.constructPath,
          message: `app ${app.id}: GPU ${show(gpu)} is not allowed by ${policyFile} (rule 1): expected one of ${show(allowed)} — change the app's gpu, or allow it in the policy`,
        });
    }
    const endpoints = app.endpoints.map((e) => {
      const entry = policy.endpoints[e.path]?.clientTimeout;
      const own = ownClientTimeouts.has(e.constructPath) ? e.clientTimeoutMs / 1000 : undefined;
      if (entry !== undefined && own !== undefined && entry !== own) {
        errors.push({
          path: e.constructPath,
          message: `${e.path}: two client timeouts, the endpoint's clientTimeout ${formatDuration(own)} and ${formatDuration(entry)} in ${policyFile}: expected one — remove the endpoint's clientTimeout (the policy is the clients' contract), or make them equal`,
        });
      }
      const seconds = clientTimeoutOf(e.timeoutSeconds, entry, own, policy.defaults.clientTimeout);
      return { ...e, clientTimeoutMs: seconds * 1000 };
    });
    const longest = Math.max(...endpoints.map((e) => e.clientTimeoutMs / 1000));
    for (const e of endpoints) {
      const client = e.clientTimeoutMs / 1000;
      if (app.timeoutSeconds < client) {
        errors.push({
          path: e.constructPath,
          message: `app ${app.id}: timeout ${formatDuration(app.timeoutSeconds)} is shorter than the client timeout ${formatDuration(client)} of ${e.path} (rule 2: the server would stop work the client still waits for, a 408) — set the app's timeout to at least ${formatDuration(client)}, or lower the policy's clientTimeout`,
        });
      }
    }
    // The app needs at least its longest endpoint timeout too: never advise going below it.
    const needed = Math.max(longest, ...endpoints.map((e) => e.timeoutSeconds));
    if (app.timeoutSeconds > 2 * needed) {
      warnings.push({
        path: app.constructPath,
        id: 'client-policy-rule-2',
        message: `app ${app.id}: timeout ${formatDuration(app.timeoutSeconds)} is more than twice what its endpoints need, ${formatDuration(needed)} (their longest client or server timeout; rule 2: GPU time paid for work nobody waits for) — lower it toward ${formatDuration(needed)}`,
      });
    }
    return { ...app, endpoints };
  });
  const measured = policy.measured;
  const fit = measured ? gpuFitProblems(withPolicy, measured, policy.measuredAs ?? 'measurements') : undefined;
  const withMeasured = withPolicy.map((app) => ({
    ...app,
    endpoints: app.endpoints.map((e) => ({
      ...e,
      measured:
        measured && app.gpu !== null ? measuredOn(measured, e.path, appGpus(app)[0], e.fp8DiffusionModel) : e.measured,
    })),
  }));
  const apps4 = withMeasured.map((app) => longRequests(app, warnings));
  return {
    apps: apps4,
    errors: [...errors, ...(fit?.errors ?? [])],
    warnings: [...warnings, ...(fit?.warnings ?? [])],
  };
}

/**
 * Rule 4: an endpoint whose client timeout, or measured run (warm time × the GPU's time factor + load, rule
 * 5's figures), is over 150 s outlives a web request (Modal answers it with a 303 to a result URL). One that
 * takes jobs is called as a job by the generated clients (`callAsJob`; a note names it); one that does not is
 * a warning with the fix.
 */
function longRequests<A extends Omit<AppSpec, 'hash'>>(app: A, warnings: Problem[]): A {
  const seconds = (e: EndpointSpec) =>
    Math.max(e.clientTimeoutMs / 1000, e.measured ? e.measured.estimatedWarmSeconds + e.measured.loadSeconds : 0);
  const over = (e: EndpointSpec) => seconds(e) > WEB_REDIRECT_SECONDS;
  const shown = (e: EndpointSpec) =>
    `${e.path} (${e.clientTimeoutMs / 1000 >= seconds(e) ? formatDuration(e.clientTimeoutMs / 1000) : `${Math.round(seconds(e))} s measured`})`;
  const asJobs = app.endpoints.filter((e) => over(e) && e.jobs);
  const syncOnly = app.endpoints.filter((e) => over(e) && !e.jobs);
  if (asJobs.length > 0)
    warnings.push({
      path: app.constructPath,
      note: true,
      id: 'client-policy-rule-4',
      message: `app ${app.id}: over ${WEB_REDIRECT_SECONDS}s: ${asJobs.map(shown).join(', ')} (rule 4): the generated clients call them as jobs (submit, then poll the job front door), since Modal answers a web request past ${WEB_REDIRECT_SECONDS}s with a 303 to a result URL`,
    });
  if (syncOnly.length > 0)
    warnings.push({
      path: app.constructPath,
      id: 'client-policy-rule-4',
      message: `app ${app.id}: over ${WEB_REDIRECT_SECONDS}s without jobs: ${syncOnly.map(shown).join(', ')} (rule 4): Modal answers such requests with a 303 to a result URL, which clients must follow (the generated clients do; browsers with CORS cannot) — turn jobs on (ComfyApp jobs, Endpoint jobs) so clients submit and poll instead`,
    });
  return { ...app, endpoints: app.endpoints.map((e) => ({ ...e, callAsJob: e.jobs && over(e) })) };
}

/**
 * An endpoint's client timeout, in this order: its policy entry; else its own `clientTimeout`; else the
 * policy's default, but never shorter than the endpoint's server timeout (clients would give up on work
 * the server still does); else its server timeout. An entry and a different own value are an error
 * (reported by the caller), never a silent choice.
 */
export function clientTimeoutOf(
  serverSeconds: number,
  entry: number | undefined,
  own: number | undefined,
  fallback: number | undefined,
): number {
  if (entry !== undefined) return entry;
  if (own !== undefined) return own;
  return Math.max(fallback ?? serverSeconds, serverSeconds);
}
