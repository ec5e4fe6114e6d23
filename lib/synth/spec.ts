import { z } from 'zod';

/**
 * The synth spec (the cloud assembly's data): plain, validated JSON built from the construct tree.
 * Templates render only from this; `manifest.json` is this spec; snapshot and meaning tests read it. One
 * zod schema per shape, types inferred from them. "Spec", never "model": a model is an ML file here
 * (`HfModel`), so the spec of an HfModel is an `HfModelSpec`.
 */

export const MANIFEST_VERSION = '1';

/** The kinds of value a request field can carry into a node input. */
export const FIELD_TYPES = ['string', 'int', 'float', 'bool', 'enum', 'seed', 'image', 'video'] as const;
export const fieldTypeSchema = z.enum(FIELD_TYPES);
export type FieldType = z.infer<typeof fieldTypeSchema>;

/** What an endpoint answers with (`json`: the outputs as base64 JSON). */
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'mp4', 'json'] as const;
export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

export const OUTPUT_CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  mp4: 'video/mp4',
  json: 'application/json',
};

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const inputTargetSchema = z.strictObject({
  node: z.string(),
  input: z.string(),
});
export type InputTarget = z.infer<typeof inputTargetSchema>;

const nodeValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One request field and the node inputs it sets. The runtime applies, in this order: `presets` (of every
 * field), `defaultWhenEmpty`, then per field `format`, `clamp`, the first of a list, `ensureSuffix`,
 * file saving (image, video) and `map`; then, before queueing, it checks that each sent `modelFolder`
 * field's final value is a file ComfyUI lists. A field with no targets only feeds presets or formats.
 */
export const requestFieldSchema = z.strictObject({
  name: z.string(),
  type: fieldTypeSchema,
  targets: z.array(inputTargetSchema),
  required: z.boolean(),
  default: jsonScalar.optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  /** Out-of-range numbers are clamped into [min, max] instead of refused. */
  clamp: z.boolean().optional(),
  minLength: z.number().int().optional(),
  maxLength: z.number().int().optional(),
  values: z.array(z.string()).optional(),
  aliases: z.array(z.string()),
  description: z.string().optional(),
  /** Python format string over the request's fields; its trimmed result is the value set. */
  format: z.string().optional(),
  /** Appended to the value unless it already ends with it. */
  ensureSuffix: z.string().optional(),
  /** An empty string counts as left out: the default is used. */
  defaultWhenEmpty: z.boolean().optional(),
  /** Request value (as JSON text: `true`, `GPU`) → the value the node gets. */
  map: z.record(z.string(), nodeValueSchema).optional(),
  /** Enum value → other fields' values it sets, overriding the request. */
  presets: z.record(z.string(), z.record(z.string(), nodeValueSchema)).optional(),
  /** The field also takes a list of up to this many items (image, video); the first is used. */
  maxItems: z.number().int().positive().optional(),
  /** Largest decoded file (image, video), inline or fetched from a URL. */
  maxBytes: z.number().int().positive().optional(),
  /** Most pixels of the image, or of each video frame (from the file's header, before decoding). */
  maxPixels: z.number().int().positive().optional(),
  /** Most frames of an animated image or a video. */
  maxFrames: z.number().int().positive().optional(),
  /** ComfyUI models folder in which the final value must name a file (checked before queueing). */
  modelFolder: z.string().optional(),
});
export type RequestField = z.infer<typeof requestFieldSchema>;

