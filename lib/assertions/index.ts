/**
 * Tests of a stack, like `aws-cdk-lib/assertions`: `Template` over a synthesized project, `Match` for
 * partial matches. Guide: docs/getting-started.md.
 * @module modal-cdk/assertions
 */
import type { IConstruct } from 'constructs';
import { CONTEXT_ENV_VAR, CONTEXT_WORKSPACE } from '../context';
import { loadConfig } from '../cli/config';
import { formatDuration } from '../duration';
import { applyConfigContext } from '../cli/synthesize';
import { ModalCdkError } from '../errors';
import type { AppSpec, EndpointSpec, Manifest, RequestField } from '../synth/spec';
import { Match, type Matcher, matches } from './match';
import { requestProblems } from './request-check';

export { Match } from './match';
export type { Matcher } from './match';

/** What `synth()` gives that the assertions read (structural: no import of the constructs). */
interface Synthesizable extends IConstruct {
  synth(): { manifest: Manifest; files: ReadonlyMap<string, string> };
}

/** An app as the assertions show it: the manifest's values, durations as written (`"10m"`). */
export type AppView = Omit<
  AppSpec,
  'hash' | 'image' | 'timeoutSeconds' | 'startupTimeoutSeconds' | 'scaledownWindowSeconds'
> & {
  /** The app's `timeout`, as a duration (`'10m'`). */
  timeout: string;
  /** Its `startupTimeout`, as a duration. */
  startupTimeout: string;
  /** Its `scaledownWindow`, as a duration. */
  scaledownWindow: string;
};
/** An endpoint as the assertions show it, with its app's id and durations as written. */
export type EndpointView = Omit<EndpointSpec, 'timeoutSeconds' | 'clientTimeoutMs' | 'fields'> & {
  /** The id of the endpoint's app. */
  app: string;
  /** The endpoint's server timeout, as a duration (`'2m'`). */
  timeout: string;
  /** How long the generated clients wait, as a duration. */
  clientTimeout: string;
  /** The request fields, by name. */
  fields: Record<string, RequestField>;
};

/**
 * Assertions on a synthesized project for users' tests, like `aws-cdk-lib/assertions`: synthesize in
 * memory once, then assert on meaning (an app's GPU, an endpoint's timeouts and output), snapshot the
 * manifest, or see the graph a request body binds to.
 *
 * ```ts
 * const template = Template.fromProject(buildProject());
 * template.hasApp('flux', { gpu: 'L40S' });
 * template.hasEndpoint('/flux', { timeout: '3m', output: 'jpeg', fields: Match.objectLike({ prompt: Match.objectLike({
 * required: true }) }) });
 * expect(template.bindRequest('/flux', { prompt: 'a fox' })['6'].inputs.text).toBe('a fox');
 * ```
 */
export class Template {
  /** Synthesizes `project` (a ModalProject) in memory; its problems throw as synth would print them. */
  public static fromProject(project: Synthesizable): Template {
    const assembly = project.synth();
    return new Template(assembly.manifest, assembly.files);
  }

  /**
   * Builds the project with `build` (your app's default export) under the settings `modal-cdk synth` gives
   * it, then synthesizes it: those of the project's `cdk-like.json` (`projectDir`: its directory; its
   * workspace, environment, client policy and context), or, without one, workspace `test`.
   */
  public static fromBuilder(build: () => Synthesizable, options: { projectDir?: string } = {}): Template {
    const saved = process.env[CONTEXT_ENV_VAR];
    try {
      if (options.projectDir !== undefined) applyConfigContext(loadConfig(options.projectDir));
      else process.env[CONTEXT_ENV_VAR] = JSON.stringify({ [CONTEXT_WORKSPACE]: 'test' });
      return Template.fromProject(build());
    } finally {
      if (saved === undefined) delete process.env[CONTEXT_ENV_VAR];
      else process.env[CONTEXT_ENV_VAR] = saved;
    }
  }

