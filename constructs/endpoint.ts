import { Construct } from 'constructs';
import { z } from 'zod';
import { bindingProblems, type BoundField } from '../lib/comfy/binding-check';
import { checkGraph, type GraphNote, inputKey } from '../lib/comfy/graph-check';
import type { ModelFiles } from '../lib/comfy/model-files';
import { outputNodes, outputProblems } from '../lib/comfy/outputs';
import { fp8Problems, withFp8DiffusionModel } from '../lib/comfy/fp8';
import { partnerNodeProblems } from '../lib/comfy/partner-nodes';
import { SchemaSet } from '../lib/comfy/schema-set';
import { durationSchema, type DurationInput, formatDuration } from '../lib/duration';
import { isMarked, markAs, scopeProblems } from '../lib/identity';
import { addNote, addWarning, parseProps, show } from '../lib/errors';
import { smokeBody } from '../lib/synth/smoke';
import { webhookUrlProblem } from '../lib/webhook-target';
import { type EndpointSpec, OUTPUT_CONTENT_TYPES, OUTPUT_FORMATS, type OutputFormat } from '../lib/synth/spec';
import {
  type EndpointInput,
  fieldNameSchema,
  fieldProblems,
  inputSchema,
  isRequired,
  type ParsedInput,
  targetsOf,
  toRequestField,
} from './endpoint-input';
import { ModalProject } from './modal-project';
import { Workflow, type WorkflowGraph } from './workflow';

/** The props of an Endpoint: its route, workflow, request fields and answer. */
export interface EndpointProps {
  /** URL path, e.g. `/flux-dev`; unique in the project (clients map paths to apps). */
  readonly path: string;
  /** The ComfyUI workflow (API format) this endpoint runs. */
  readonly workflow: Workflow;
  /**
   * Request fields (JSON body keys) and the node inputs they set.
   * @default {} - the workflow runs as saved
   */
  readonly inputs?: Record<string, EndpointInput>;
  /**
   * What the endpoint returns: image bytes (`png`, `jpeg`, `webp`), video (`mp4`) or `json` with base64 outputs.
   * @default "png"
   */
  readonly output?: OutputFormat;
  /**
   * The node whose outputs are returned; it must be an output node (`output_node` in its schema) that
   * writes the `output` format.
   * @default - the workflow's only output node (SaveImage, SaveVideo, VHS_VideoCombine, ...)
   */
  readonly outputNode?: string;
  /**
   * How long one request may run on the server (ComfyUI's execution), e.g. `"3m"`.
   * @default "5m"
   */
  readonly timeout?: DurationInput;
  /**
   * How long clients wait for an answer; generated clients use it, and the app's timeout must cover it.
   * @default - the endpoint's timeout
   */
  readonly clientTimeout?: DurationInput;
  /** One line on what the endpoint does, for the docs. @default "" */
  readonly description?: string;
  /**
   * Groups of optional fields of which a request must send at least one (e.g. `[["lora_name", "lora_id"]]`);
   * otherwise the answer is a 422 naming the group.
   * @default []
   */
  readonly requireOneOf?: string[][];
  /**
   * Fields clients send that this endpoint accepts but deliberately does not use → the reason, for the
   * docs (the request model ignores unknown fields anyway; this makes the choice visible).
   * @default {}
   */
  readonly ignoredFields?: Record<string, string>;
  /**
   * The request body `modal-cdk verify` sends after a deploy, to prove the endpoint answers: field name →
   * value, as a client would send it. Needed where a field has no usable default (a LoRA name that must
   * exist, a video); a seed field left out is random, so the second (warm) call misses ComfyUI's cache.
   * @default - a body built from the fields' defaults: each required field without one gets its type's
   *   smallest valid value (a short prompt, the minimum, the first enum value, a 64×64 PNG for an image)
   */
  readonly smokeRequest?: Record<string, unknown>;
  /**
   * Cast the diffusion model to fp8 as it loads: synth sets each UNETLoader's `weight_dtype` to
   * `fp8_e4m3fn_fast` in the workflow the app ships (as `<name>.fp8.json`; the manifest records it). About a
   * third less GPU memory and faster sampling (measured on an H100: /flux-dev 36.1 → 24.3 GB, 12 % off the
   * warm time), and outputs that change slightly: the team's choice. Refused without a UNETLoader in the
   * workflow, or on a GPU without fp8 compute (Ada, Hopper or Blackwell needed: not T4, A10, A100).
   * @see https://docs.comfy.org/built-in-nodes/loaders/load-diffusion-model
   * @default - the app's fp8DiffusionModel (false)
   */
  readonly fp8DiffusionModel?: boolean;
  /**
   * Keep the metadata ComfyUI's savers embed in outputs: the whole workflow and prompt (SaveImage's PNG
   * text chunks, SaveAnimatedWEBP's EXIF, SaveVideo's MP4 tags). Off: clients get the pixels and frames
   * without the graph (removed without re-encoding them).
   * @default false
   */
  readonly keepMetadata?: boolean;
  /**
   * Take jobs (`Prefer: respond-async`, docs/jobs.md "Long-running requests and jobs") when the app has job routes.
   * Off: the endpoint answers such a request synchronously, as RFC 7240 lets a server ignore a preference.
   * @default true
   */
  readonly jobs?: boolean;
  /**
   * Where a finished job's webhook goes when its submit sends no `Webhook-Url` header: an https URL on the
   * public internet; signed with the app's jobs.webhookSecret, which it needs.
   * @default - none: only the submit's Webhook-Url
   */
  readonly webhookUrl?: string;
}

