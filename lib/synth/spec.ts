import { z } from 'zod';

/**
 * The synth spec (the cloud assembly's data): plain, validated JSON built from the construct tree.
 * Templates render only from this; `manifest.json` is this spec; snapshot and meaning tests read it. One
 * zod schema per shape, types inferred from them. "Spec", never "model": a model is an ML file here
 * (`HfModel`), so the spec of an HfModel is an `HfModelSpec`.
 */

/** The version of `manifest.json` and `deploy-plan.json` this release writes. */
export const MANIFEST_VERSION = '1';

/** The kinds of value a request field can carry into a node input. */
export const FIELD_TYPES = ['string', 'int', 'float', 'bool', 'enum', 'seed', 'image', 'video'] as const;
export const fieldTypeSchema = z.enum(FIELD_TYPES);
/** One of `FIELD_TYPES`: the kind of value a request field carries. */
export type FieldType = z.infer<typeof fieldTypeSchema>;

/** What an endpoint answers with (`json`: the outputs as base64 JSON). */
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'mp4', 'json'] as const;
export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
/** One of `OUTPUT_FORMATS`: what an endpoint answers with. */
export type OutputFormat = z.infer<typeof outputFormatSchema>;

/** The Content-Type of each output format. */
export const OUTPUT_CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  mp4: 'video/mp4',
  json: 'application/json',
};

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A node input a request field sets. */
export const inputTargetSchema = z.strictObject({
  /** The node's id in the workflow. */
  node: z.string(),
  /** The input's name (`seed`, `sampling_mode.seed` for a DynamicCombo's sub-input). */
  input: z.string(),
});
/** A node input a request field sets. */
export type InputTarget = z.infer<typeof inputTargetSchema>;

const nodeValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One request field and the node inputs it sets. The runtime applies, in this order: `presets` (of every
 * field), `defaultWhenEmpty`, then per field `format`, `clamp`, the first of a list, `ensureSuffix`,
 * file saving (image, video) and `map`; then, before queueing, it checks that each sent `modelFolder`
 * field's final value is a file ComfyUI lists. A field with no targets only feeds presets or formats.
 */
export const requestFieldSchema = z.strictObject({
  /** The field's name in the request body. */
  name: z.string(),
  /** The kind of value it carries. */
  type: fieldTypeSchema,
  /** The node inputs it sets (none: it only feeds presets or formats). */
  targets: z.array(inputTargetSchema),
  /** A request must send it (no default). */
  required: z.boolean(),
  /** The value used when the request leaves it out. */
  default: jsonScalar.optional(),
  /** Smallest number allowed (int, float, seed). */
  min: z.number().optional(),
  /** Largest number allowed (int, float, seed). */
  max: z.number().optional(),
  /** Out-of-range numbers are clamped into [min, max] instead of refused. */
  clamp: z.boolean().optional(),
  /** Shortest string allowed. */
  minLength: z.number().int().optional(),
  /** Longest string allowed. */
  maxLength: z.number().int().optional(),
  /** The values an enum field takes. */
  values: z.array(z.string()).optional(),
  /** Other names the field is also read under (older clients' names). */
  aliases: z.array(z.string()),
  /** What the field is for, in the OpenAPI docs and generated clients. */
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
/** One request field and the node inputs it sets. */
export type RequestField = z.infer<typeof requestFieldSchema>;

/** One endpoint of an app: its route, workflow, request fields and answer. */
export const endpointSpecSchema = z.strictObject({
  /** The URL path it serves (`/flux`). */
  path: z.string(),
  /** Construct path, for error messages and docs. */
  constructPath: z.string(),
  /** The request model's Python class name, unique in the app. */
  requestClass: z.string(),
  /** Workflow file relative to the app directory. */
  workflow: z.string(),
  /** The workflow's UNETLoaders cast the diffusion model to fp8 at load (Endpoint fp8DiffusionModel). */
  fp8DiffusionModel: z.boolean(),
  /** The request fields, in the order of the request model. */
  fields: z.array(requestFieldSchema),
  /** What it answers with. */
  output: outputFormatSchema,
  /** The answer's Content-Type. */
  contentType: z.string(),
  /** The node whose outputs the endpoint returns. */
  outputNode: z.string(),
  /** How long one request may run on the server. */
  timeoutSeconds: z.number().int().positive(),
  /** How long the generated clients wait for it (never shorter than the server's timeout). */
  clientTimeoutMs: z.number().int().positive(),
  /** What the endpoint does, in the docs and OpenAPI. */
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
      /** The GPU measured on (`NVIDIA H100 80GB HBM3`). */
      device: z.string(),
      /** Seconds to load the models on the first request. */
      loadSeconds: z.number(),
      /** Seconds of a warm request. */
      warmSeconds: z.number(),
      /** Peak GPU memory of a request, in GB. */
      peakGpuMemoryGb: z.number(),
      /** Measured with the warm-up (measure.py --warmup): the first request after it, and the warm-up itself. */
      firstAfterWarmupSeconds: z.number().optional(),
      /** Measured with the warm-up: how long the warm-up itself took. */
      warmupSeconds: z.number().optional(),
      /** The app's first GPU type, on which the estimates are made. */
      gpu: z.string(),
      /** The warm seconds scaled to that GPU. */
      estimatedWarmSeconds: z.number(),
      /** The estimated warm seconds × the GPU's price; null where the catalog has no price. */
      estimatedUsdPerRequest: z.number().nullable(),
    })
    .nullable(),
});
/** One endpoint of an app, as synth writes it (`manifest.json` `apps[].endpoints[]`). */
export type EndpointSpec = z.infer<typeof endpointSpecSchema>;

