import { Construct } from 'constructs';
import { z } from 'zod';
import { durationSchema, DurationInput } from '../lib/duration';
import { parseProps, show } from '../lib/errors';
import { EndpointModel, FIELD_TYPES, FieldType, OUTPUT_CONTENT_TYPES, OUTPUT_FORMATS, OutputFormat, RequestField } from '../lib/synth/model';
import { PYTHON_KEYWORDS } from '../lib/synth/python';
import { ModalProject } from './modal-project';
import { Workflow, WorkflowGraph } from './workflow';

/** A node input a request field sets. */
export interface NodeInput {
  /** Node id in the workflow (the key in API format), e.g. `"6"`. */
  readonly node: string;
  /** Input name on that node, e.g. `text`, `seed`, `width`. */
  readonly input: string;
}

/** One request field, bound to a node input of the endpoint's workflow. */
export interface EndpointInput extends NodeInput {
  /**
   * The value's type. `seed` is an integer that is random when the request leaves it out; `image` is
   * base64, a data URL or an https URL, saved into ComfyUI's input dir for a `LoadImage` node.
   */
  readonly type: FieldType;
  /**
   * Further node inputs that get the same value (e.g. one seed for two samplers).
   * @default []
   */
  readonly alsoSets?: NodeInput[];
  /**
   * Value used when the request leaves the field out.
   * @default - none: the field is required (a seed is random instead)
   */
  readonly default?: string | number | boolean;
  /**
   * Whether a request must send the field.
   * @default - true when there is no default and the type is not `seed`
   */
  readonly required?: boolean;
  /** Smallest allowed number (`int`, `float`, `seed`). @default - no bound (seed: 0) */
  readonly min?: number;
  /** Largest allowed number (`int`, `float`, `seed`). @default - no bound (seed: 2^64 - 1) */
  readonly max?: number;
  /** Shortest allowed string. @default - no bound */
  readonly minLength?: number;
  /** Longest allowed string. @default - no bound */
  readonly maxLength?: number;
  /** The allowed values of an `enum`. @default - required for `enum`, not allowed otherwise */
  readonly values?: string[];
  /**
   * Other JSON names accepted for this field (old client spellings such as `num_frames` for `length`).
   * @default []
   */
  readonly aliases?: string[];
  /** What the field means, for the generated docs and JSON Schema. @default - none */
  readonly description?: string;
}

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
}

/** Node types whose outputs an endpoint can return; a workflow with a different one names it in `outputNode`. */
export const OUTPUT_NODE_TYPES: ReadonlySet<string> = new Set([
  'SaveImage', 'PreviewImage', 'SaveAnimatedWEBP', 'SaveAnimatedPNG', 'SaveVideo', 'SaveWEBM',
  'VHS_VideoCombine', 'PreviewAny', 'SaveAudio', 'SaveImageWebsocket',
]);

/** JSON value kind each field type must replace in the workflow. */
const FITS: Record<FieldType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  enum: (v) => typeof v === 'string',
  image: (v) => typeof v === 'string',
  int: (v) => typeof v === 'number' && Number.isInteger(v),
  seed: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
};

const nodeInputSchema = z.strictObject({ node: z.string().min(1), input: z.string().min(1) });
const fieldNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a JSON field name usable in Python: letters, digits, "_", not starting with a digit')
  .refine((n) => !PYTHON_KEYWORDS.has(n) && !n.startsWith('model_'), 'expected a name that is not a Python keyword and does not start with "model_" (pydantic reserves it)');