export type { EndpointInput, NodeInput } from './endpoint-input';

const endpointPropsSchema = z
  .strictObject({
    path: z
      .string()
      .regex(
        /^\/[A-Za-z0-9._\-/]*$/,
        'expected a URL path starting with "/" such as "/flux-dev" (letters, digits, "._-/")',
      )
      .refine((p) => p !== '/health', 'expected a path other than "/health", which every app serves itself'),
    workflow: z.custom<Workflow>(Workflow.isWorkflow, {
      message: 'expected a Workflow (Workflow.fromFile("workflows/x.json"))',
    }),
    inputs: z.record(fieldNameSchema, inputSchema).default({}),
    output: z.enum(OUTPUT_FORMATS).default('png'),
    outputNode: z.string().min(1).optional(),
    timeout: durationSchema.default(300),
    clientTimeout: durationSchema.optional(),
    description: z.string().default(''),
    requireOneOf: z.array(z.array(fieldNameSchema).min(2)).default([]),
    ignoredFields: z.record(fieldNameSchema, z.string().min(1)).default({}),
    smokeRequest: z.record(z.string(), z.json()).optional(),
    fp8DiffusionModel: z.boolean().optional(),
    keepMetadata: z.boolean().default(false),
    jobs: z.boolean().default(true),
    webhookUrl: z.url({ protocol: /^https$/, error: 'expected an https:// URL for the job webhooks' }).optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, string>();
    for (const [name, f] of Object.entries(p.inputs)) {
      for (const alias of [name, ...f.aliases]) {
        const owner = seen.get(alias);
        if (owner !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['inputs', name],
            input: alias,
            message: `expected each field name and alias once, but "${alias}" is also ${owner === alias ? 'a field' : `an alias of "${owner}"`}`,
          });
        seen.set(alias, name);
      }
    }
    for (const group of p.requireOneOf) {
      for (const name of group) {
        const f = p.inputs[name];
        if (!f || f.default !== undefined || isRequired(f))
          ctx.addIssue({
            code: 'custom',
            path: ['requireOneOf'],
            input: name,
            message: `expected optional fields without a default in each group, but '${name}' ${f ? 'has a default or is required' : 'is not a field'}`,
          });
      }
    }
    for (const [name, f] of Object.entries(p.inputs)) {
      for (const loser of f.winsOver) {
        if (loser === name || !p.inputs[loser])
          ctx.addIssue({
            code: 'custom',
            path: ['inputs', name, 'winsOver'],
            input: loser,
            message: `expected names of the endpoint's other fields (${show(Object.keys(p.inputs).filter((n) => n !== name))})`,
          });
        else if (p.inputs[loser].winsOver.includes(name))
          ctx.addIssue({
            code: 'custom',
            path: ['inputs', name, 'winsOver'],
            input: loser,
            message: `expected one winner, but '${loser}' also wins over '${name}'`,
          });
      }
    }
    for (const name of Object.keys(p.ignoredFields)) {
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['ignoredFields'],
          input: name,
          message: `expected names the endpoint does not use, but '${name}' is a field or alias`,
        });
    }
    for (const name of Object.keys(p.smokeRequest ?? {})) {
      if (!seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['smokeRequest', name],
          input: name,
          message: `expected one of the endpoint's fields or aliases (${show([...seen.keys()])})`,
        });
    }
  });