/** A model file from Hugging Face (HfModel). */
export const hfModelSpecSchema = z.strictObject({
  /** A Hugging Face file. */
  kind: z.literal('hf'),
  /** The HfModel's construct path. */
  constructPath: z.string(),
  /** The Hugging Face repository (`Comfy-Org/flux1-schnell`). */
  repo: z.string(),
  /** Whether the repository is a model or a dataset. */
  repoType: z.enum(['model', 'dataset']),
  /** The file's path in the repository. */
  file: z.string(),
  /** The commit or branch downloaded; null: the default branch. */
  revision: z.string().nullable(),
  /** The ComfyUI models folder it is linked into (`checkpoints`, `loras`). */
  target: z.string(),
  /** The file's name in that folder. */
  filename: z.string(),
  /** The repository needs a token (huggingfaceSecret). */
  gated: z.boolean(),
  /** Its size in GB, as declared; null: not declared. */
  sizeGb: z.number().nullable(),
  /** Baked into the image, or downloaded once into the Hugging Face cache volume. */
  placement: z.enum(['image', 'volume']),
});
/** A model file from Hugging Face. */
export type HfModelSpec = z.infer<typeof hfModelSpecSchema>;

/** A model file already on a Modal Volume (VolumeModel). */
export const volumeModelSpecSchema = z.strictObject({
  /** A file on a Modal Volume. */
  kind: z.literal('volume'),
  /** The VolumeModel's construct path. */
  constructPath: z.string(),
  /** The Modal Volume's name. */
  volume: z.string(),
  /** Absolute path of the file inside the container (mount path + path in the volume). */
  source: z.string(),
  /** The ComfyUI models folder it is linked into. */
  target: z.string(),
  /** The file's name in that folder. */
  filename: z.string(),
});
/** A model file on a Modal Volume. */
export type VolumeModelSpec = z.infer<typeof volumeModelSpecSchema>;

/** A model file downloaded from a plain HTTPS address at image build (UrlModel). */
export const urlModelSpecSchema = z.strictObject({
  /** A file from an HTTPS address. */
  kind: z.literal('url'),
  /** The UrlModel's construct path. */
  constructPath: z.string(),
  /** The HTTPS address. */
  url: z.string(),
  /** The ComfyUI models folder it lands in. */
  target: z.string(),
  /** The file's name in that folder. */
  filename: z.string(),
  /** The file's expected sha256, checked at build; null: unchecked. */
  sha256: z.string().nullable(),
  /** Its size in GB, as declared; null: not declared. */
  sizeGb: z.number().nullable(),
  /** A zip whose files are unpacked into the target folder. */
  unzip: z.boolean(),
});
/** A model file from an HTTPS address. */
export type UrlModelSpec = z.infer<typeof urlModelSpecSchema>;

/** Any model file of an app, told apart by `kind`. */
export const modelFileSchema = z.discriminatedUnion('kind', [
  hfModelSpecSchema,
  volumeModelSpecSchema,
  urlModelSpecSchema,
]);

