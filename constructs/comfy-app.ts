import { Construct } from 'constructs';
import { z } from 'zod';
import { durationAtMost, durationSchema, type DurationInput, formatDuration } from '../lib/duration';
import { ModelFiles } from '../lib/comfy/model-files';
import type { SchemaFileInput } from '../lib/comfy/node-schema';
import { partnerNodesIn } from '../lib/comfy/partner-nodes';
import { loadSchemaFile } from '../lib/comfy/schema-file';
import { closestCoreVersion, coreClassNames, coreVersions, type PackSchemas, SchemaSet } from '../lib/comfy/schema-set';
import { isMarked, markAs } from '../lib/identity';
import { addNote, addWarning, ModalCdkError, parseProps } from '../lib/errors';
import { appGpus, gpuMemoryGb, gpuUsdPerSecond, parseGpu } from '../lib/policy/gpu';
import { coldStartSeconds, warmupPlan } from '../lib/synth/warmup';
import { parseCron, standingCost, timeZoneProblem, type WarmScheduleEntry } from '../lib/policy/standing-cost';
import type { AppSpec, VolumeMount } from '../lib/synth/spec';
import type { AppDraft } from '../lib/synth/render';
import { CustomNode } from './custom-node';
import { Endpoint } from './endpoint';
import { HfModel } from './hf-model';
import { buildImageLayers, COMFY_DIR, COMFY_PORT, HF_CACHE_MOUNT } from '../lib/synth/image-layers';
import { ModalProject } from './modal-project';
import {
  aptPackageSchema,
  comfyVersionSchema,
  gpuSchema,
  modalNameSchema,
  pinnedPipPackageSchema,
  pythonVersionSchema,
  secretNameSchema,
} from './schemas';
import { looksLikeAKey } from '../lib/webhook-target';
import { Volume } from './volume';
import { UrlModel } from './url-model';
import { VolumeModel } from './volume-model';
import type { Workflow } from './workflow';

/** How an app's job routes behave (ComfyApp `jobs`). */
export interface JobsOptions {
  /**
   * Jobs queued or running at once; a submit past it is answered 429 with `Retry-After`.
   * @default 100
   */
  readonly maxActiveJobs?: number;
  /**
   * How long a finished job's result (its output files) is kept; `GET /jobs/{id}/result` is a 410 after
   * it, and the files are deleted (hourly from the app's Volume; a bucket's lifecycle rule for a bucket).
   * @default "1d"
   */
  readonly keepResults?: DurationInput;
  /**
   * The Modal Secret that holds `WEBHOOK_SECRET` (`whsec_` + base64, as the Standard Webhooks libraries
   * make it), with which job webhooks (`Webhook-Url`, or an Endpoint's webhookUrl) are signed.
   * @see https://www.standardwebhooks.com/
   * @default - none: a submit naming a Webhook-Url is refused (422)
   */
  readonly webhookSecret?: string;
  /**
   * Where finished jobs' output files are written: the team's own S3-compatible bucket (mounted with
   * Modal's CloudBucketMount), whose outputs' `url` is then a presigned URL. Expiry there is the bucket's
   * lifecycle rule (docs/jobs.md "Results as files"); reads after keepResults are a 410 either way.
   * @see https://modal.com/docs/guide/cloud-bucket-mounts
   * @default - a Modal Volume the app declares, `<app>-job-results`, swept of expired results every hour
   */
  readonly results?: JobResultsBucket;
}

/** The team's bucket for job outputs (JobsOptions `results`). */
export interface JobResultsBucket {
  /** The bucket's name (not its ARN). */
  readonly bucket: string;
  /**
   * The Modal Secret with the bucket's credentials: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
   * `AWS_REGION` where the region is not found by itself), for the mount and for presigning URLs.
   * @see https://modal.com/docs/reference/modal.CloudBucketMount
   */
  readonly secret: string;
  /**
   * The key prefix outputs are written under, ending with `/` (`<prefix><job id>/<file>`).
   * @default - "modal-cdk/<app's Modal name>/"
   */
  readonly prefix?: string;
  /**
   * The S3 API endpoint of an S3-compatible store, e.g. `https://<account>.r2.cloudflarestorage.com` for
   * Cloudflare R2 or `https://storage.googleapis.com` for Google Cloud Storage.
   * @default - AWS S3
   */
  readonly endpointUrl?: string;
}

/** Where a ComfyApp's Comfy.org API key comes from (ComfyAppProps.partnerNodes). */
export interface PartnerNodes {
  /** The Modal Secret that holds the key. */
  readonly apiKeySecret: string;
  /** The Secret's environment variable with the key. @default 'COMFY_ORG_API_KEY' */
  readonly apiKeyEnv?: string;
}