/** One HTTP route of an app: a POST that runs the workflow with the request's fields bound into it. */
export class Endpoint extends Construct {
  /** Whether `x` is an Endpoint (of any copy of modal-cdk). */
  public static isEndpoint(x: unknown): x is Endpoint {
    return isMarked(x, 'Endpoint');
  }

  /** The URL path it serves. */
  public readonly path: string;
  /** The workflow it runs. */
  public readonly workflow: Workflow;
  /** How long one request may run on the server. */
  public readonly timeoutSeconds: number;
  /** How long the generated clients wait (never shorter than the server's timeout). */
  public readonly clientTimeoutSeconds: number;
  private readonly props: z.output<typeof endpointPropsSchema>;

  /** Adds an endpoint to a ComfyApp (`scope`). */
  constructor(scope: Construct, id: string, props: EndpointProps) {
    super(scope, id);
    markAs(this, 'Endpoint');
    this.node.addValidation({ validate: () => scopeProblems(this, 'Endpoint') });
    this.props = parseProps(endpointPropsSchema, props, this.node.path);
    this.path = this.props.path;
    this.workflow = this.props.workflow;
    this.timeoutSeconds = this.props.timeout;
    this.clientTimeoutSeconds = this.props.clientTimeout ?? this.props.timeout;
    this.jobsAsked = props.jobs === true;
    this.node.addValidation({
      validate: () => [
        ...this.validateTimeout(),
        ...this.validateJobs(),
        ...this.validateBindings(),
        ...this.validateFp8(),
      ],
    });
  }

  /** `jobs: true` was given (not the default). */
  private readonly jobsAsked: boolean;

  /**
   * Job settings that can never work: jobs asked of an app without them, and a webhookUrl that no job sends
   * (jobs off), no Secret signs, or delivery would refuse (a private or loopback address, credentials).
   */
  private validateJobs(): string[] {
    const app = this.node.scope as { jobsEnabled?: boolean; signsWebhooks?: boolean; node: { path: string } };
    const problems: string[] = [];
    const appJobs = app.jobsEnabled === true;
    if (this.jobsAsked && !appJobs)
      problems.push(
        `jobs: got true, but the app ${app.node.path} has jobs: false, so it serves no job routes — remove jobs here, or turn the app's jobs on`,
      );
    const url = this.props.webhookUrl;
    if (url === undefined) return problems;
    if (!appJobs || !this.props.jobs)
      problems.push(
        `webhookUrl: got ${JSON.stringify(url)}, but ${appJobs ? "this endpoint's jobs are off (jobs: false)" : `the app ${app.node.path} has jobs: false`}, so no job ever sends it — remove webhookUrl, or turn jobs on`,
      );
    else if (!app.signsWebhooks)
      problems.push(
        `webhookUrl: got ${JSON.stringify(url)}, but the app sets no jobs.webhookSecret, and webhooks are only sent signed — set jobs: { webhookSecret: '<Modal Secret with WEBHOOK_SECRET>' } on the app, or remove webhookUrl`,
      );
    const target = webhookUrlProblem(url);
    if (target) problems.push(`webhookUrl: ${target}`);
    return problems;
  }

  /** Whether the endpoint sets its own clientTimeout (the client policy may not silently replace it). */
  public get hasOwnClientTimeout(): boolean {
    return this.props.clientTimeout !== undefined;
  }

  /** The endpoint's timeout must fit in its app's (Modal stops the container's input at the app's). */
  private validateTimeout(): string[] {
    const app = (this.node.scope as { timeoutSeconds?: unknown } | undefined)?.timeoutSeconds;
    if (typeof app !== 'number' || this.timeoutSeconds <= app) return [];
    return [
      `timeout: got ${formatDuration(this.timeoutSeconds)}, longer than its app's timeout ${formatDuration(app)}: Modal would stop the request first — raise the app's timeout to at least ${formatDuration(this.timeoutSeconds)}, or shorten the endpoint's`,
    ];
  }