export const endpointSpecSchema = z.strictObject({
  path: z.string(),
  /** Construct path, for error messages and docs. */
  constructPath: z.string(),
  /** The request model's Python class name, unique in the app. */
  requestClass: z.string(),
  /** Workflow file relative to the app directory. */
  workflow: z.string(),
  /** The workflow's UNETLoaders cast the diffusion model to fp8 at load (Endpoint fp8DiffusionModel). */
  fp8DiffusionModel: z.boolean(),
  fields: z.array(requestFieldSchema),
  output: outputFormatSchema,
  contentType: z.string(),
  /** The node whose outputs the endpoint returns. */
  outputNode: z.string(),
  timeoutSeconds: z.number().int().positive(),
  clientTimeoutMs: z.number().int().positive(),
  description: z.string(),
  /** Groups of fields of which a request must send at least one. */
  requireOneOf: z.array(z.array(z.string()).min(2)),
  /** Fields clients send that the endpoint accepts and deliberately ignores → why. */
  ignoredFields: z.record(z.string(), z.string()),
  /** Outputs keep the workflow and prompt ComfyUI's savers embed (PNG text, WebP EXIF/XMP, MP4 tags). */
  keepMetadata: z.boolean(),
  /** Whether the endpoint takes jobs (`Prefer: respond-async`); false when its app has no job routes. */
  jobs: z.boolean(),
  /** The generated clients call it as a job: it takes jobs and runs past 150 s (client policy rule 4). */
  callAsJob: z.boolean(),
  /** Where a finished job's webhook goes when its submit names none (Endpoint webhookUrl). */
  webhookUrl: z.string().nullable(),
  /** The body `modal-cdk verify` sends; null: one built from the fields' defaults. */
  smokeRequest: z.record(z.string(), z.json()).nullable(),
  /**
   * GPU measurements of the endpoint (client policy `measurements`), with estimates on the app's first GPU; null: none.
   */
  measured: z
    .strictObject({
      device: z.string(),
      loadSeconds: z.number(),
      warmSeconds: z.number(),
      peakGpuMemoryGb: z.number(),
      /** Measured with the warm-up (measure.py --warmup): the first request after it, and the warm-up itself. */
      firstAfterWarmupSeconds: z.number().optional(),
      warmupSeconds: z.number().optional(),
      gpu: z.string(),
      estimatedWarmSeconds: z.number(),
      /** The estimated warm seconds × the GPU's price; null where the catalog has no price. */
      estimatedUsdPerRequest: z.number().nullable(),
    })
    .nullable(),
});
export type EndpointSpec = z.infer<typeof endpointSpecSchema>;

export const hfModelSpecSchema = z.strictObject({
  kind: z.literal('hf'),
  constructPath: z.string(),
  repo: z.string(),
  repoType: z.enum(['model', 'dataset']),
  file: z.string(),
  revision: z.string().nullable(),
  target: z.string(),
  filename: z.string(),
  gated: z.boolean(),
  sizeGb: z.number().nullable(),
  placement: z.enum(['image', 'volume']),
});
export type HfModelSpec = z.infer<typeof hfModelSpecSchema>;

export const volumeModelSpecSchema = z.strictObject({
  kind: z.literal('volume'),
  constructPath: z.string(),
  volume: z.string(),
  /** Absolute path of the file inside the container (mount path + path in the volume). */
  source: z.string(),
  target: z.string(),
  filename: z.string(),
});
export type VolumeModelSpec = z.infer<typeof volumeModelSpecSchema>;

export const urlModelSpecSchema = z.strictObject({
  kind: z.literal('url'),
  constructPath: z.string(),
  url: z.string(),
  target: z.string(),
  filename: z.string(),
  sha256: z.string().nullable(),
  sizeGb: z.number().nullable(),
  /** A zip whose files are unpacked into the target folder. */
  unzip: z.boolean(),
});
export type UrlModelSpec = z.infer<typeof urlModelSpecSchema>;

export const modelFileSchema = z.discriminatedUnion('kind', [
  hfModelSpecSchema,
  volumeModelSpecSchema,
  urlModelSpecSchema,
]);

export const customNodeSchema = z.strictObject({
  constructPath: z.string(),
  /** Directory name under `custom_nodes/`. */
  dir: z.string(),
  repo: z.string().nullable(),
  commit: z.string().nullable(),
  registryId: z.string().nullable(),
  version: z.string().nullable(),
  pipPackages: z.array(z.string()),
  aptPackages: z.array(z.string()),
  installRequirements: z.boolean(),
  /** The pack imports only where a GPU is present: the import gate runs on the app's GPU. */
  importNeedsGpu: z.boolean(),
  /** The pack keeps the device it saw at import (CustomNode importPicksDevice): no CPU memory snapshot. */
  importPicksDevice: z.boolean(),
});
export type CustomNodeSpec = z.infer<typeof customNodeSchema>;

