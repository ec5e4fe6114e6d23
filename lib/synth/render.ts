import { PROBLEM_SCHEMA } from './problem-schema';
import { deployArgs } from '../deploy/modal-args';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModalCdkError, zodProblems } from '../errors';
import { appGpus, gpuUsdPerSecond } from '../policy/gpu';
import { renderClientFiles } from '../clients/render-clients';
import { WEB_CLASS, WEB_METHOD } from '../clients/web-url';
import {
  BUCKET_PIP_PACKAGES,
  FRONT_DOOR_PIP_PACKAGES,
  HF_CACHE_MOUNT,
  HF_IMAGE_CACHE,
  RUNTIME_FILES,
  SNAPSHOT_EXTENSION,
  WORKFLOWS_REMOTE,
} from './image-layers';
import { stableJson } from './json';
import {
  type AppSpec,
  appSpecSchema,
  type DeployPlan,
  deployPlanSchema,
  type EndpointSpec,
  type Manifest,
  MANIFEST_VERSION,
  manifestSchema,
  type RequestField,
} from './spec';
import { py, pyIdentifier, pyPretty, pyString, type PyValue } from './python';
import { loadTemplate, TEMPLATES_DIR } from './templates';

/** What a construct tree hands the renderer: the app models (before hashing) and their workflow graphs. */
export interface AppDraft {
  readonly spec: Omit<AppSpec, 'hash'>;
  /** Workflow file name (`flux.json`) → graph. */
  readonly workflows: Record<string, unknown>;
}

export interface AssemblyInput {
  readonly project: Manifest['project'];
  readonly apps: AppDraft[];
}

/** Everything `synth.out/` holds: the file map (relative path → content) and the parsed manifest and plan. */
export interface Assembly {
  /** `manifest.json`, parsed: the whole stack as the later commands read it. */
  readonly manifest: Manifest;
  /** `deploy-plan.json`, parsed: one `modal deploy` per app. */
  readonly plan: DeployPlan;
  /** Every file of `synth.out/`: relative path → content. */
  readonly files: ReadonlyMap<string, string>;
}

const draftSchema = appSpecSchema.omit({ hash: true });

/**
 * Renders every file of the assembly from the spec alone. Each app spec is validated first (so a
 * spec that Modal would refuse, e.g. local files before a build step, cannot be rendered), then its
 * files are rendered and hashed, and the manifest and deploy plan are built from the results.
 */