  private constructor(
    private readonly manifest: Manifest,
    private readonly files: ReadonlyMap<string, string>,
  ) {}

  /** The manifest (every app and endpoint with resolved values): stable, for snapshots. */
  public toJSON(): Manifest {
    return this.manifest;
  }

  /** The text of one synthesized file, e.g. `apps/flux/app.py`. */
  public file(name: string): string {
    const text = this.files.get(name);
    if (text === undefined)
      throw new AssertionFailed(`no file ${name} in the assembly: it has ${[...this.files.keys()].sort().join(', ')}`);
    return text;
  }

  /** The apps, by id. */
  public apps(): Record<string, AppView> {
    return Object.fromEntries(this.manifest.apps.map((a) => [a.id, appView(a)]));
  }

  /** The endpoints, by path. */
  public endpoints(): Record<string, EndpointView> {
    return Object.fromEntries(this.manifest.apps.flatMap((a) => a.endpoints.map((e) => [e.path, endpointView(a, e)])));
  }

  /** Fails unless app `id` exists and matches `props` (a subset, or any Matcher). */
  public hasApp(id: string, props: Record<string, unknown> | Matcher = {}): void {
    const app = this.apps()[id];
    if (!app)
      throw new AssertionFailed(`no app "${id}": the apps are ${Object.keys(this.apps()).join(', ') || 'none'}`);
    check(`app "${id}"`, app, props);
  }

  /** Fails unless endpoint `path` exists and matches `props` (a subset, or any Matcher). */
  public hasEndpoint(path: string, props: Record<string, unknown> | Matcher = {}): void {
    const endpoint = this.endpoints()[path];
    if (!endpoint)
      throw new AssertionFailed(
        `no endpoint "${path}": the endpoints are ${Object.keys(this.endpoints()).join(', ') || 'none'}`,
      );
    check(`endpoint "${path}"`, endpoint, props);
  }

  /** Fails unless the project has exactly `count` apps, or endpoints. */
  public resourceCountIs(kind: 'apps' | 'endpoints', count: number): void {
    const actual = kind === 'apps' ? this.manifest.apps.length : Object.keys(this.endpoints()).length;
    if (actual !== count) throw new AssertionFailed(`expected ${count} ${kind}, got ${actual}`);
  }