/**
 * One image layer, in build order. `local` layers attach files from the synthesized app directory;
 * uncopied they are mounts, after which Modal refuses any build step (at deploy, not at import), so the
 * model refuses that order itself.
 */
export const imageLayerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('apt'), comment: z.string(), packages: z.array(z.string()).min(1) }),
  z.strictObject({ kind: z.literal('pip'), comment: z.string(), packages: z.array(z.string()).min(1) }),
  z.strictObject({ kind: z.literal('env'), comment: z.string(), vars: z.record(z.string(), z.string()) }),
  /** Shell commands at build; `gpu`: run them on that GPU (a step that needs one, e.g. the import gate). */
  z.strictObject({
    kind: z.literal('run'),
    comment: z.string(),
    commands: z.array(z.string()).min(1),
    gpu: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('hf-download'), comment: z.string(), model: hfModelSpecSchema }),
  z.strictObject({
    kind: z.literal('local'),
    comment: z.string(),
    what: z.enum(['file', 'dir']),
    /** Relative to the app directory. */
    source: z.string(),
    remote: z.string(),
    copy: z.boolean(),
  }),
]);
export type ImageLayer = z.infer<typeof imageLayerSchema>;

export const imageLayersSchema = z.array(imageLayerSchema).superRefine((layers, ctx) => {
  const mount = layers.findIndex((l) => l.kind === 'local' && !l.copy);
  if (mount < 0) return;
  const later = layers.slice(mount + 1).find((l) => l.kind !== 'local' || l.copy);
  if (later) {
    ctx.addIssue({
      code: 'custom',
      message: `image layer '${later.kind}' (${later.comment}) comes after an uncopied add_local_${(layers[mount] as { what: string }).what} (${layers[mount].comment}): Modal refuses build steps after local files — put local files last, or copy them into the image (copy: true)`,
      input: later.kind,
    });
  }
});

export const volumeMountSchema = z.strictObject({
  name: z.string(),
  mountPath: z.string(),
  createIfMissing: z.boolean(),
});
export type VolumeMount = z.infer<typeof volumeMountSchema>;