/** The props of a ComfyApp: its Modal function's settings, image and ComfyUI. */
export interface ComfyAppProps {
  /**
   * GPU type, e.g. `"L40S"`, `"H100:2"`, or a fallback list tried in order (`["H100", "A100-80GB"]`).
   * @default - no GPU: the app's containers run ComfyUI on the CPU (`--cpu`), for workflows whose work runs
   * elsewhere, such as Comfy.org partner-API nodes (`partnerNodes`); a diffusion model on a CPU takes minutes.
   * @see https://modal.com/docs/guide/gpu
   */
  readonly gpu?: string | string[];
  /**
   * Modal app name.
   * @default - `<project name>-<id>`, e.g. `ryla-wan26`
   */
  readonly modalName?: string;
  /**
   * Longest time one input may run (Modal `timeout`); must cover every endpoint's client timeout.
   * @default - the longest timeout or client timeout of the app's endpoints, and at least 5m (Modal's default)
   */
  readonly timeout?: DurationInput;
  /**
   * Time allowed for container start-up: linking models, starting ComfyUI and the warm-up (Modal
   * `startup_timeout`). Synth warns below 120 s + 3 s per GB of the app's models + 15 s per warmed
   * endpoint (`ComfyApp.startupFloorSeconds`).
   * @default "10m"
   */
  readonly startupTimeout?: DurationInput;
  /**
   * How long an idle container stays up before scaling down (Modal `scaledown_window`).
   * @default "5m"
   */
  readonly scaledownWindow?: DurationInput;
  /** Containers kept warm at all times. @default 0 */
  readonly minContainers?: number;
  /** Most containers at once. @default - no limit */
  readonly maxContainers?: number;
  /**
   * Idle containers Modal keeps ready beside the busy ones while the app serves (Modal `buffer_containers`):
   * fewer cold starts under bursts, each paid like a warm GPU while the app is busy.
   * @see https://modal.com/docs/guide/cold-start#maintain-a-buffer-of-warm-containers
   * @default 0
   */
  readonly bufferContainers?: number;
  /**
   * Warm GPUs by the clock: from each entry's `cron` on (5 fields, in its explicit IANA `timezone`), keep
   * its `minContainers` warm, e.g. `[{ cron: '0 8 * * 1-5', minContainers: 1, timezone: 'Europe/Berlin' },
   * { cron: '0 20 * * *', minContainers: 0, timezone: 'Europe/Berlin' }]`. Each entry becomes a small CPU
   * function of the app on a Modal Cron schedule that calls the GPU class's `update_autoscaler`; the app's
   * `minContainers` stays the floor after each deploy (a deploy resets the autoscaler to it).
   * @see https://modal.com/docs/reference/modal.Cron
   * @default - none: `minContainers` at all times
   */
  readonly warmSchedule?: WarmScheduleEntry[];
  /**
   * Requests one container takes at once (`@modal.concurrent(max_inputs=…)`); ComfyUI runs prompts one
   * by one, so more only queues inside the container.
   * @default 1
   */
  readonly maxInputs?: number;
  /**
   * Start containers from a Modal memory snapshot of a running ComfyUI: the first phase
   * (`@modal.enter(snap=True)`, captured once per deploy) starts ComfyUI with the GPU hidden, through
   * modal-cdk's own ComfyUI extension, and waits until it answers; the second (`@modal.enter(snap=False)`,
   * after every restore) gives it the GPU before the first request. What a restore skips: Python, torch
   * and custom-node imports and ComfyUI's start (docs/cold-starts.md "Cold starts"). A custom node that touches CUDA when
   * it is imported cannot be snapshotted this way (there is no GPU in the first phase): synth refuses
   * `importNeedsGpu` nodes here unless `gpuSnapshot` is on.
   *
   * Off by default: turn it on per app once its custom nodes are known to start without a GPU. Modal moved
   * memory snapshots out of its main ComfyUI example for that reason ("a lot of user errors trying to run
   * custom nodes with memory snapshotting"), and this project has tested the two phases on a real ComfyUI
   * on the CPU, not yet on a Modal GPU.
   * @see https://modal.com/docs/guide/memory-snapshot
   * @default false
   */
  readonly memorySnapshot?: boolean;
  /**
   * Load the models before a container takes its first request: after ComfyUI is up (inside Modal's
   * `@modal.enter`, which Modal waits for before routing requests; `modal-cdk serve` does the same), the
   * runtime runs each warmed endpoint once with its smoke request at the smallest size its fields allow,
   * so its loader nodes' outputs are cached and the first user request costs what the second does. A
   * failed warm-up fails the container's start with the node's error: a broken container never serves.
   * `'all'`: every endpoint, in the order declared; a list of paths: those, in that order (the first win
   * when their models do not all fit on the GPU; the others are skipped, with a note); `'none'`: models
   * load on the first request that needs them. With more than one endpoint warmed, ComfyUI keeps every
   * warmed workflow's outputs (`--cache-lru`, unless `comfyArgs` sets a cache flag).
   * @see https://modal.com/docs/guide/lifecycle-functions
   * @default 'all'
   */
  readonly warmup?: 'all' | 'none' | string[];
  /**
   * Cast every endpoint's diffusion model to fp8 as it loads (Endpoint `fp8DiffusionModel`, which an
   * endpoint may override): less GPU memory, faster sampling, slightly different outputs.
   * @default false
   */
  readonly fp8DiffusionModel?: boolean;
  /**
   * Serve FastAPI's interactive docs and schema (`/docs`, `/redoc`, `/openapi.json`). Off: they describe
   * every route and field to anyone who finds the URL, and the request schema is in clients/endpoints.json.
   * @see https://fastapi.tiangolo.com/tutorial/metadata/#docs-urls
   * @default false
   */
  readonly apiDocs?: boolean;
  /**
   * Job routes for the app's endpoints, for work that outlives a web request (docs/jobs.md "Long-running requests
   * and jobs"): `POST <path>` with `Prefer: respond-async` answers `202` and a job id at once; `GET
   * /jobs/{id}` (status and progress), `/jobs/{id}/result`, `/jobs/{id}/events` and `POST /jobs/{id}/cancel`
   * follow it. On Modal they are served by a CPU-only function of the app (its own URL), which starts the
   * work on the GPU class, so polling never wakes a GPU. `false`: no job routes.
   * @see https://modal.com/docs/guide/job-queue
   * @default - on: at most 100 jobs queued or running (`maxActiveJobs`; past it a submit is a 429), each
   *   result kept 1 day after it finished (`keepResults`)
   */
  readonly jobs?: false | JobsOptions;
  /**
   * Also snapshot GPU memory (`experimental_options={"enable_gpu_snapshot": True}`), so the snapshot phase
   * has the GPU and ComfyUI starts on it. Alpha on Modal, and warned at synth: restores are reported to fail
   * often; a failed restore is retried as a plain cold start (both phases run, slower but correct). Needs
   * `memorySnapshot`.
   * @see https://modal.com/docs/guide/memory-snapshot
   * @default false
   */
  readonly gpuSnapshot?: boolean;
  /** ComfyUI release of this app's image. @default - the project's comfyVersion */
  readonly comfyVersion?: string;
  /** comfy-cli release that installs ComfyUI. @default - the project's comfyCliVersion */
  readonly comfyCliVersion?: string;
  /** Python version of the image. @default - the project's pythonVersion */
  readonly pythonVersion?: string;
  /** Extra pinned pip packages (`name==version`). @default [] */
  readonly pythonPackages?: string[];
  /**
   * Pins for packages the custom nodes' requirements leave open (`insightface==0.7.3`): written to the
   * app's constraints.txt, which every pip install of the image honours (PIP_CONSTRAINT), so a new upstream
   * release cannot change the image.
   * @default [] - the nodes' own requirements decide
   */
  readonly constraints?: string[];
  /** Extra Debian packages. @default [] */
  readonly aptPackages?: string[];
  /** Further volumes to mount (those of its VolumeModels are mounted anyway). @default [] */
  readonly volumes?: Volume[];
  /** Names of Modal Secrets exposed to the container at run time. @default [] */
  readonly secrets?: string[];
  /**
   * Allow Comfy.org partner-API nodes (classes ComfyUI marks `api_node`: OpenAI, Gemini, Kling, …): they
   * run on Comfy.org's servers, not on the app's GPU, and need a Comfy.org API key with every prompt. The
   * key comes from this Modal Secret; the runtime sends it as ComfyUI expects (`extra_data.api_key_comfy_org`
   * of `/prompt`), never logging or returning it.
   * @see https://docs.comfy.org/tutorials/api-nodes/overview
   * @default - none: an endpoint whose workflow has partner-API nodes fails synth, naming them
   */
  readonly partnerNodes?: PartnerNodes;
  /** Modal Secret with `HF_TOKEN` for gated downloads. @default - the project's huggingfaceSecret */
  readonly huggingfaceSecret?: string;
  /**
   * Require Modal proxy auth on the endpoints. Opting out makes them public: synth warns for each such app.
   * @default - the project's requiresProxyAuth
   */
  readonly requiresProxyAuth?: boolean;
  /**
   * Extra command-line flags ComfyUI starts with, e.g. `["--fast", "--preview-method", "none"]`. The
   * runtime sets `--listen` and `--port` itself.
   * @default []
   */
  readonly comfyArgs?: string[];
  /**
   * Node schemas of this app's ComfyUI release, for a release modal-cdk has no snapshot of: a JSON file
   * relative to the project root, or the object inline. A whole ComfyUI's dump (`modal-cdk schemas dump
   * --url <its ComfyUI> --core`, which marks it `"core": true` with its `comfyui` release) stands *instead
   * of* the closest committed snapshot; any other schema file (the shape of `CustomNode` `nodeSchemas`)
   * corrects the closest snapshot class by class. Custom nodes' entries still win over both.
   * @see https://docs.comfy.org/development/comfyui-server/comms_routes (GET /object_info)
   * @default - the committed snapshot of the app's comfyVersion, else the closest one (with a note)
   */
  readonly nodeSchemas?: string | SchemaFileInput;
}