  /** The workflow's graph in API format, as the app ships it (fp8 at load set); only call after validation passed. */
  public graph(): WorkflowGraph {
    const loaded = this.workflow.resolve(ModalProject.of(this).root, this.app()?.schemas);
    if ('errors' in loaded) throw new Error(`workflow not valid: ${loaded.errors.join('; ')}`);
    return this.fp8 ? withFp8DiffusionModel(loaded.graph) : loaded.graph;
  }

  /** Whether the diffusion model loads as fp8: the endpoint's fp8DiffusionModel, else its app's. */
  public get fp8(): boolean {
    return (
      this.props.fp8DiffusionModel ?? (this.node.scope as { fp8DiffusionModel?: boolean }).fp8DiffusionModel === true
    );
  }

  /** The workflow's file name in the app (`<name>.fp8.json` when fp8 at load rewrote it). */
  public get shippedWorkflowName(): string {
    return this.fp8 ? this.workflow.name.replace(/(\.json)?$/, '.fp8.json') : this.workflow.name;
  }

  private validateFp8(): string[] {
    if (!this.fp8) return [];
    const loaded = this.workflow.resolve(ModalProject.of(this).root, this.app()?.schemas);
    if ('errors' in loaded) return []; // reported by the workflow's own check
    const gpus = (this.node.scope as { gpus?: readonly string[] }).gpus ?? [];
    return fp8Problems(loaded.graph, gpus, this.workflow.name);
  }

  /** The app's node schemas and model files, and whether it allows partner-API nodes (the scope is a ComfyApp). */
  private app(): { schemas: SchemaSet; modelFiles: ModelFiles; allowsPartnerNodes: boolean } | undefined {
    const scope = this.node.scope as
      | { schemas?: unknown; modelFiles?: ModelFiles; allowsPartnerNodes?: boolean }
      | undefined;
    return scope?.schemas instanceof SchemaSet
      ? { schemas: scope.schemas, modelFiles: scope.modelFiles!, allowsPartnerNodes: scope.allowsPartnerNodes === true }
      : undefined;
  }

  /** @internal */
  public _toSpec(requestClass: string): EndpointSpec {
    // The runtime applies fields in order, so a field that wins over others (winsOver) comes after them.
    const fields = winnersLast(this.props.inputs).map(([name, f]) => toRequestField(name, f));
    const model: EndpointSpec = {
      path: this.path,
      constructPath: this.node.path,
      requestClass,
      workflow: `workflows/${this.shippedWorkflowName}`,
      fp8DiffusionModel: this.fp8,
      fields,
      output: this.props.output,
      contentType: OUTPUT_CONTENT_TYPES[this.props.output],
      outputNode: this.outputNode(this.graph())!,
      timeoutSeconds: this.timeoutSeconds,
      clientTimeoutMs: this.clientTimeoutSeconds * 1000,
      description: this.props.description,
      requireOneOf: this.props.requireOneOf,
      ignoredFields: this.props.ignoredFields,
      keepMetadata: this.props.keepMetadata,
      jobs: this.props.jobs && (this.node.scope as { jobsEnabled?: boolean }).jobsEnabled === true,
      callAsJob: false, // set by the client policy (rule 4)
      webhookUrl: this.props.webhookUrl ?? null,
      smokeRequest: this.props.smokeRequest ?? null,
      measured: null,
    };
    const smoke = smokeBody(model);
    if ('error' in smoke)
      addWarning(
        this,
        'smoke-request',
        `modal-cdk verify cannot check ${this.path}: ${smoke.error.replace(`${this.path}: `, '')}`,
      );
    return model;
  }

  private outputNode(graph: WorkflowGraph): string | undefined {
    if (this.props.outputNode !== undefined) return this.props.outputNode;
    const app = this.app();
    const outputs = app ? outputNodes(graph, app.schemas) : [];
    return outputs.length === 1 ? outputs[0] : undefined;
  }