  /**
   * The API-format graph ComfyUI would receive for `body` on `path`, bound the way the app's runtime binds
   * it: presets, defaults (`""` too for defaultWhenEmpty fields; null is left out), format strings, clamps,
   * suffixes, maps, the first of a list. A file field gets the placeholder name `<field>.png` / `.mp4`, and
   * a seed left out is `options.seed` (the app picks a random one).
   *
   * The body is first checked as the server checks it, against the endpoint's request JSON Schema (the
   * one in `clients/endpoints.json`): a missing required field, a value of the wrong type, out of its
   * bounds or not among its values fails the test, naming the field, as would a 422 from the app. A field
   * the endpoint does not have fails too (the server ignores it: in a test it is most likely a typo).
   * `options.validate: false` binds the body as given, for tests of raw binding.
   */
  public bindRequest(
    path: string,
    body: Record<string, unknown>,
    options: { seed?: number; validate?: boolean } = {},
  ): Record<
    string,
    {
      /** The node's class. */
      class_type: string;
      /** Its inputs, with the request's values bound. */
      inputs: Record<string, unknown>;
    }
  > {
    const app = this.manifest.apps.find((a) => a.endpoints.some((e) => e.path === path));
    if (!app)
      throw new AssertionFailed(`no endpoint "${path}": the endpoints are ${Object.keys(this.endpoints()).join(', ')}`);
    const endpoint = app.endpoints.find((e) => e.path === path)!;
    if (options.validate !== false) {
      const problems = requestProblems(
        JSON.parse(this.file('clients/endpoints.json')).endpoints[path].requestSchema,
        body,
      );
      if (problems.length > 0) {
        throw new AssertionFailed(
          `bindRequest("${path}"): the body is not one the app takes (it answers a 422 for a bad or missing field):\n${problems.map((p) => `  ${p}`).join('\n')}\n(pass { validate: false } to bind it as given)`,
        );
      }
    }
    const graph = JSON.parse(this.file(`apps/${app.id}/${endpoint.workflow}`));
    const values = requestValues(endpoint.fields, body);
    for (const f of endpoint.fields) {
      let value = values[f.name];
      if (f.type === 'seed' && value === undefined) value = options.seed ?? 0;
      if (value === undefined || f.targets.length === 0) continue;
      if (f.format !== undefined)
        value = f.format
          .replace(/\{([^{}]*)\}/g, (_, name: string) => (values[name] === undefined ? '' : String(values[name])))
          .trim();
      if (f.clamp && typeof value === 'number') value = Math.min(Math.max(value, f.min!), f.max!);
      if (Array.isArray(value)) value = value[0];
      if (f.ensureSuffix !== undefined && typeof value === 'string' && !value.endsWith(f.ensureSuffix))
        value += f.ensureSuffix;
      if (f.type === 'image' || f.type === 'video') value = `${f.name}${f.type === 'image' ? '.png' : '.mp4'}`;
      const key = typeof value === 'boolean' ? JSON.stringify(value) : String(value);
      if (f.map && Object.hasOwn(f.map, key)) value = f.map[key];
      for (const t of f.targets) graph[t.node].inputs[t.input] = value;
    }
    return graph;
  }
}

/** The values a body gives the fields: by name or alias, absent values left out, presets applied. */
function requestValues(fields: readonly RequestField[], body: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of fields) {
    const name = [f.name, ...f.aliases].find(
      (n) => body[n] !== undefined && body[n] !== null && !(body[n] === '' && f.defaultWhenEmpty),
    );
    const value = name === undefined ? f.default : body[name];
    if (value !== undefined && value !== null) values[f.name] = value;
  }
  for (const f of fields) {
    const chosen = values[f.name];
    if (f.presets && typeof chosen === 'string' && f.presets[chosen]) Object.assign(values, f.presets[chosen]);
  }
  return values;
}

function appView(a: AppSpec): AppView {
  const { hash: _hash, image: _image, timeoutSeconds, startupTimeoutSeconds, scaledownWindowSeconds, ...rest } = a;
  return {
    ...rest,
    timeout: formatDuration(timeoutSeconds),
    startupTimeout: formatDuration(startupTimeoutSeconds),
    scaledownWindow: formatDuration(scaledownWindowSeconds),
  };
}

function endpointView(a: AppSpec, e: EndpointSpec): EndpointView {
  const { timeoutSeconds, clientTimeoutMs, fields, ...rest } = e;
  return {
    ...rest,
    app: a.id,
    timeout: formatDuration(timeoutSeconds),
    clientTimeout: formatDuration(clientTimeoutMs / 1000),
    fields: Object.fromEntries(fields.map((f) => [f.name, f])),
  };
}

function check(what: string, actual: unknown, expected: Record<string, unknown> | Matcher): void {
  const matcher =
    typeof (expected as Matcher).test === 'function'
      ? (expected as Matcher)
      : Match.objectLike(expected as Record<string, unknown>);
  const failures = matches(matcher, actual);
  if (failures.length > 0)
    throw new AssertionFailed(`${what} does not match:\n${failures.map((f) => `  ${f}`).join('\n')}`);
}

/** A failed assertion: what was expected and what the assembly has. */
export class AssertionFailed extends Error {
  /** An assertion's failure, with what was expected and what the template has. */
  constructor(message: string) {
    super(message);
    this.name = 'AssertionFailed';
  }
}

/** Re-thrown synth problems keep their type, so tests can expect them. */
export { ModalCdkError };