/** A custom-node pack installed into the app's ComfyUI (CustomNode). */
export const customNodeSchema = z.strictObject({
  /** The CustomNode's construct path. */
  constructPath: z.string(),
  /** Directory name under `custom_nodes/`. */
  dir: z.string(),
  /** The git repository it is cloned from; null for a registry pack. */
  repo: z.string().nullable(),
  /** The commit checked out; null for a registry pack. */
  commit: z.string().nullable(),
  /** The Comfy Registry id; null for a git pack. */
  registryId: z.string().nullable(),
  /** The registry version; null for a git pack. */
  version: z.string().nullable(),
  /** Extra pip packages installed with it. */
  pipPackages: z.array(z.string()),
  /** Extra Debian packages installed with it. */
  aptPackages: z.array(z.string()),
  /** Its requirements.txt is installed. */
  installRequirements: z.boolean(),
  /** The pack imports only where a GPU is present: the import gate runs on the app's GPU. */
  importNeedsGpu: z.boolean(),
  /** The pack keeps the device it saw at import (CustomNode importPicksDevice): no CPU memory snapshot. */
  importPicksDevice: z.boolean(),
});
/** A custom-node pack of an app. */
export type CustomNodeSpec = z.infer<typeof customNodeSchema>;

/**
 * One image layer, in build order. `local` layers attach files from the synthesized app directory;
 * uncopied they are mounts, after which Modal refuses any build step (at deploy, not at import), so the
 * model refuses that order itself.
 */