export const appSpecSchema = z.strictObject({
  id: z.string(),
  constructPath: z.string(),
  modalName: z.string(),
  /** The file `modal deploy` takes, relative to synth.out. */
  entry: z.string(),
  /** sha256 of the app directory's files (sorted relative paths + contents). */
  hash: z.string(),
  /** One GPU spec, or a fallback list tried in order; null for an app on the CPU (ComfyUI with `--cpu`). */
  gpu: z.union([z.string(), z.array(z.string()).min(2)]).nullable(),
  timeoutSeconds: z.number().int().positive(),
  startupTimeoutSeconds: z.number().int().positive(),
  scaledownWindowSeconds: z.number().int().positive(),
  minContainers: z.number().int().nonnegative(),
  maxContainers: z.number().int().positive().nullable(),
  maxInputs: z.number().int().positive(),
  /** Modal `buffer_containers`: idle containers kept beside the busy ones while the app serves. */
  bufferContainers: z.number().int().nonnegative(),
  /** Warm containers by the clock: each entry a Cron function that sets `min_containers`. */
  warmSchedule: z.array(
    z.strictObject({ cron: z.string(), minContainers: z.number().int().nonnegative(), timezone: z.string() }),
  ),
  /** What warm containers cost before any request (lib/policy/standing-cost.ts). */
  standingCost: z.strictObject({
    gpu: z.string(),
    usdPerGpuHour: z.number().nullable(),
    averageWarmContainers: z.number(),
    usdPerDay: z.number().nullable(),
    usdPer30Days: z.number().nullable(),
    bufferUsdPerBusyHour: z.number().nullable(),
  }),
  memorySnapshot: z.boolean(),
  /** What the runtime runs before the first request (ComfyApp warmup; lib/synth/warmup.ts), in order. */
  warmup: z.array(z.strictObject({ path: z.string(), values: z.record(z.string(), z.json()), modelGb: z.number() })),
  /**
   * What a cold start costs before the first request is answered, beside what keeping containers warm
   * costs (standingCost): an estimate (lib/synth/warmup.ts `coldStartSeconds`), not a measurement.
   */
  coldStart: z.strictObject({ modelGb: z.number(), warmedEndpoints: z.number().int(), estimatedSeconds: z.number() }),
  gpuSnapshot: z.boolean(),
  /** FastAPI's /docs, /redoc and /openapi.json are served. */
  apiDocs: z.boolean(),
  /** The job routes (ComfyApp jobs), or null when off. */
  jobs: z
    .strictObject({
      maxActive: z.number().int().positive(),
      keepSeconds: z.number().int().positive(),
      /** The Modal Secret whose WEBHOOK_SECRET signs job webhooks; null: no webhooks. */
      webhookSecret: z.string().nullable(),
    })
    .nullable(),
  requiresProxyAuth: z.boolean(),
  /** Extra command-line flags ComfyUI is started with (after --listen and --port). */
  comfyArgs: z.array(z.string()),
  /** Pins for what the custom nodes leave open: apps/<id>/constraints.txt, honoured by every pip install. */
  constraints: z.array(z.string()),
  pythonVersion: z.string(),
  comfyVersion: z.string(),
  /**
   * The node schemas synth checked the app's workflows against: the ComfyUI release of their core classes
   * and where they came from (`snapshot`: the committed snapshot of exactly that release; `closest
   * snapshot`, `+ <file>` for the app's corrections; `whole dump <file>`: the app's own dump).
   */
  nodeSchemas: z.strictObject({ comfyVersion: z.string(), source: z.string() }),
  comfyCliVersion: z.string(),
  comfyDir: z.string(),
  comfyPort: z.number().int(),
  customNodes: z.array(customNodeSchema),
  models: z.array(modelFileSchema),
  image: imageLayersSchema,
  volumes: z.array(volumeMountSchema),
  secrets: z.array(z.string()),
  /** Modal Secret holding HF_TOKEN for gated downloads at image build; null when none is set. */
  huggingfaceSecret: z.string().nullable(),
  /** Comfy.org partner-API nodes allowed: the Modal Secret (also in `secrets`) and its variable with the key. */
  partnerNodes: z.strictObject({ apiKeySecret: z.string(), apiKeyEnv: z.string() }).optional(),
  endpoints: z.array(endpointSpecSchema).min(1),
});
export type AppSpec = z.infer<typeof appSpecSchema>;

export const manifestSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  project: z.strictObject({
    name: z.string(),
    workspace: z.string(),
    environment: z.string(),
    /** The environment's Modal web suffix: URLs are `https://<workspace>-<suffix>--…`. */
    webSuffix: z.string().optional(),
    /** Modal App tags on every app (modal-cdk.stack, modal-cdk.app, modal-cdk.environment); off: none. */
    appTags: z.boolean().optional(),
    /** `modal deploy --strategy`; left out: Modal's default (rolling). */
    deployStrategy: z.enum(['rolling', 'recreate']).optional(),
    /** The CI workflow deploys to `from`, verifies, then promotes to `to`. */
    releasePath: z.strictObject({ from: z.string(), to: z.string() }).optional(),
  }),
  apps: z.array(appSpecSchema),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const deployPlanSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  environment: z.string(),
  steps: z.array(
    z.strictObject({
      appId: z.string(),
      modalName: z.string(),
      entry: z.string(),
      hash: z.string(),
      /** What the app's warm containers cost with no traffic (the app spec's standingCost). */
      standingCost: appSpecSchema.shape.standingCost,
      coldStart: appSpecSchema.shape.coldStart,
      /** argv after `modal`. */
      args: z.array(z.string()),
    }),
  ),
});
export type DeployPlan = z.infer<typeof deployPlanSchema>;
