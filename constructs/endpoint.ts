import { Construct } from 'constructs';
import { z } from 'zod';
import { durationSchema, DurationInput } from '../lib/duration';
import { parseProps, show } from '../lib/errors';
import { EndpointModel, OUTPUT_CONTENT_TYPES, OUTPUT_FORMATS, OutputFormat } from '../lib/synth/model';
import { EndpointInput, fieldNameSchema, fieldProblems, inputSchema, isRequired, toRequestField } from './endpoint-input';
import { ModalProject } from './modal-project';
import { Workflow, WorkflowGraph } from './workflow';

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
   * The node whose outputs are returned.
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
}

export type { EndpointInput, NodeInput } from './endpoint-input';

/** Node types whose outputs an endpoint can return; a workflow with a different one names it in `outputNode`. */
export const OUTPUT_NODE_TYPES: ReadonlySet<string> = new Set([
  'SaveImage', 'PreviewImage', 'SaveAnimatedWEBP', 'SaveAnimatedPNG', 'SaveVideo', 'SaveWEBM',
  'VHS_VideoCombine', 'PreviewAny', 'SaveAudio', 'SaveImageWebsocket',
]);

const endpointPropsSchema = z.strictObject({
  path: z.string().regex(/^\/[A-Za-z0-9._\-/]*$/, 'expected a URL path starting with "/" such as "/flux-dev" (letters, digits, "._-/")').refine((p) => p !== '/health', 'expected a path other than "/health", which every app serves itself'),
  workflow: z.custom<Workflow>((v) => v instanceof Workflow, { message: 'expected a Workflow (Workflow.fromFile("workflows/x.json"))' }),
  inputs: z.record(fieldNameSchema, inputSchema).default({}),
  output: z.enum(OUTPUT_FORMATS).default('png'),
  outputNode: z.string().min(1).optional(),
  timeout: durationSchema.default(300),
  clientTimeout: durationSchema.optional(),
  description: z.string().default(''),
  requireOneOf: z.array(z.array(fieldNameSchema).min(2)).default([]),
  ignoredFields: z.record(fieldNameSchema, z.string().min(1)).default({}),
}).superRefine((p, ctx) => {
  const seen = new Map<string, string>();
  for (const [name, f] of Object.entries(p.inputs)) {
    for (const alias of [name, ...f.aliases]) {
      const owner = seen.get(alias);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['inputs', name], input: alias, message: `expected each field name and alias once, but "${alias}" is also ${owner === alias ? 'a field' : `an alias of "${owner}"`}` });
      seen.set(alias, name);
    }
  }
  for (const group of p.requireOneOf) {
    for (const name of group) {
      const f = p.inputs[name];
      if (!f || f.default !== undefined || isRequired(f)) ctx.addIssue({ code: 'custom', path: ['requireOneOf'], input: name, message: `expected optional fields without a default in each group, but '${name}' ${f ? 'has a default or is required' : 'is not a field'}` });
    }
  }
  for (const name of Object.keys(p.ignoredFields)) {
    if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['ignoredFields'], input: name, message: `expected names the endpoint does not use, but '${name}' is a field or alias` });
  }
});

/** One HTTP route of an app: a POST that runs the workflow with the request's fields bound into it. */
export class Endpoint extends Construct {
  public readonly path: string;
  public readonly workflow: Workflow;
  public readonly timeoutSeconds: number;
  public readonly clientTimeoutSeconds: number;
  private readonly props: z.output<typeof endpointPropsSchema>;

  constructor(scope: Construct, id: string, props: EndpointProps) {
    super(scope, id);
    this.props = parseProps(endpointPropsSchema, props, this.node.path);
    this.path = this.props.path;
    this.workflow = this.props.workflow;
    this.timeoutSeconds = this.props.timeout;
    this.clientTimeoutSeconds = this.props.clientTimeout ?? this.props.timeout;
    this.node.addValidation({ validate: () => this.validateBindings() });
  }

  /** The workflow's graph; only call after validation passed. */
  public graph(): WorkflowGraph {
    const loaded = this.workflow.load(ModalProject.of(this).root);
    if ('error' in loaded) throw new Error(`workflow not valid: ${loaded.error}`);
    return loaded.graph;
  }

  /** @internal */
  public _toModel(requestClass: string): EndpointModel {
    const fields = Object.entries(this.props.inputs).map(([name, f]) => toRequestField(name, f));
    return {
      path: this.path,
      constructPath: this.node.path,
      requestClass,
      workflow: `workflows/${this.workflow.name}`,
      fields,
      output: this.props.output,
      contentType: OUTPUT_CONTENT_TYPES[this.props.output],
      outputNode: this.outputNode(this.graph())!,
      timeoutSeconds: this.timeoutSeconds,
      clientTimeoutMs: this.clientTimeoutSeconds * 1000,
      description: this.props.description,
      requireOneOf: this.props.requireOneOf,
      ignoredFields: this.props.ignoredFields,
    };
  }

  private outputNode(graph: WorkflowGraph): string | undefined {
    if (this.props.outputNode !== undefined) return this.props.outputNode;
    const outputs = outputNodesOf(graph);
    return outputs.length === 1 ? outputs[0] : undefined;
  }

  private validateBindings(): string[] {
    const loaded = this.workflow.load(ModalProject.of(this).root);
    const file = this.workflow.file ?? this.workflow.name;
    if ('error' in loaded) return [`workflow ${file}: ${loaded.error}`];
    const graph = loaded.graph;
    const problems = fieldProblems(this.props.inputs, graph, file);
    if (this.props.outputNode !== undefined) {
      if (!graph[this.props.outputNode]) problems.push(`outputNode: got "${this.props.outputNode}", expected a node id of ${file}: one of ${show(Object.keys(graph))}`);
    } else if (this.outputNode(graph) === undefined) {
      const outputs = outputNodesOf(graph);
      problems.push(`outputNode: ${file} has ${outputs.length === 0 ? 'no known output node' : `several output nodes ${show(outputs)}`}, expected exactly one — set outputNode to the node whose outputs the endpoint returns`);
    }
    return problems;
  }
}

/** Ids of the nodes whose type is a known output node. */
function outputNodesOf(graph: WorkflowGraph): string[] {
  return Object.keys(graph).filter((id) => OUTPUT_NODE_TYPES.has(graph[id].class_type));
}