export const imageLayerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** Debian packages (`apt_install`). */
    kind: z.literal('apt'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** The packages. */
    packages: z.array(z.string()).min(1),
  }),
  z.strictObject({
    /** Python packages (`uv_pip_install`). */
    kind: z.literal('pip'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** The requirement strings. */
    packages: z.array(z.string()).min(1),
  }),
  z.strictObject({
    /** Environment variables (`env`). */
    kind: z.literal('env'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** Variable → value. */
    vars: z.record(z.string(), z.string()),
  }),
  z.strictObject({
    /** Shell commands at build (`run_commands`). */
    kind: z.literal('run'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** The commands, in order. */
    commands: z.array(z.string()).min(1),
    /** Run them on this GPU (a step that needs one, e.g. the import gate of a GPU-only pack). */
    gpu: z.string().optional(),
  }),
  z.strictObject({
    /** A Hugging Face file downloaded into the image (`run_function`). */
    kind: z.literal('hf-download'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** The file. */
    model: hfModelSpecSchema,
  }),
  z.strictObject({
    /** A file or folder of the app directory (`add_local_file`, `add_local_dir`). */
    kind: z.literal('local'),
    /** Why the layer is there, written above it in app.py. */
    comment: z.string(),
    /** A file or a folder. */
    what: z.enum(['file', 'dir']),
    /** Relative to the app directory. */
    source: z.string(),
    /** Where it goes in the container. */
    remote: z.string(),
    /** Copied into the image (`copy=True`), so build steps may follow it. */
    copy: z.boolean(),
  }),
]);
/** One step of an app's image, in build order. */
export type ImageLayer = z.infer<typeof imageLayerSchema>;

/** An app's image layers; uncopied local files must come last. */
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

/** A Modal Volume mounted into an app's containers. */
export const volumeMountSchema = z.strictObject({
  /** The Volume's name. */
  name: z.string(),
  /** Where it is mounted. */
  mountPath: z.string(),
  /** Created on first use (`Volume.from_name(..., create_if_missing=True)`). */
  createIfMissing: z.boolean(),
});
/** A Modal Volume mounted into an app's containers. */
export type VolumeMount = z.infer<typeof volumeMountSchema>;

/** One Modal app: its function's settings, image, models, nodes and endpoints (`manifest.json` `apps[]`). */
export const appSpecSchema = z.strictObject({
  /** The app's construct id (`flux`): its folder under `apps/` and `--app`'s value. */
  id: z.string(),
  /** The ComfyApp's construct path. */
  constructPath: z.string(),
  /** The Modal app name (`ryla-flux`). */
  modalName: z.string(),
  /** The file `modal deploy` takes, relative to synth.out. */
  entry: z.string(),
  /** sha256 of the app directory's files (sorted relative paths + contents). */
  hash: z.string(),
  /** One GPU spec, or a fallback list tried in order; null for an app on the CPU (ComfyUI with `--cpu`). */
  gpu: z.union([z.string(), z.array(z.string()).min(2)]).nullable(),
  /** Modal `timeout`: the longest one input may run. */
  timeoutSeconds: z.number().int().positive(),
  /** Modal `startup_timeout`: the longest a container may take to start. */
  startupTimeoutSeconds: z.number().int().positive(),
  /** Modal `scaledown_window`: how long an idle container stays up. */
  scaledownWindowSeconds: z.number().int().positive(),
  /** Modal `min_containers`: containers kept up with no traffic. */
  minContainers: z.number().int().nonnegative(),
  /** Modal `max_containers`; null: no limit. */
  maxContainers: z.number().int().positive().nullable(),
  /** Modal `@modal.concurrent(max_inputs=…)`: requests one container takes at once. */
  maxInputs: z.number().int().positive(),
  /** Modal `buffer_containers`: idle containers kept beside the busy ones while the app serves. */
  bufferContainers: z.number().int().nonnegative(),
  /** Warm containers by the clock: each entry a Cron function that sets `min_containers`. */
  warmSchedule: z.array(
    z.strictObject({
      /** The Cron expression. */
      cron: z.string(),
      /** The `min_containers` it sets. */
      minContainers: z.number().int().nonnegative(),
      /** The IANA time zone the expression is read in. */
      timezone: z.string(),
    }),
  ),
  /** What warm containers cost before any request (lib/policy/standing-cost.ts). */
  standingCost: z.strictObject({
    /** The app's first GPU type (`CPU` for an app without one). */
    gpu: z.string(),
    /** Its catalog price per hour; null: no price known. */
    usdPerGpuHour: z.number().nullable(),
    /** Containers up with no traffic, on average over a week. */
    averageWarmContainers: z.number(),
    /** What those cost a day; null: no price known. */
    usdPerDay: z.number().nullable(),
    /** What those cost in 30 days; null: no price known. */
    usdPer30Days: z.number().nullable(),
    /** `bufferContainers` × the hourly price, paid while the app is busy; null: no price known. */
    bufferUsdPerBusyHour: z.number().nullable(),
  }),
  /** Containers start from a memory snapshot (`enable_memory_snapshot`). */
  memorySnapshot: z.boolean(),
  /** What the runtime runs before the first request (ComfyApp warmup; lib/synth/warmup.ts), in order. */
  warmup: z.array(
    z.strictObject({
      /** The endpoint warmed. */
      path: z.string(),
      /** The request values it is warmed with. */
      values: z.record(z.string(), z.json()),
      /** GB of the app's declared models its workflow loads. */
      modelGb: z.number(),
    }),
  ),
  /**
   * What a cold start costs before the first request is answered, beside what keeping containers warm
   * costs (standingCost): an estimate (lib/synth/warmup.ts `coldStartSeconds`), not a measurement.
   */
  coldStart: z.strictObject({
    /** GB of declared models a container reads. */
    modelGb: z.number(),
    /** Endpoints warmed before the first request. */
    warmedEndpoints: z.number().int(),
    /** Seconds from container start to the first answer, estimated. */
    estimatedSeconds: z.number(),
  }),
  /** The memory snapshot includes the GPU's memory (`enable_gpu_snapshot`, alpha). */
  gpuSnapshot: z.boolean(),
  /** FastAPI's /docs, /redoc and /openapi.json are served. */
  apiDocs: z.boolean(),
  /** The job routes (ComfyApp jobs), or null when off. */
  jobs: z
    .strictObject({
      /** Jobs queued or running at once, at most. */
      maxActive: z.number().int().positive(),
      /** How long a finished job's result is kept. */
      keepSeconds: z.number().int().positive(),
      /** The Modal Secret whose WEBHOOK_SECRET signs job webhooks; null: no webhooks. */
      webhookSecret: z.string().nullable(),
      /** Where output files are written: the app's Volume, or the team's bucket (CloudBucketMount). */
      results: z.discriminatedUnion('kind', [
        z.strictObject({
          /** The app's own Volume (the default). */
          kind: z.literal('volume'),
          /** The Volume's name: `<app's Modal name>-job-results`. */
          name: z.string(),
        }),
        z.strictObject({
          /** The team's S3-compatible bucket, through a CloudBucketMount (ComfyApp jobs.results). */
          kind: z.literal('bucket'),
          /** The bucket's name. */
          bucket: z.string(),
          /** The Modal Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
          secret: z.string(),
          /** The key prefix outputs are written under; ends with '/'. */
          prefix: z.string(),
          /** The S3 API endpoint of an S3-compatible store; null: AWS S3. */
          endpointUrl: z.string().nullable(),
        }),
      ]),
    })
    .nullable(),
  /** Requests need Modal proxy auth headers (Modal-Key, Modal-Secret). */
  requiresProxyAuth: z.boolean(),
  /** Extra command-line flags ComfyUI is started with (after --listen and --port). */
  comfyArgs: z.array(z.string()),
  /** Pins for what the custom nodes leave open: apps/<id>/constraints.txt, honoured by every pip install. */
  constraints: z.array(z.string()),
  /** The image's Python version. */
  pythonVersion: z.string(),
  /** The ComfyUI release installed in the image. */
  comfyVersion: z.string(),
  /**
   * The node schemas synth checked the app's workflows against: the ComfyUI release of their core classes
   * and where they came from (`snapshot`: the committed snapshot of exactly that release; `closest
   * snapshot`, `+ <file>` for the app's corrections; `whole dump <file>`: the app's own dump).
   */
  nodeSchemas: z.strictObject({
    /** The release of their core classes. */
    comfyVersion: z.string(),
    /** Where they came from. */
    source: z.string(),
  }),
  /** The comfy-cli release that installs ComfyUI. */
  comfyCliVersion: z.string(),
  /** Where ComfyUI is installed in the image. */
  comfyDir: z.string(),
  /** The loopback port ComfyUI listens on in the container. */
  comfyPort: z.number().int(),
  /** Its custom-node packs. */
  customNodes: z.array(customNodeSchema),
  /** Its model files. */
  models: z.array(modelFileSchema),
  /** Its image, layer by layer. */
  image: imageLayersSchema,
  /** The Volumes mounted into its containers. */
  volumes: z.array(volumeMountSchema),
  /** The Modal Secrets attached to its function, by name. */
  secrets: z.array(z.string()),
  /** Modal Secret holding HF_TOKEN for gated downloads at image build; null when none is set. */
  huggingfaceSecret: z.string().nullable(),
  /** Comfy.org partner-API nodes allowed: the Modal Secret (also in `secrets`) and its variable with the key. */
  partnerNodes: z
    .strictObject({
      /** The Modal Secret with the key. */
      apiKeySecret: z.string(),
      /** The Secret's variable that holds it. */
      apiKeyEnv: z.string(),
    })
    .optional(),
  /** Its endpoints. */
  endpoints: z.array(endpointSpecSchema).min(1),
});
/** One Modal app, as synth writes it. */
export type AppSpec = z.infer<typeof appSpecSchema>;

/** `synth.out/manifest.json`: the whole stack, as every later command reads it. */
export const manifestSchema = z.strictObject({
  /** MANIFEST_VERSION. */
  version: z.literal(MANIFEST_VERSION),
  /** The ModalProject. */
  project: z.strictObject({
    /** The project's name (the prefix of Modal app names). */
    name: z.string(),
    /** The Modal workspace. */
    workspace: z.string(),
    /** The Modal environment synthesized for. */
    environment: z.string(),
    /** The environment's Modal web suffix: URLs are `https://<workspace>-<suffix>--…`. */
    webSuffix: z.string().optional(),
    /** Modal App tags on every app (modal-cdk.stack, modal-cdk.app, modal-cdk.environment); off: none. */
    appTags: z.boolean().optional(),
    /** `modal deploy --strategy`; left out: Modal's default (rolling). */
    deployStrategy: z.enum(['rolling', 'recreate']).optional(),
    /** The CI workflow deploys to `from`, verifies, then promotes to `to`. */
    releasePath: z
      .strictObject({
        /** The environment deployed and verified first. */
        from: z.string(),
        /** The environment promoted to. */
        to: z.string(),
      })
      .optional(),
  }),
  /** Every app, in the order of the construct tree. */
  apps: z.array(appSpecSchema),
});
/** `synth.out/manifest.json`. */
export type Manifest = z.infer<typeof manifestSchema>;

/** `synth.out/deploy-plan.json`: what `modal-cdk deploy` runs, app by app. */
export const deployPlanSchema = z.strictObject({
  /** MANIFEST_VERSION. */
  version: z.literal(MANIFEST_VERSION),
  /** The Modal environment deployed to. */
  environment: z.string(),
  /** One `modal deploy` per app. */
  steps: z.array(
    z.strictObject({
      /** The app's id. */
      appId: z.string(),
      /** The Modal app name. */
      modalName: z.string(),
      /** The file `modal deploy` takes, relative to synth.out. */
      entry: z.string(),
      /** The app's content hash (its deploy tag's prefix). */
      hash: z.string(),
      /** What the app's warm containers cost with no traffic (the app spec's standingCost). */
      standingCost: appSpecSchema.shape.standingCost,
      /** What a cold start costs before the first answer (the app spec's coldStart). */
      coldStart: appSpecSchema.shape.coldStart,
      /** argv after `modal`. */
      args: z.array(z.string()),
    }),
  ),
});
/** `synth.out/deploy-plan.json`. */
export type DeployPlan = z.infer<typeof deployPlanSchema>;