  /**
   * Whether every request sets the field's inputs: it is required, has a default or is a seed (random when
   * left out), or is in a requireOneOf group whose fields all set the same inputs.
   */
  private alwaysSet(name: string): boolean {
    const f = this.props.inputs[name];
    if (isRequired(f) || f.default !== undefined || f.type === 'seed') return true;
    const key = (g: string) =>
      JSON.stringify(
        targetsOf(this.props.inputs[g])
          .map((t) => [t.node, t.input])
          .sort(),
      );
    return this.props.requireOneOf.some(
      (group) => group.includes(name) && group.every((g) => this.props.inputs[g] && key(g) === key(name)),
    );
  }

  /**
   * The endpoint against its workflow (DESIGN §12): the fields against the graph, then, with the app's
   * node schemas, the whole graph, each field against the input it sets, and the output node.
   */
  private validateBindings(): string[] {
    const app = this.app();
    const loaded = this.workflow.resolve(ModalProject.of(this).root, app?.schemas);
    const file = this.workflow.file ?? this.workflow.name;
    if ('errors' in loaded) return loaded.errors.map((e) => `workflow ${file}: ${e}`);
    const graph = loaded.graph;
    const dropped = ('dropped' in loaded && loaded.dropped) || {};
    const problems = fieldProblems(this.props.inputs, graph, file, app === undefined, dropped);
    if (app) {
      const fields = boundFields(this.props.inputs);
      // Inputs a request always sets: their literal in the graph never reaches ComfyUI (the field is checked instead).
      const bound = new Set(
        Object.entries(this.props.inputs)
          .filter(([name]) => this.alwaysSet(name))
          .flatMap(([, f]) => targetsOf(f).map((t) => inputKey(t.node, t.input))),
      );
      const notes: GraphNote[] = [...(('notes' in loaded && loaded.notes) || [])];
      problems.push(...checkGraph(graph, app.schemas, { file, models: app.modelFiles, bound, notes }));
      for (const note of notes) addNote(this, note.id, note.message);
      if (!app.allowsPartnerNodes)
        problems.push(
          ...partnerNodeProblems(
            graph,
            app.schemas,
            `workflow ${file}`,
            "set the ComfyApp's partnerNodes: { apiKeySecret: '<Modal Secret with COMFY_ORG_API_KEY>' }",
          ),
        );
      problems.push(...bindingProblems(fields, graph, app.schemas, file, app.modelFiles));
    }
    const outputNode = this.outputNode(graph);
    if (this.props.outputNode !== undefined && !graph[this.props.outputNode] && dropped[this.props.outputNode]) {
      problems.push(`outputNode: got "${this.props.outputNode}", but ${dropped[this.props.outputNode]}`);
    } else if (this.props.outputNode !== undefined && !graph[this.props.outputNode]) {
      problems.push(
        `outputNode: got "${this.props.outputNode}", expected a node id of ${file}: one of ${show(Object.keys(graph))}`,
      );
    } else if (outputNode === undefined) {
      const outputs = app ? outputNodes(graph, app.schemas) : [];
      problems.push(
        `outputNode: ${file} has ${outputs.length === 0 ? 'no output node' : `several output nodes ${show(outputs)}`}, expected exactly one — set outputNode to the node whose outputs the endpoint returns`,
      );
    } else if (app) {
      problems.push(...outputProblems(graph, outputNode, this.props.output, app.schemas, file));
    }
    return problems;
  }
}

/** What the binding checks need of each field. */
function boundFields(inputs: Record<string, ParsedInput>): BoundField[] {
  return Object.entries(inputs).map(([name, f]) => ({
    name,
    type: f.type,
    targets: targetsOf(f),
    default: f.default,
    min: f.min,
    max: f.max,
    values: f.values,
    map: f.map,
    modelFolder: f.modelFolder,
    winsOver: f.winsOver,
  }));
}

/** Fields in declared order, except that each field comes after the fields it wins over. */
function winnersLast(inputs: Record<string, ParsedInput>): [string, ParsedInput][] {
  const entries = Object.entries(inputs);
  const placed: [string, ParsedInput][] = [];
  const visit = (entry: [string, ParsedInput], seen: Set<string>) => {
    if (placed.includes(entry) || seen.has(entry[0])) return;
    seen.add(entry[0]);
    for (const loser of entry[1].winsOver) {
      const other = entries.find(([n]) => n === loser);
      if (other) visit(other, seen);
    }
    placed.push(entry);
  };
  for (const entry of entries) visit(entry, new Set());
  return placed;
}