const inputSchema = z
  .strictObject({
    type: z.enum(FIELD_TYPES),
    node: z.string().min(1),
    input: z.string().min(1),
    alsoSets: z.array(nodeInputSchema).default([]),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    required: z.boolean().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().positive().optional(),
    values: z.array(z.string()).min(1).optional(),
    aliases: z.array(fieldNameSchema).default([]),
    description: z.string().optional(),
  })
  .superRefine((f, ctx) => {
    const bad = (path: string, input: unknown, message: string) => ctx.addIssue({ code: 'custom', path: [path], input, message });
    const numeric = f.type === 'int' || f.type === 'float' || f.type === 'seed';
    if ((f.type === 'enum') !== (f.values !== undefined)) bad('values', f.values, f.type === 'enum' ? 'expected the allowed values of the enum' : `expected no values: only an enum has them (type is ${f.type})`);
    if (!numeric && (f.min !== undefined || f.max !== undefined)) bad('min', f.min ?? f.max, `expected no min/max: only int, float and seed have bounds (type is ${f.type})`);
    if (f.type !== 'string' && (f.minLength !== undefined || f.maxLength !== undefined)) bad('minLength', f.minLength ?? f.maxLength, `expected no minLength/maxLength: only string has them (type is ${f.type})`);
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) bad('min', f.min, `expected min ≤ max (${f.max})`);
    if (f.default !== undefined) {
      if (!FITS[f.type](f.default)) bad('default', f.default, `expected a ${f.type} default`);
      else if (typeof f.default === 'number' && ((f.min !== undefined && f.default < f.min) || (f.max !== undefined && f.default > f.max))) bad('default', f.default, `expected a default within [${f.min ?? '-∞'}, ${f.max ?? '∞'}]`);
      else if (f.values && !f.values.includes(String(f.default))) bad('default', f.default, `expected one of the enum values ${show(f.values)}`);
    }
    if (f.required === true && f.default !== undefined) bad('required', true, 'expected required to be false or absent when there is a default');
  });

const endpointPropsSchema = z.strictObject({
  path: z.string().regex(/^\/[A-Za-z0-9._\-/]*$/, 'expected a URL path starting with "/" such as "/flux-dev" (letters, digits, "._-/")').refine((p) => p !== '/health', 'expected a path other than "/health", which every app serves itself'),
  workflow: z.custom<Workflow>((v) => v instanceof Workflow, { message: 'expected a Workflow (Workflow.fromFile("workflows/x.json"))' }),
  inputs: z.record(fieldNameSchema, inputSchema).default({}),
  output: z.enum(OUTPUT_FORMATS).default('png'),
  outputNode: z.string().min(1).optional(),
  timeout: durationSchema.default(300),
  clientTimeout: durationSchema.optional(),
  description: z.string().default(''),
}).superRefine((p, ctx) => {
  const seen = new Map<string, string>();
  for (const [name, f] of Object.entries(p.inputs)) {
    for (const alias of [name, ...f.aliases]) {
      const owner = seen.get(alias);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['inputs', name], input: alias, message: `expected each field name and alias once, but "${alias}" is also ${owner === alias ? 'a field' : `an alias of "${owner}"`}` });
      seen.set(alias, name);
    }
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
    const fields: RequestField[] = Object.entries(this.props.inputs).map(([name, f]) => ({
      name,
      type: f.type,
      targets: [{ node: f.node, input: f.input }, ...f.alsoSets],
      required: f.required ?? (f.default === undefined && f.type !== 'seed'),
      ...(f.default !== undefined && { default: f.default }),
      ...(f.min !== undefined && { min: f.min }),
      ...(f.max !== undefined && { max: f.max }),
      ...(f.minLength !== undefined && { minLength: f.minLength }),
      ...(f.maxLength !== undefined && { maxLength: f.maxLength }),
      ...(f.values !== undefined && { values: f.values }),
      aliases: f.aliases,
      ...(f.description !== undefined && { description: f.description }),
    }));
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
    const problems: string[] = [];
    for (const [name, f] of Object.entries(this.props.inputs)) {
      for (const target of [{ node: f.node, input: f.input }, ...f.alsoSets]) {
        const node = graph[target.node];
        if (!node) {
          problems.push(`input '${name}' binds node "${target.node}", which ${file} lacks: expected one of its node ids ${show(Object.keys(graph))}`);
          continue;
        }
        const where = `node "${target.node}" (${node.class_type})`;
        if (!(target.input in node.inputs)) {
          problems.push(`input '${name}' binds ${where}.${target.input}, an input that node lacks: expected one of ${show(Object.keys(node.inputs))}`);
          continue;
        }
        const current = node.inputs[target.input];
        if (Array.isArray(current)) {
          problems.push(`input '${name}' binds ${where}.${target.input}, which is linked to node "${String(current[0])}": bind a literal input instead (e.g. on the upstream node)`);
        } else if (!FITS[f.type](current)) {
          problems.push(`input '${name}' is a ${f.type} but ${where}.${target.input} holds ${show(current)} in ${file}: expected a field type that fits, or fix the workflow value`);
        }
      }
    }
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