/** Modal's longest function timeout: 24 h (https://modal.com/docs/guide/timeouts). */
export const MODAL_MAX_TIMEOUT_SECONDS = 24 * 3600;

const comfyAppPropsSchema = z
  .strictObject({
    gpu: z.union([gpuSchema, z.array(gpuSchema).min(1)]).optional(),
    modalName: modalNameSchema.optional(),
    timeout: durationAtMost(
      MODAL_MAX_TIMEOUT_SECONDS,
      'expected at most 24h, the longest timeout Modal allows',
    ).optional(),
    startupTimeout: durationAtMost(
      MODAL_MAX_TIMEOUT_SECONDS,
      'expected at most 24h, the longest timeout Modal allows',
    ).default(600),
    scaledownWindow: durationSchema.default(300),
    minContainers: z.number().int().nonnegative().default(0),
    maxContainers: z.number().int().positive().optional(),
    maxInputs: z.number().int().positive().default(1),
    bufferContainers: z.number().int().nonnegative().default(0),
    warmSchedule: z
      .array(
        z.strictObject({
          cron: z.string().refine((c) => !('error' in parseCron(c)), {
            error: (i) => `expected a cron schedule: ${(parseCron(String(i.input)) as { error: string }).error}`,
          }),
          minContainers: z.number().int().nonnegative(),
          timezone: z.string().superRefine((zone, ctx) => {
            const problem = timeZoneProblem(zone);
            if (problem) ctx.addIssue({ code: 'custom', message: problem, input: zone });
          }),
        }),
      )
      .default([]),
    memorySnapshot: z.boolean().default(false),
    fp8DiffusionModel: z.boolean().default(false),
    warmup: z
      .union([z.enum(['all', 'none']), z.array(z.string().startsWith('/')).min(1)], {
        error: "expected 'all', 'none' or a list of the app's endpoint paths, e.g. ['/flux']",
      })
      .default('all'),
    apiDocs: z.boolean().default(false),
    jobs: z
      .union(
        [
          z.literal(false),
          z.strictObject({
            maxActiveJobs: z.number().int().min(1).max(10_000).default(100),
            keepResults: durationAtMost(
              6 * 86_400,
              'expected at most 6 days: the job store is a modal.Dict, whose entries expire after 7 days unread',
            ).default(86_400),
            webhookSecret: z
              .string()
              .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Modal Secret name')
              .refine(
                (name) => !looksLikeAKey(name),
                'expected the name of the Modal Secret that holds WEBHOOK_SECRET, not the signing key itself (secrets appear only by name): `modal secret create <name> WEBHOOK_SECRET=whsec_…`, then give <name>',
              )
              .optional(),
            results: z
              .strictObject({
                bucket: z
                  .string()
                  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a bucket name (3 to 63 of a-z, 0-9, . and -)'),
                secret: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Modal Secret name'),
                prefix: z
                  .string()
                  .regex(
                    /^[A-Za-z0-9!_.*'()/-]{0,200}\/$/,
                    "expected a key prefix ending with '/', e.g. 'comfy/results/' (Modal's CloudBucketMount needs the '/')",
                  )
                  .optional(),
                endpointUrl: z
                  .string()
                  .regex(
                    /^https:\/\/[^\s/]+\/?$/,
                    'expected the https address of an S3 API, e.g. https://<account>.r2.cloudflarestorage.com',
                  )
                  .optional(),
              })
              .optional(),
          }),
        ],
        {
          error:
            'expected false (no job routes) or the job settings { maxActiveJobs?, keepResults?, webhookSecret?, results? } — jobs are on by default: leave jobs out for the defaults',
        },
      )
      .default({ maxActiveJobs: 100, keepResults: 86_400 }),
    gpuSnapshot: z.boolean().default(false),
    comfyVersion: comfyVersionSchema.optional(),
    comfyCliVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, 'expected a pinned comfy-cli release such as "1.5.3"')
      .optional(),
    pythonVersion: pythonVersionSchema.optional(),
    pythonPackages: z.array(pinnedPipPackageSchema).default([]),
    constraints: z.array(pinnedPipPackageSchema).default([]),
    aptPackages: z.array(aptPackageSchema).default([]),
    volumes: z.array(z.custom<Volume>(Volume.isVolume, { message: 'expected Volume constructs' })).default([]),
    secrets: z.array(secretNameSchema).default([]),
    huggingfaceSecret: secretNameSchema.optional(),
    partnerNodes: z
      .strictObject({
        apiKeySecret: secretNameSchema,
        apiKeyEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as COMFY_ORG_API_KEY')
          .default('COMFY_ORG_API_KEY'),
      })
      .optional(),
    requiresProxyAuth: z.boolean().optional(),
    comfyArgs: z
      .array(
        z
          .string()
          .min(1)
          .refine(
            (a) => !/^--(listen|port)(=|$)/.test(a),
            'expected no --listen or --port: the runtime binds ComfyUI to loopback on its own port',
          ),
      )
      .default([]),
    nodeSchemas: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.maxContainers !== undefined && p.minContainers > p.maxContainers) {
      ctx.addIssue({
        code: 'custom',
        path: ['minContainers'],
        input: p.minContainers,
        message: `expected at most maxContainers (${p.maxContainers}) — lower minContainers or raise maxContainers`,
      });
    }
    if (p.maxContainers !== undefined && p.bufferContainers > p.maxContainers) {
      ctx.addIssue({
        code: 'custom',
        path: ['bufferContainers'],
        input: p.bufferContainers,
        message: `expected at most maxContainers (${p.maxContainers}): Modal never runs more than maxContainers, so the extra buffer would never be warm — lower bufferContainers or raise maxContainers`,
      });
    }
    for (const [i, entry] of p.warmSchedule.entries()) {
      if (p.maxContainers !== undefined && entry.minContainers > p.maxContainers) {
        ctx.addIssue({
          code: 'custom',
          path: ['warmSchedule', i, 'minContainers'],
          input: entry.minContainers,
          message: `expected at most maxContainers (${p.maxContainers})`,
        });
      }
    }
  });