export function renderAssembly(input: AssemblyInput): Assembly {
  const files = new Map<string, string>();
  const apps: AppSpec[] = [];
  for (const draft of input.apps) {
    const checked = draftSchema.safeParse(draft.spec, { reportInput: true });
    if (!checked.success)
      throw new ModalCdkError(zodProblems(draft.spec.constructPath, checked.error.issues, 'spec field'));
    const app = checked.data;
    const appFiles = new Map<string, string>([
      ['app.py', renderAppPy(app, input.project)],
      ...[...Object.keys(RUNTIME_FILES), 'local_serve.py', 'import_gate.py'].map((file): [string, string] => [
        file,
        runtimeSource(file),
      ]),
    ]);
    if (app.memorySnapshot) {
      for (const file of ['__init__.py', 'prestartup_script.py'])
        appFiles.set(`${SNAPSHOT_EXTENSION}/${file}`, runtimeSource(`${SNAPSHOT_EXTENSION}/${file}`));
    }
    // Pins every pip install of the image honours (its PIP_CONSTRAINT layer).
    if (app.constraints.length > 0) appFiles.set('constraints.txt', `${app.constraints.join('\n')}\n`);
    for (const [name, graph] of Object.entries(draft.workflows)) appFiles.set(`workflows/${name}`, stableJson(graph));
    for (const [rel, content] of appFiles) files.set(`apps/${app.id}/${rel}`, content);
    apps.push({ ...app, hash: hashFiles(appFiles) });
  }
  const manifest = manifestSchema.parse({ version: MANIFEST_VERSION, project: input.project, apps });
  const plan = deployPlanSchema.parse({
    version: MANIFEST_VERSION,
    environment: input.project.environment,
    steps: apps.map((a) => ({
      appId: a.id,
      modalName: a.modalName,
      entry: a.entry,
      hash: a.hash,
      standingCost: a.standingCost,
      coldStart: a.coldStart,
      args: deployArgs(
        a.entry,
        a.modalName,
        input.project.environment,
        a.hash.slice(0, 12),
        input.project.deployStrategy,
      ),
    })),
  });
  files.set('manifest.json', stableJson(manifest));
  for (const [rel, content] of renderClientFiles(manifest)) files.set(rel, content);
  files.set('deploy-plan.json', stableJson(plan));
  return { manifest, plan, files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/** sha256 over the sorted relative paths and contents of one app's files. */
export function hashFiles(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const rel of [...files.keys()].sort()) hash.update(`${rel}\0${files.get(rel)}\0`);
  return hash.digest('hex');
}

const runtimeCache = new Map<string, string>();
/** A file of templates/runtime/, read once: the Python every app ships unchanged. */
function runtimeSource(name: string): string {
  if (!runtimeCache.has(name)) runtimeCache.set(name, readFileSync(path.join(TEMPLATES_DIR, 'runtime', name), 'utf8'));
  return runtimeCache.get(name)!;
}

/** The app's `app.py`: the template filled with a view derived from the spec only. */
export function renderAppPy(app: Omit<AppSpec, 'hash'>, project?: Manifest['project']): string {
  const handlers = new Set<string>();
  const requests = app.endpoints.map((e) => requestView(e, handlers));
  const fields = app.endpoints.flatMap((e) => e.fields);
  const annotations = new Set(fields.map((f) => ANNOTATIONS[f.type]));
  const valueTypes = {
    text: annotations.has('Text'),
    int: annotations.has('Int'),
    number: annotations.has('Number'),
    bool: annotations.has('Bool'),
  };
  const typingImports = [
    ...(fields.some((f) => f.type !== 'enum') ? ['Annotated'] : []),
    ...(fields.some((f) => f.type === 'enum') ? ['Literal'] : []),
  ];
  const pydanticImports = [
    ...(valueTypes.text ? ['AfterValidator'] : []),
    ...(fields.some((f) => f.aliases.length > 0) ? ['AliasChoices'] : []),
    'BaseModel',
    ...(valueTypes.int || valueTypes.number ? ['BeforeValidator'] : []),
    'ConfigDict',
    'Field',
    ...(valueTypes.bool ? ['Strict'] : []),
    'model_validator',
  ];
  const firstGpu = appGpus(app)[0];
  const usdPerSecond = firstGpu === undefined ? null : gpuUsdPerSecond(firstGpu);
  const hfModels = app.models.filter((m) => m.kind === 'hf');
  const tags = project?.appTags
    ? py({ 'modal-cdk.app': app.id, 'modal-cdk.environment': project.environment, 'modal-cdk.stack': project.name })
    : null;
  return loadTemplate('app.py.hbs')({
    app,
    tags,
    warmSchedule: app.warmSchedule.map((e, i) => ({
      ...e,
      index: i,
      cronArgs: `${pyString(e.cron)}, timezone=${pyString(e.timezone)}`,
    })),
    webClass: WEB_CLASS,
    webMethod: WEB_METHOD,
    jobs: app.jobs && {
      ...app.jobs,
      dictName: `${app.modalName}-jobs`,
      pipPackages: [...FRONT_DOOR_PIP_PACKAGES, ...(app.jobs.results.kind === 'bucket' ? BUCKET_PIP_PACKAGES : [])]
        .map(pyString)
        .join(', '),
    },
    endpointCount: app.endpoints.length,
    workflowsDir: WORKFLOWS_REMOTE,
    usdPerSecond,
    scaling: scalingCosts(app, usdPerSecond),
    volumes: pyDict(
      Object.fromEntries(app.volumes.map((v) => [v.mountPath, v])),
      (v) => `modal.Volume.from_name(${pyString(v.name)}${v.createIfMissing ? ', create_if_missing=True' : ''})`,
    ),
    secrets: app.secrets.length
      ? `[${app.secrets.map((s) => `modal.Secret.from_name(${pyString(s)})`).join(', ')}]`
      : '[]',
    hfSecret: hfModels.some((m) => m.gated) ? app.huggingfaceSecret : null,
    apiKeyEnv: app.partnerNodes?.apiKeyEnv ?? null,
    volumeModels: pyPretty(
      app.models
        .filter((m) => m.kind === 'volume')
        .map((m) => ({ volume: m.volume, source: m.source, target: m.target, filename: m.filename })),
    ),
    endpoints: pyPretty(Object.fromEntries(app.endpoints.map((e) => [e.path, runtimeSpec(e)]))),
    warmup: pyPretty(app.warmup.map((s) => ({ path: s.path, values: s.values })) as PyValue),
    // OpenAPI 3.1 takes JSON Schema 2020-12 as it is; its $schema member is left out of the document.
    problemSchema: app.apiDocs ? pyPretty(withoutSchemaKeyword(PROBLEM_SCHEMA) as PyValue) : null,
    layers: app.image.map((layer) =>
      layer.kind === 'hf-download'
        ? {
            ...layer,
            volumeArg:
              layer.model.placement === 'volume'
                ? `{${pyString(HF_CACHE_MOUNT)}: VOLUMES[${pyString(HF_CACHE_MOUNT)}]}`
                : null,
            kwargs: pyPretty(
              {
                repo_id: layer.model.repo,
                repo_type: layer.model.repoType,
                filename: layer.model.file,
                revision: layer.model.revision,
                cache_dir: layer.model.placement === 'volume' ? HF_CACHE_MOUNT : HF_IMAGE_CACHE,
                target: layer.model.target,
                link_name: layer.model.filename,
                gated: layer.model.gated,
              },
              8,
              15,
            ),
          }
        : layer,
    ),
    typingImports: typingImports.join(', '),
    pydanticImport: importLine('pydantic', pydanticImports),
    valueTypes,
    requests,
  });
}

/** What the runtime needs of an endpoint, as the Python literal in ENDPOINTS (optional keys only when set). */
function runtimeSpec(e: EndpointSpec): PyValue {
  return {
    workflow: path.posix.basename(e.workflow),
    fields: e.fields.map((f) => ({
      name: f.name,
      type: f.type,
      targets: f.targets.map((t) => [t.node, t.input]),
      ...(f.format !== undefined && { format: f.format }),
      ...(f.clamp && { clamp: [f.min!, f.max!] }),
      // A seed left out is random within the field's own bounds (a node may take less than 2^64).
      ...(f.type === 'seed' && f.min !== undefined && { random_min: f.min }),
      ...(f.type === 'seed' && f.max !== undefined && { random_max: f.max }),
      ...(f.ensureSuffix !== undefined && { ensure_suffix: f.ensureSuffix }),
      ...(f.map !== undefined && { map: f.map }),
      ...(f.presets !== undefined && { presets: f.presets }),
      ...(f.maxBytes !== undefined && { max_bytes: f.maxBytes }),
      ...(f.maxPixels !== undefined && { max_pixels: f.maxPixels }),
      ...(f.maxFrames !== undefined && { max_frames: f.maxFrames }),
      ...(f.modelFolder !== undefined && { model_folder: f.modelFolder }),
    })),
    output: e.output,
    content_type: e.contentType,
    output_node: e.outputNode,
    timeout_seconds: e.timeoutSeconds,
    ...(e.keepMetadata && { keep_metadata: true }),
    ...(e.jobs && { jobs: true }),
    ...(e.webhookUrl !== null && { webhook_url: e.webhookUrl }),
  };
}

/** The request model and route of one endpoint; `taken` keeps handler names unique (`/a-b` and `/a_b`). */
function requestView(e: EndpointSpec, taken: Set<string>) {
  let handler = `post_${pyIdentifier(e.path)}`;
  for (let n = 2; taken.has(handler); n++) handler = `post_${pyIdentifier(e.path)}_${n}`;
  taken.add(handler);
  return {
    path: e.path,
    className: e.requestClass,
    handler,
    maxBodyBytes: maxBodyBytes(e),
    fields: e.fields.map((f) => ({ name: f.name, annotation: annotation(f), args: fieldArgs(f) })),
    requireOneOf: e.requireOneOf.length ? py(e.requireOneOf) : null,
    // Every name (aliases too) of the fields whose "" counts as left out (defaultWhenEmpty).
    emptyIsAbsent: pySet(e.fields.filter((f) => f.defaultWhenEmpty).flatMap((f) => [f.name, ...f.aliases])),
    // The names of each field that has aliases: a body may send one of them.
    namesOfFields: py(e.fields.filter((f) => f.aliases.length > 0).map((f) => [f.name, ...f.aliases])),
  };
}

/** Room in a request body for everything but its files: text fields, numbers, JSON syntax. */
const BODY_BYTES_BESIDES_FILES = 1024 * 1024;

/**
 * An endpoint's request-body cap: each file field's file at its largest, base64-encoded (4 bytes per 3),
 * plus room. A field that takes a list (`maxItems`) counts one file: only the first is used, so a body that
 * sends several large ones is refused rather than parsed and thrown away.
 */
export function maxBodyBytes(e: EndpointSpec): number {
  const files = e.fields.reduce((sum, f) => sum + (f.maxBytes === undefined ? 0 : Math.ceil(f.maxBytes / 3) * 4), 0);
  return BODY_BYTES_BESIDES_FILES + files;
}

/**
 * The annotation of each field type: the value types app.py defines (one rule per type, docs/generated-app.md "The request contract").
 */
const ANNOTATIONS: Record<RequestField['type'], string> = {
  string: 'Text',
  enum: 'str',
  image: 'Text',
  video: 'Text',
  int: 'Int',
  seed: 'Int',
  float: 'Number',
  bool: 'Bool',
};

function annotation(f: RequestField): string {
  let base = f.type === 'enum' ? `Literal[${f.values!.map(pyString).join(', ')}]` : ANNOTATIONS[f.type];
  if (f.maxItems !== undefined)
    base = `${base} | Annotated[list[${base}], Field(min_length=1, max_length=${f.maxItems})]`;
  return !f.required && f.default === undefined ? `${base} | None` : base;
}

function fieldArgs(f: RequestField): string {
  const args = [f.required ? '...' : py(f.default ?? null)];
  if (f.aliases.length > 0)
    args.push(`validation_alias=AliasChoices(${[f.name, ...f.aliases].map(pyString).join(', ')})`);
  if (!f.clamp) {
    const min = f.min ?? (f.type === 'seed' ? 0 : undefined);
    if (min !== undefined) args.push(`ge=${py(min)}`);
    if (f.max !== undefined) args.push(`le=${py(f.max)}`);
    else if (f.type === 'seed') args.push('le=SEED_MAX');
  }
  if (f.minLength !== undefined) args.push(`min_length=${f.minLength}`);
  if (f.maxLength !== undefined) args.push(`max_length=${f.maxLength}`);
  if (f.type === 'float') args.push('allow_inf_nan=False');
  if (f.description !== undefined) args.push(`description=${pyString(f.description)}`);
  return args.join(', ');
}

/** `from module import a, b` at 4 spaces' indent, wrapped the way ruff's isort wants past 88 columns. */
function importLine(module: string, names: string[]): string {
  const line = `from ${module} import ${names.join(', ')}`;
  return line.length + 4 <= 88
    ? line
    : `from ${module} import (\n${names.map((n) => `        ${n},`).join('\n')}\n    )`;
}

/** A Python set (or frozenset() when empty) of strings, sorted. */
function pySet(values: string[]): string {
  return values.length === 0 ? 'frozenset()' : `{${[...new Set(values)].sort().map(pyString).join(', ')}}`;
}

function pyDict<T>(entries: Record<string, T>, render: (v: T) => string): string {
  const keys = Object.keys(entries);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `    ${pyString(k)}: ${render(entries[k])},`).join('\n')}\n}`;
}

/** What the scaling settings cost in idle GPU time, for the comments of app.py (US dollars, 2 decimals). */
function scalingCosts(app: Omit<AppSpec, 'hash'>, usdPerSecond: number | null) {
  const gpu = appGpus(app)[0] ?? 'CPU';
  if (usdPerSecond === null) return { gpu };
  const money = (usd: number) => usd.toFixed(2);
  return {
    gpu,
    usdPerHour: money(usdPerSecond * 3600),
    minPerDay: app.minContainers > 0 ? money(app.minContainers * usdPerSecond * 86400) : undefined,
    perScaledown: money(usdPerSecond * app.scaledownWindowSeconds),
  };
}

function withoutSchemaKeyword(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = schema;
  return rest;
}