/**
 * One Modal app serving ComfyUI behind FastAPI: its image (ComfyUI, custom nodes, models), its GPU and
 * scaling, and its endpoints. `id` is what `npm run deploy -- --app <id>` takes.
 */
export class ComfyApp extends Construct {
  /** Whether `x` is a ComfyApp (of any copy of modal-cdk). */
  public static isComfyApp(x: unknown): x is ComfyApp {
    return isMarked(x, 'ComfyApp');
  }

  /** The Modal app name: `modalName`, else `<project name>-<id>`. */
  public readonly modalName: string;
  /** The ModalProject the app belongs to. */
  public readonly project: ModalProject;
  private readonly props: z.output<typeof comfyAppPropsSchema>;
  private schemaSet: SchemaSet | undefined;
  private overlay: { pack: PackSchemas } | { errors: string[] } | undefined;
  private models: ModelFiles | undefined;

  /**
   * Adds a Modal app to the project.
   * @param scope - the ModalProject
   * @param id - the app's id: lower-case letters, digits and `-`; its folder, URLs and `--app` value
   */
  constructor(scope: ModalProject, id: string, props: ComfyAppProps) {
    const existing = scope.node.tryFindChild(id);
    if (existing) {
      throw new ModalCdkError([
        {
          path: scope.node.path,
          message: `duplicate app id "${id}": ${existing.node.path} already exists — each ComfyApp id must be unique in the project, since it names the app in \`deploy --app\``,
        },
      ]);
    }
    super(scope, id);
    markAs(this, 'ComfyApp');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) {
      throw new ModalCdkError([
        {
          path: this.node.path,
          message: `app id: got "${id}", expected lower-case letters, digits and "-" (it becomes part of the Modal name and URLs)`,
        },
      ]);
    }
    this.project = ModalProject.of(this);
    this.props = parseProps(comfyAppPropsSchema, props, this.node.path);
    this.modalName = this.props.modalName ?? `${this.project.projectName}-${id}`;
    this.node.addValidation({ validate: () => this.validateApp() });
    if (this.props.gpuSnapshot) {
      addWarning(
        this,
        'gpu-snapshot-alpha',
        `app ${id}: gpuSnapshot uses Modal's GPU memory snapshots, an alpha feature whose restores are reported to fail often; a failed restore falls back to a plain cold start — remove gpuSnapshot to use CPU memory snapshots only`,
      );
    }
    if (!this.requiresProxyAuth) {
      addWarning(
        this,
        'public-endpoints',
        `app ${id}: endpoints without Modal proxy auth (requiresProxyAuth: false) are public: anyone with a URL can run them on your GPUs — remove requiresProxyAuth: false to require Modal-Key/Modal-Secret headers`,
      );
    }
    const warm = Math.max(this.props.minContainers, ...this.props.warmSchedule.map((e) => e.minContainers));
    if (warm > 1) {
      addNote(
        this,
        'warm-gpus',
        `app ${id}: keeps up to ${warm} containers warm with no traffic (minContainers / warmSchedule), each a GPU paid by the second: see the standing cost in the deploy plan and docs/ENDPOINT-APP-MAPPING.md`,
      );
    }
  }

  /**
   * A CPU app with model files is likely a forgotten `gpu` (a warning); a partner-API app with a GPU and no
   * model file likely needs none (a note).
   */
  private noteDevice(): void {
    const models = this.modelLinks().map((m) => m.id);
    if (this.gpus.length === 0 && models.length > 0)
      addWarning(
        this,
        'cpu-models',
        `app ${this.node.id} has no gpu, so ComfyUI runs on the CPU, but it declares ${models.length} model file(s) (${models.join(', ')}): a diffusion model on a CPU takes minutes per request — set gpu, unless the CPU is what you want`,
      );
    if (this.gpus.length > 0 && this.props.partnerNodes && models.length === 0)
      addNote(
        this,
        'partner-gpu',
        `app ${this.node.id} reserves a GPU (${this.gpus.join(', ')}) but declares no model file: if its workflows run only partner-API nodes and light ComfyUI nodes, leave gpu out and the app runs on the CPU (no GPU paid while Comfy.org works)`,
      );
  }

  /**
   * What an app without a GPU cannot have: a GPU snapshot, or custom nodes that import only on a GPU
   * (`needGpu`, the app's).
   */
  private cpuProblems(needGpu: readonly CustomNode[]): string[] {
    const problems: string[] = [];
    if (this.props.gpuSnapshot)
      problems.push(
        'gpuSnapshot: got true for an app without a GPU (no gpu: it runs on the CPU) — set gpu, or remove gpuSnapshot',
      );
    if (needGpu.length > 0)
      problems.push(
        `gpu: none given (the app runs on the CPU), but custom node(s) ${needGpu.map((n) => n.node.id).join(', ')} need a GPU to import — set the app's gpu`,
      );
    return problems;
  }

  /** The ComfyUI release of the app's image: its own, else the project's. */
  public get comfyVersion(): string {
    return this.props.comfyVersion ?? this.project.comfyVersion;
  }

  /** Whether the app serves job routes (ComfyApp `jobs`). */
  public get jobsEnabled(): boolean {
    return this.props.jobs !== false;
  }

  /** Whether job webhooks can be signed (`jobs.webhookSecret` is set). */
  public get signsWebhooks(): boolean {
    return this.props.jobs !== false && this.props.jobs.webhookSecret !== undefined;
  }

  /** Whether the endpoints require Modal proxy auth: the app's setting, else the project's. */
  public get requiresProxyAuth(): boolean {
    return this.props.requiresProxyAuth ?? this.project.requiresProxyAuth;
  }

  /** The app's endpoints, in the order they were added. */
  public get endpoints(): Endpoint[] {
    return this.node.children.filter(Endpoint.isEndpoint);
  }

  /** The Modal Secret with `HF_TOKEN`: the app's, else the project's; undefined when neither sets one. */
  public get huggingfaceSecret(): string | undefined {
    return this.props.huggingfaceSecret ?? this.project.huggingfaceSecret;
  }

  /** Whether the app allows Comfy.org partner-API nodes (partnerNodes is set). */
  public get allowsPartnerNodes(): boolean {
    return this.props.partnerNodes !== undefined;
  }

  /**
   * The node classes this app's workflows may use: the core snapshot closest to its ComfyUI version plus
   * its custom nodes' schemas (call after the custom nodes' own validation passed).
   */
  public get schemas(): SchemaSet {
    if (!this.schemaSet) {
      const whole = this.wholeDump();
      const packs = [
        whole ? undefined : this.coreOverlay(),
        ...this.children({ is: CustomNode.isCustomNode }).map((n) => n.schemas(this.project.root)),
      ]
        .filter((s): s is { pack: PackSchemas } => s !== undefined && 'pack' in s)
        .map((s) => s.pack);
      this.schemaSet = SchemaSet.for(this.comfyVersion, packs, whole);
    }
    return this.schemaSet;
  }

  /** Which node schemas the app's workflows are checked against (the manifest's `nodeSchemas`). */
  public get schemaSource(): {
    /** The release of the core classes. */
    comfyVersion: string;
    /** Where they come from (`snapshot`, `closest snapshot`, `whole dump <file>`, with `+ <file>` for corrections). */
    source: string;
  } {
    const given = this.props.nodeSchemas;
    const file = typeof given === 'string' ? given : '(inline nodeSchemas)';
    if (this.wholeDump()) return { comfyVersion: this.comfyVersion, source: `whole dump ${file}` };
    const snapshot = closestCoreVersion(this.comfyVersion);
    const kind = snapshot === this.comfyVersion ? 'snapshot' : 'closest snapshot';
    return { comfyVersion: snapshot, source: given === undefined ? kind : `${kind} + ${file}` };
  }

  /** The app's `nodeSchemas` when it is a whole ComfyUI's dump of the app's release (else undefined). */
  private wholeDump(): PackSchemas | undefined {
    const own = this.coreOverlay();
    return own && 'pack' in own && own.pack.file.core === true && own.pack.file.comfyui === this.comfyVersion
      ? own.pack
      : undefined;
  }

  /** The app's own `nodeSchemas` (core classes as its ComfyUI version has them), read once. */
  private coreOverlay(): { pack: PackSchemas } | { errors: string[] } | undefined {
    if (this.props.nodeSchemas === undefined) return undefined;
    if (!this.overlay)
      this.overlay = loadSchemaFile(this.props.nodeSchemas, this.project.root, `app ${this.node.path} nodeSchemas`);
    return this.overlay;
  }

  /** The model files this app provides, as ComfyUI lists them by folder. */
  public get modelFiles(): ModelFiles {
    if (!this.models) {
      this.models = new ModelFiles(this.modelLinks(), this.schemas);
    }
    return this.models;
  }

  /**
   * Each file the app's models put at models/<target>/<filename>, by model: HF and URL files, and volume
   * paths (which may be folders). An unzipped archive adds files whose names synth does not know: none.
   */
  private modelLinks(): { id: string; target: string; filename: string; mayBeFolder: boolean }[] {
    const link = (m: { node: { id: string }; target: string; filename: string }, mayBeFolder: boolean) => ({
      id: m.node.id,
      target: m.target,
      filename: m.filename,
      mayBeFolder,
    });
    return [
      ...this.children({ is: HfModel.isHfModel }).map((m) => link(m, false)),
      ...this.children({ is: VolumeModel.isVolumeModel }).map((m) => link(m, true)),
      ...this.children({ is: UrlModel.isUrlModel })
        .filter((m) => !m.unzip)
        .map((m) => link(m, false)),
    ];
  }

  /** Paths of the app's endpoints, for the project's duplicate check. */
  public endpointPaths(): {
    /** The endpoint's URL path. */
    path: string;
    /** Its construct path. */
    constructPath: string;
  }[] {
    return this.endpoints.map((e) => ({ path: e.path, constructPath: e.node.path }));
  }

  /** @internal The app's spec (without the content hash, computed from the rendered files) and workflows. */
  public _toSpec(): AppDraft {
    const workflows: Record<string, unknown> = {};
    for (const e of this.endpoints) workflows[e.shippedWorkflowName] = e.graph();
    const spec = this.toAppSpec();
    return { spec: { ...spec, ...this.warmupSpec(spec, workflows) }, workflows };
  }

  /** The warm-up runs (lib/synth/warmup.ts), and the cache flag that keeps several warmed workflows cached. */
  private warmupSpec(spec: Omit<AppSpec, 'hash' | 'warmup' | 'coldStart'>, workflows: Record<string, unknown>) {
    const firstGpu = appGpus(spec)[0];
    const memoryGb = firstGpu === undefined ? undefined : gpuMemoryGb(firstGpu);
    const partnerNodes = new Map(
      this.endpoints.map((e) => [e.path, [...new Set(partnerNodesIn(e.graph(), this.schemas).map(([, cls]) => cls))]]),
    );
    const plan = warmupPlan(this.props.warmup, spec.endpoints, workflows, spec.models, memoryGb, partnerNodes);
    const modelGb = spec.models.reduce((sum, m) => sum + ('sizeGb' in m ? (m.sizeGb ?? 0) : 0), 0);
    const floor = ComfyApp.startupFloorSeconds(modelGb, plan.steps.length);
    if (spec.startupTimeoutSeconds < floor) {
      const warm = plan.steps.length ? ` and ${plan.steps.length} warmed endpoint(s) (15 s each)` : '';
      addWarning(
        this,
        'startup-timeout',
        `app ${this.node.id}: startupTimeout ${formatDuration(spec.startupTimeoutSeconds)} is below ${formatDuration(floor)}, the floor for ${Math.round(modelGb)} GB of models (120 s + 3 s per GB)${warm}: a cold container may be stopped before ComfyUI is up — raise startupTimeout`,
      );
    }
    if (plan.skipped.length > 0)
      addNote(
        this,
        'warmup-skipped',
        `app ${this.node.id} warms ${plan.steps.map((s) => s.path).join(', ') || 'nothing'} before its first request; not warmed: ${plan.skipped.map((s) => `${s.path} (${s.why})`).join('; ')}`,
      );
    const ownCache = spec.comfyArgs.some((a) => a.startsWith('--cache-'));
    if (ownCache && spec.comfyArgs.includes('--cache-none') && plan.steps.length > 0)
      addWarning(
        this,
        'warmup-cache-none',
        `app ${this.node.id}: warmup runs ${plan.steps.map((s) => s.path).join(', ')} before the first request, but comfyArgs has --cache-none, so ComfyUI keeps nothing of it — set warmup: 'none', or drop --cache-none`,
      );
    const nodes = Object.values(workflows).reduce<number>((n, g) => n + Object.keys(g as object).length, 0);
    const comfyArgs =
      plan.steps.length > 1 && !ownCache ? [...spec.comfyArgs, '--cache-lru', String(nodes)] : spec.comfyArgs;
    const coldStart = {
      modelGb: Math.round(modelGb * 10) / 10,
      warmedEndpoints: plan.steps.length,
      estimatedSeconds: coldStartSeconds(modelGb, plan.steps.length, spec.memorySnapshot),
    };
    return { warmup: plan.steps as AppSpec['warmup'], comfyArgs, coldStart };
  }

  /**
   * The shortest `startupTimeout` that fits the app's models: 120 s (container, ComfyUI and its nodes'
   * imports) plus 3 s per GB of declared models (reading them from the image or volume), plus 15 s per
   * warmed endpoint (its small run once the models are read). A warning below it.
   */
  public static startupFloorSeconds(modelGb: number, warmedEndpoints = 0): number {
    return Math.ceil((120 + 3 * modelGb + 15 * warmedEndpoints) / 60) * 60; // whole minutes
  }

  private toAppSpec(): Omit<AppSpec, 'hash' | 'warmup' | 'coldStart'> {
    const p = this.props;
    const hfModels = this.children({ is: HfModel.isHfModel }).map((m) => m._toSpec());
    const urlModels = this.children({ is: UrlModel.isUrlModel }).map((m) => m._toSpec());
    const volumeModels = this.children({ is: VolumeModel.isVolumeModel }).map((m) => m._toSpec());
    const customNodes = this.children({ is: CustomNode.isCustomNode }).map((n) => n._toSpec());
    const endpoints = this.endpoints.map((e, i, all) =>
      e._toSpec(
        requestClassName(
          e.path,
          i,
          all.map((x) => x.path),
        ),
      ),
    );
    const gpus = this.gpus.map((g) => (parseGpu(g) as { spec: string }).spec);
    const comfyCliVersion = p.comfyCliVersion ?? this.project.comfyCliVersion;
    return {
      id: this.node.id,
      constructPath: this.node.path,
      modalName: this.modalName,
      entry: `apps/${this.node.id}/app.py`,
      gpu: gpus.length === 0 ? null : gpus.length === 1 ? gpus[0] : gpus,
      timeoutSeconds: this.timeoutSeconds,
      startupTimeoutSeconds: p.startupTimeout,
      scaledownWindowSeconds: p.scaledownWindow,
      minContainers: p.minContainers,
      maxContainers: p.maxContainers ?? null,
      maxInputs: p.maxInputs,
      bufferContainers: p.bufferContainers,
      warmSchedule: p.warmSchedule,
      standingCost: standingCost(
        gpus[0] ?? 'CPU',
        gpus.length ? gpuUsdPerSecond(gpus[0]) : null,
        p.minContainers,
        p.bufferContainers,
        p.warmSchedule,
      ),
      memorySnapshot: p.memorySnapshot,
      gpuSnapshot: p.gpuSnapshot,
      apiDocs: p.apiDocs,
      jobs:
        p.jobs === false
          ? null
          : {
              maxActive: p.jobs.maxActiveJobs,
              keepSeconds: p.jobs.keepResults,
              webhookSecret: p.jobs.webhookSecret ?? null,
              results: p.jobs.results
                ? {
                    kind: 'bucket' as const,
                    bucket: p.jobs.results.bucket,
                    secret: p.jobs.results.secret,
                    prefix: p.jobs.results.prefix ?? `modal-cdk/${this.modalName}/`,
                    endpointUrl: p.jobs.results.endpointUrl ?? null,
                  }
                : { kind: 'volume' as const, name: `${this.modalName}-job-results` },
            },
      requiresProxyAuth: this.requiresProxyAuth,
      comfyArgs: gpus.length || p.comfyArgs.includes('--cpu') ? p.comfyArgs : ['--cpu', ...p.comfyArgs],
      constraints: p.constraints,
      pythonVersion: p.pythonVersion ?? this.project.pythonVersion,
      comfyVersion: p.comfyVersion ?? this.project.comfyVersion,
      nodeSchemas: this.schemaSource,
      comfyCliVersion,
      comfyDir: COMFY_DIR,
      comfyPort: COMFY_PORT,
      customNodes,
      models: [...hfModels, ...volumeModels, ...urlModels],
      image: buildImageLayers({
        comfyVersion: p.comfyVersion ?? this.project.comfyVersion,
        comfyCliVersion,
        aptPackages: p.aptPackages,
        pythonPackages: p.pythonPackages,
        constraints: p.constraints,
        customNodes,
        hfModels,
        urlModels,
        workflowClasses: this.workflowClasses(),
        gpu: gpus[0],
        memorySnapshot: p.memorySnapshot,
      }),
      volumes: this.volumeMounts(hfModels.some((m) => m.placement === 'volume')),
      secrets: [...new Set([...p.secrets, ...(p.partnerNodes ? [p.partnerNodes.apiKeySecret] : [])])].sort(),
      huggingfaceSecret: this.huggingfaceSecret ?? null,
      ...(p.partnerNodes && { partnerNodes: p.partnerNodes }),
      endpoints,
    };
  }

  /** Each node class the app's workflows use, with the first workflow that uses it (sorted by class). */
  private workflowClasses(): { cls: string; workflow: string }[] {
    const first = new Map<string, string>();
    for (const e of this.endpoints) {
      for (const node of Object.values(e.graph()))
        if (!first.has(node.class_type)) first.set(node.class_type, e.workflow.name);
    }
    return [...first].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([cls, workflow]) => ({ cls, workflow })); // code-point order: the same on every machine
  }

  /** Whether endpoints cast their diffusion model to fp8 at load unless they say otherwise. */
  public get fp8DiffusionModel(): boolean {
    return this.props.fp8DiffusionModel;
  }

  /** The app's GPUs, first choice first, as given (`"H100"`, `"L40S:2"`); none for an app on the CPU. */
  public get gpus(): string[] {
    return this.props.gpu === undefined ? [] : [this.props.gpu].flat();
  }

  /** The app's `timeout`: given, or the longest its endpoints need. */
  public get timeoutSeconds(): number {
    return (
      this.props.timeout ??
      Math.max(300, ...this.endpoints.map((e) => Math.max(e.timeoutSeconds, e.clientTimeoutSeconds)))
    );
  }

  private children<T>(type: { is(x: unknown): x is T }): T[] {
    return this.node.children.filter((c): c is T & Construct => type.is(c));
  }

  /** The volumes the app mounts: those given in props and those its VolumeModels live in. */
  private mountedVolumes(): Volume[] {
    return [...this.props.volumes, ...this.children({ is: VolumeModel.isVolumeModel }).map((m) => m.volume)];
  }

  private volumeMounts(needsHfCache: boolean): VolumeMount[] {
    const mounts = new Map<string, VolumeMount>();
    if (needsHfCache)
      mounts.set(HF_CACHE_MOUNT, {
        name: this.project.hfCacheVolume,
        mountPath: HF_CACHE_MOUNT,
        createIfMissing: true,
      });
    for (const v of this.mountedVolumes()) {
      mounts.set(v.mountPath, { name: v.volumeName, mountPath: v.mountPath, createIfMissing: v.createIfMissing });
    }
    return [...mounts.values()].sort((a, b) => a.mountPath.localeCompare(b.mountPath));
  }

  /** A pack whose schemas list a core class replaces ComfyUI's own entry in this app's checks: a note says so. */
  private noteCoreRedefinitions(): void {
    const whole = this.wholeDump();
    const version = whole ? this.comfyVersion : closestCoreVersion(this.comfyVersion);
    const core = whole ? new Set(Object.keys(whole.file.nodes)) : coreClassNames(version);
    for (const n of this.children({ is: CustomNode.isCustomNode })) {
      const loaded = n.schemas(this.project.root);
      if (!loaded || !('pack' in loaded)) continue;
      for (const cls of Object.keys(loaded.pack.file.nodes).filter((c) => core.has(c))) {
        addNote(
          n,
          'core-class-redefined',
          `nodeSchemas ${n.nodeSchemasLabel} ${cls}: redefines the core class ${cls} of ComfyUI ${version}: its entry replaces the core one in this app's checks (as a pack that re-registers a class replaces ComfyUI's own) — keep it only if the pack really changes ${cls}`,
        );
      }
    }
  }

  /** A whole dump of another release is an error; a release with no snapshot of its own gets a note. */
  private checkSchemaSource(): string[] {
    const own = this.coreOverlay();
    const file = own && 'pack' in own ? own.pack.file : undefined;
    if (file?.core === true && file.comfyui !== this.comfyVersion)
      return [
        `nodeSchemas: got a whole dump of ComfyUI ${file.comfyui ?? '(no "comfyui" release)'}, expected one of the app's comfyVersion ${this.comfyVersion} — dump the ComfyUI the app runs (modal-cdk schemas dump --url <its URL> --core), or set comfyVersion to the dump's release`,
      ];
    const { comfyVersion, source } = this.schemaSource;
    if (source.startsWith('closest snapshot')) {
      const overlay = file ? ' (with the corrections in its nodeSchemas)' : '';
      addNote(
        this,
        'node-schemas-version',
        `app ${this.node.id}: workflows are checked against the node schemas of ComfyUI ${comfyVersion}${overlay}, the snapshot closest to its comfyVersion ${this.comfyVersion} (snapshots: ${coreVersions().join(', ')}): a class or option that differs between the two is not caught at synth — give the app a whole dump of its release as nodeSchemas (modal-cdk schemas dump --url <its ComfyUI> --core)`,
      );
    }
    return [];
  }

  private validateApp(): string[] {
    const problems: string[] = [];
    if (this.endpoints.length === 0) problems.push('the app has no Endpoint: add at least one, or remove the app');
    const overlay = this.coreOverlay();
    if (overlay && 'errors' in overlay) problems.push(...overlay.errors);
    problems.push(...this.checkSchemaSource());
    const secret = this.huggingfaceSecret;
    for (const model of this.children({ is: HfModel.isHfModel })) {
      if (model.gated && !secret) {
        problems.push(
          `${model.node.id}: gated model ${model.repo}/${model.file} needs a Hugging Face token, got no huggingfaceSecret — set huggingfaceSecret (the Modal Secret holding HF_TOKEN) on the ComfyApp or ModalProject`,
        );
      }
    }
    const files = new Map<string, string>();
    for (const m of this.modelLinks()) {
      const key = `${m.target}/${m.filename}`;
      if (files.has(key))
        problems.push(`models ${files.get(key)} and ${m.id} both link models/${key}: give one a different filename`);
      files.set(key, m.id);
    }
    if (this.props.gpuSnapshot && !this.props.memorySnapshot)
      problems.push(
        'gpuSnapshot: got true without memorySnapshot, expected memorySnapshot: true as well (a GPU snapshot is part of a memory snapshot) — set memorySnapshot: true, or remove gpuSnapshot',
      );
    const needGpu = this.children({ is: CustomNode.isCustomNode }).filter((n) => n.importNeedsGpu);
    if (this.gpus.length === 0) problems.push(...this.cpuProblems(needGpu));
    const picksDevice = this.children({ is: CustomNode.isCustomNode }).filter((n) => n.importPicksDevice);
    if (this.props.memorySnapshot && !this.props.gpuSnapshot && picksDevice.length > 0) {
      problems.push(
        `memorySnapshot: got true with custom node(s) that pick their device when imported (${picksDevice.map((n) => n.node.id).join(', ')}): in the GPU-less snapshot phase they would pick the CPU and keep it after the restore — remove memorySnapshot, or add gpuSnapshot: true (alpha)`,
      );
    }
    if (this.props.memorySnapshot && !this.props.gpuSnapshot && needGpu.length > 0) {
      problems.push(
        `memorySnapshot: got true with custom node(s) that need a GPU to import (${needGpu.map((n) => n.node.id).join(', ')}), but the snapshot phase has no GPU — remove memorySnapshot, or add gpuSnapshot: true (alpha)`,
      );
    }
    if (Array.isArray(this.props.warmup)) {
      const paths = this.endpoints.map((e) => e.path);
      for (const p of this.props.warmup.filter((w) => !paths.includes(w)))
        problems.push(
          `warmup: got "${p}", which is not an endpoint of this app: expected some of ${paths.map((x) => `"${x}"`).join(', ')}, 'all' or 'none'`,
        );
    }
    this.noteCoreRedefinitions();
    this.noteDevice();
    const dirs = new Map<string, string>();
    for (const n of this.children({ is: CustomNode.isCustomNode })) {
      if (dirs.has(n.dir))
        problems.push(
          `custom nodes ${dirs.get(n.dir)} and ${n.node.id} both install into custom_nodes/${n.dir}: set dir on one`,
        );
      dirs.set(n.dir, n.node.id);
    }
    const mounts = new Map<string, string>();
    for (const v of this.mountedVolumes()) {
      const other = mounts.get(v.mountPath);
      if (other && other !== v.volumeName)
        problems.push(
          `volumes "${other}" and "${v.volumeName}" are both mounted at ${v.mountPath}: give one another mountPath`,
        );
      if (v.mountPath === HF_CACHE_MOUNT && v.volumeName !== this.project.hfCacheVolume)
        problems.push(
          `volume "${v.volumeName}" is mounted at ${HF_CACHE_MOUNT}, where the Hugging Face cache volume goes: choose another mountPath`,
        );
      mounts.set(v.mountPath, v.volumeName);
    }
    const workflows = new Map<string, Workflow>();
    for (const e of this.endpoints) {
      const other = workflows.get(e.workflow.name);
      // The same file read twice (two Workflow.fromFile calls) is one workflow.
      const same = other === e.workflow || (other?.file !== undefined && other.file === e.workflow.file);
      if (other !== undefined && !same)
        problems.push(
          `two different workflows are both named ${e.workflow.name} (endpoint ${e.path}): rename one file`,
        );
      workflows.set(e.workflow.name, e.workflow);
    }
    return problems;
  }
}

/** `/flux-dev` → `FluxDevRequest`; numbered when two paths give the same name. */
function requestClassName(path: string, index: number, allPaths: string[]): string {
  const base = (p: string) =>
    `${
      p
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join('') || 'Root'
    }Request`;
  const name = base(path);
  const clash = allPaths.slice(0, index).some((p) => base(p) === name);
  return /^[0-9]/.test(name) ? `R${name}` : clash ? `${name}${index + 1}` : name;
}
