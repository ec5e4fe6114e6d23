import { z } from 'zod';
import { show } from '../lib/errors';
import { FIELD_TYPES, type FieldType, type RequestField } from '../lib/synth/spec';
import { PYTHON_KEYWORDS } from '../lib/synth/python';
import type { WorkflowGraph } from './workflow';

/** A node input a request field sets. */
export interface NodeInput {
  /** Node id in the workflow (the key in API format), e.g. `"6"`. */
  readonly node: string;
  /** Input name on that node, e.g. `text`, `seed`, `width`. */
  readonly input: string;
}

type NodeValue = string | number | boolean;

/**
 * One request field of an endpoint. Most fields set a node input (`node` + `input`); a field without one
 * only feeds other fields (`presets`, or a `{name}` in another field's `format`).
 */
export interface EndpointInput extends Partial<NodeInput> {
  /**
   * The value's type. `seed` is an integer that is random when the request leaves it out; `image` and
   * `video` are base64 or a data URL, saved into ComfyUI's input dir for a `LoadImage` / `LoadVideo` node.
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
  readonly default?: NodeValue;
  /**
   * Whether a request must send the field.
   * @default - true when there is no default and the type is not `seed`
   */
  readonly required?: boolean;
  /** Smallest allowed number (`int`, `float`, `seed`). @default - no bound (seed: 0) */
  readonly min?: number;
  /** Largest allowed number (`int`, `float`, `seed`). @default - no bound (seed: 2^64 - 1) */
  readonly max?: number;
  /**
   * Clamp numbers outside [min, max] into it instead of answering 422 (for clients that send values an
   * older server clamped, e.g. SDXL Turbo's steps).
   * @default false
   */
  readonly clamp?: boolean;
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
  /**
   * A Python format string over the request's fields whose trimmed result is what the node gets, e.g.
   * `"{trigger_word} {prompt}"` or `"character-{lora_id}.safetensors"`. Fields left out format as "".
   * @default - the field's own value
   */
  readonly format?: string;
  /**
   * Appended to a string unless it already ends with it, e.g. `".safetensors"` for a LoRA file name.
   * @default - none
   */
  readonly ensureSuffix?: string;
  /**
   * Treat an empty string like a left-out field (for clients that send `""`): the default applies, or, for
   * a field without one, the field counts as not sent (a `requireOneOf` group then needs another).
   * @default false
   */
  readonly defaultWhenEmpty?: boolean;
  /**
   * Request value → the value the node gets, keyed by the value as JSON text (`"true"`, `"GPU"`); values
   * not listed pass through.
   * @default - none
   */
  readonly map?: Record<string, NodeValue>;
  /**
   * For an `enum`: value → the other fields it sets, overriding the request (e.g. an aspect ratio that
   * sets width and height).
   * @default - none
   */
  readonly presets?: Record<string, Record<string, NodeValue>>;
  /**
   * For `image` and `video`: also accept a JSON list of 1 to `maxItems` items; the first one is used.
   * @default - a single value only
   */
  readonly maxItems?: number;
  /**
   * Largest decoded `image` or `video` in bytes, whether sent inline or fetched from an https URL. The
   * app's request-body cap is derived from it.
   * @default - 20 MiB for an image, 200 MiB for a video
   */
  readonly maxBytes?: number;
  /**
   * Most pixels (width × height) of an `image` or of each `video` frame, read from the file's header before
   * it is decoded (a few-KB PNG can claim 100000×100000): over it is a 413 naming the field. ComfyUI holds
   * each pixel as about 16 bytes (float RGB plus a mask), so the default image costs at most ~200 MB there.
   * @default - 12,582,912 (4096×3072, a 12 MP photo) for an image; 2,073,600 (1920×1080) for a video
   */
  readonly maxPixels?: number;
  /**
   * Most frames of an animated image (GIF, WebP, APNG: ComfyUI's LoadImage loads every frame) or of a video
   * (each frame costs ~12 bytes per pixel in ComfyUI): over it is a 413 naming the field.
   * @default - 1 for an image; 300 for a video (10 s at 30 fps)
   */
  readonly maxFrames?: number;
  /**
   * The ComfyUI models folder (e.g. `loras`) in which the field's final value names a file. The runtime
   * reloads the app's volumes and answers 422 naming the file when ComfyUI does not list it, instead of
   * queueing a prompt that fails.
   * @default - the value is not checked
   */
  readonly modelFolder?: string;
  /**
   * Fields of this endpoint that set the same node input and that this one wins over when a request
   * sends both (e.g. `lora_name` over `lora_id`). Two fields may set one input only when one of them
   * declares the other here.
   * @default []
   */
  readonly winsOver?: string[];
}

/** Largest decoded image or video a request may carry, when the field sets no maxBytes. */
export const DEFAULT_MAX_BYTES = { image: 20 * 1024 * 1024, video: 200 * 1024 * 1024 } as const;
/** Most pixels (per frame) and frames of a request's image or video, when the field sets none. */
export const DEFAULT_MAX_PIXELS = { image: 4096 * 3072, video: 1920 * 1080 } as const;
export const DEFAULT_MAX_FRAMES = { image: 1, video: 300 } as const;

/** JSON value kind each field type must replace in the workflow. */
export const FITS: Record<FieldType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  enum: (v) => typeof v === 'string',
  image: (v) => typeof v === 'string',
  video: (v) => typeof v === 'string',
  int: (v) => typeof v === 'number' && Number.isInteger(v),
  seed: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
};

const nodeValueSchema = z.union([z.string(), z.number(), z.boolean()]);
export const nodeInputSchema = z.strictObject({ node: z.string().min(1), input: z.string().min(1) });
/** A JSON field name that is also a Python identifier (it becomes a pydantic field). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
export const fieldNameSchema = z
  .string()
  .regex(
    FIELD_NAME,
    'expected a JSON field name usable in Python and pydantic: a letter, then letters, digits and "_" (pydantic keeps a name starting with "_" private, so the request could never set it) — rename it',
  )
  .refine(
    (n) => !PYTHON_KEYWORDS.has(n) && !n.startsWith('model_'),
    'expected a name that is not a Python keyword and does not start with "model_" (pydantic reserves it)',
  );

/** `{name}` placeholders of a format string. */
export function formatFields(format: string): string[] {
  return [...format.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
}

export const inputSchema = z
  .strictObject({
    type: z.enum(FIELD_TYPES),
    node: z.string().min(1).optional(),
    input: z.string().min(1).optional(),
    alsoSets: z.array(nodeInputSchema).default([]),
    default: nodeValueSchema.optional(),
    required: z.boolean().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    clamp: z.boolean().default(false),
    minLength: z.number().int().nonnegative().optional(),
    maxLength: z.number().int().positive().optional(),
    values: z.array(z.string()).min(1).optional(),
    aliases: z.array(fieldNameSchema).default([]),
    description: z.string().optional(),
    format: z.string().min(1).optional(),
    ensureSuffix: z.string().min(1).optional(),
    defaultWhenEmpty: z.boolean().default(false),
    map: z.record(z.string(), nodeValueSchema).optional(),
    presets: z.record(z.string(), z.record(fieldNameSchema, nodeValueSchema)).optional(),
    maxItems: z.number().int().min(2).optional(),
    maxBytes: z.number().int().positive().optional(),
    maxPixels: z.number().int().positive().optional(),
    maxFrames: z.number().int().positive().optional(),
    modelFolder: z
      .string()
      .regex(/^[a-z0-9_]+$/, 'expected a ComfyUI models folder name such as "loras" or "checkpoints"')
      .optional(),
    winsOver: z.array(fieldNameSchema).default([]),
  })
  .superRefine((f, ctx) => {
    const bad = (path: string, input: unknown, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], input, message });
    const numeric = f.type === 'int' || f.type === 'float' || f.type === 'seed';
    const text = f.type === 'string' || f.type === 'enum';
    if ((f.node === undefined) !== (f.input === undefined))
      bad(
        f.node === undefined ? 'node' : 'input',
        f.node ?? f.input,
        'expected node and input together, or neither (a field that only feeds presets or formats)',
      );
    if (f.node === undefined && f.alsoSets.length > 0)
      bad('alsoSets', f.alsoSets, 'expected node and input first: alsoSets adds targets to a bound field');
    if ((f.type === 'enum') !== (f.values !== undefined))
      bad(
        'values',
        f.values,
        f.type === 'enum'
          ? 'expected the allowed values of the enum'
          : `expected no values: only an enum has them (type is ${f.type})`,
      );
    if (!numeric && (f.min !== undefined || f.max !== undefined))
      bad('min', f.min ?? f.max, `expected no min/max: only int, float and seed have bounds (type is ${f.type})`);
    if (f.clamp && (f.min === undefined || f.max === undefined))
      bad('clamp', true, 'expected min and max to clamp into');
    if (f.type !== 'string' && (f.minLength !== undefined || f.maxLength !== undefined))
      bad(
        'minLength',
        f.minLength ?? f.maxLength,
        `expected no minLength/maxLength: only string has them (type is ${f.type})`,
      );
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) bad('min', f.min, `expected min ≤ max (${f.max})`);
    if (f.format !== undefined && f.type !== 'string')
      bad('format', f.format, `expected no format: only a string field is formatted (type is ${f.type})`);
    if (f.format !== undefined) {
      for (const name of formatFields(f.format)) {
        if (!FIELD_NAME.test(name)) bad('format', f.format, `expected only {field_name} placeholders, got {${name}}`);
      }
    }
    if (f.ensureSuffix !== undefined && !text)
      bad(
        'ensureSuffix',
        f.ensureSuffix,
        `expected no ensureSuffix: only string and enum fields have one (type is ${f.type})`,
      );
    if (
      f.defaultWhenEmpty &&
      (f.type !== 'string' || f.required === true || (f.required === undefined && f.default === undefined))
    )
      bad('defaultWhenEmpty', true, 'expected a string field that is not required (a default, or required: false)');
    if (f.presets !== undefined && f.type !== 'enum')
      bad('presets', f.presets, `expected no presets: only an enum has them (type is ${f.type})`);
    if (f.presets !== undefined && f.values) {
      for (const key of Object.keys(f.presets))
        if (!f.values.includes(key))
          bad('presets', key, `expected preset keys among the enum values ${show(f.values)}`);
    }
    if (f.maxItems !== undefined && f.type !== 'image' && f.type !== 'video')
      bad('maxItems', f.maxItems, `expected no maxItems: only image and video fields take a list (type is ${f.type})`);
    for (const cap of ['maxBytes', 'maxPixels', 'maxFrames'] as const) {
      if (f[cap] !== undefined && f.type !== 'image' && f.type !== 'video')
        bad(cap, f[cap], `expected no ${cap}: only image and video fields carry files (type is ${f.type})`);
    }
    if (f.modelFolder !== undefined && !text)
      bad(
        'modelFolder',
        f.modelFolder,
        `expected no modelFolder: only a string or enum names a model file (type is ${f.type})`,
      );
    if (f.default !== undefined) {
      if (!FITS[f.type](f.default)) bad('default', f.default, `expected a ${f.type} default`);
      else if (
        typeof f.default === 'number' &&
        ((f.min !== undefined && f.default < f.min) || (f.max !== undefined && f.default > f.max))
      )
        bad('default', f.default, `expected a default within [${f.min ?? '-∞'}, ${f.max ?? '∞'}]`);
      else if (f.values && !f.values.includes(String(f.default)))
        bad('default', f.default, `expected one of the enum values ${show(f.values)}`);
    }
    if (f.required === true && f.default !== undefined)
      bad('required', true, 'expected required to be false or absent when there is a default');
    if (f.type === 'seed' && typeof f.default === 'number' && f.default < 0)
      bad(
        'default',
        f.default,
        'expected a seed ≥ 0: ComfyUI has no "-1 = random" — leave the default out and a request without a seed gets a random one',
      );
    if (f.type === 'seed' && f.min !== undefined && f.min < 0)
      bad('min', f.min, 'expected a seed min ≥ 0: ComfyUI takes no negative seeds');
  });

export type ParsedInput = z.output<typeof inputSchema>;

/** The node inputs a field sets (none for a field that only feeds presets or formats). */
export function targetsOf(f: ParsedInput): NodeInput[] {
  return f.node !== undefined && f.input !== undefined ? [{ node: f.node, input: f.input }, ...f.alsoSets] : [];
}

/** Whether a request must send the field: as given, else when it has no default and is not a seed. */
export function isRequired(f: ParsedInput): boolean {
  return f.required ?? (f.default === undefined && f.type !== 'seed');
}

/** The model of one field. */
export function toRequestField(name: string, f: ParsedInput): RequestField {
  return {
    name,
    type: f.type,
    targets: targetsOf(f),
    required: isRequired(f),
    aliases: f.aliases,
    ...(f.default !== undefined && { default: f.default }),
    ...(f.min !== undefined && { min: f.min }),
    ...(f.max !== undefined && { max: f.max }),
    ...(f.clamp && { clamp: true }),
    ...(f.minLength !== undefined && { minLength: f.minLength }),
    ...(f.maxLength !== undefined && { maxLength: f.maxLength }),
    ...(f.values !== undefined && { values: f.values }),
    ...(f.description !== undefined && { description: f.description }),
    ...(f.format !== undefined && { format: f.format }),
    ...(f.ensureSuffix !== undefined && { ensureSuffix: f.ensureSuffix }),
    ...(f.defaultWhenEmpty && { defaultWhenEmpty: true }),
    ...(f.map !== undefined && { map: f.map }),
    ...(f.presets !== undefined && { presets: f.presets }),
    ...(f.maxItems !== undefined && { maxItems: f.maxItems }),
    ...((f.type === 'image' || f.type === 'video') && {
      maxBytes: f.maxBytes ?? DEFAULT_MAX_BYTES[f.type],
      maxPixels: f.maxPixels ?? DEFAULT_MAX_PIXELS[f.type],
      maxFrames: f.maxFrames ?? DEFAULT_MAX_FRAMES[f.type],
    }),
    ...(f.modelFolder !== undefined && { modelFolder: f.modelFolder }),
  };
}

/**
 * How the fields of one endpoint fit together and into its workflow: each binding names a literal input
 * of a node the graph has, with a value of the kind the field (or its `map`) sets (`checkKinds`: without
 * node schemas, judged by the graph's literal); formats and presets name fields that exist; every field
 * is used. Returns one message per problem.
 */
export function fieldProblems(
  inputs: Record<string, ParsedInput>,
  graph: WorkflowGraph,
  file: string,
  checkKinds = true,
  dropped: Record<string, string> = {},
): string[] {
  const problems: string[] = [];
  const names = new Set(Object.keys(inputs));
  const fed = new Set<string>();
  for (const [name, f] of Object.entries(inputs)) {
    for (const ref of f.format ? formatFields(f.format) : []) {
      if (!names.has(ref))
        problems.push(
          `input '${name}': format ${show(f.format)} names {${ref}}, which is not a field: expected one of ${show([...names])}`,
        );
      fed.add(ref);
    }
    for (const [value, sets] of Object.entries(f.presets ?? {})) {
      for (const [other, v] of Object.entries(sets)) {
        const target = inputs[other];
        if (!target)
          problems.push(
            `input '${name}': preset ${show(value)} sets '${other}', which is not a field: expected one of ${show([...names])}`,
          );
        else if (!FITS[target.type](v))
          problems.push(
            `input '${name}': preset ${show(value)} sets '${other}' to ${show(v)}, expected a ${target.type}`,
          );
      }
    }
  }
  for (const [name, f] of Object.entries(inputs)) {
    const targets = targetsOf(f);
    if (targets.length === 0 && !f.presets && !fed.has(name)) {
      problems.push(
        `input '${name}' sets no node input and feeds no other field: set node and input, or use it in a format or as presets`,
      );
    }
    const mapped = f.map ? Object.values(f.map) : undefined;
    for (const target of targets) {
      const node = graph[target.node];
      if (!node && dropped[target.node]) {
        problems.push(`input '${name}' binds node "${target.node}", but ${dropped[target.node]}`);
        continue;
      }
      if (!node) {
        problems.push(
          `input '${name}' binds node "${target.node}", which ${file} lacks: expected one of its node ids ${show(Object.keys(graph))}`,
        );
        continue;
      }
      const where = `node "${target.node}" (${node.class_type})`;
      if (!(target.input in node.inputs)) {
        problems.push(
          `input '${name}' binds ${where}.${target.input}, an input that node lacks: expected one of ${show(Object.keys(node.inputs))}`,
        );
        continue;
      }
      const current = node.inputs[target.input];
      if (Array.isArray(current)) {
        problems.push(
          `input '${name}' binds ${where}.${target.input}, which is linked to node "${String(current[0])}": bind a literal input instead (e.g. on the upstream node)`,
        );
      } else if (!checkKinds) {
        // The node schemas check what the field sets (lib/comfy/binding-check.ts).
      } else if (mapped && !mapped.every((v) => typeof v === typeof current)) {
        problems.push(
          `input '${name}' maps to ${show(mapped)} but ${where}.${target.input} holds ${show(current)} in ${file}: expected map values of that kind`,
        );
      } else if (!mapped && !FITS[f.type](current)) {
        problems.push(
          `input '${name}' is a ${f.type} but ${where}.${target.input} holds ${show(current)} in ${file}: expected a field type that fits, or fix the workflow value`,
        );
      }
    }
  }
  return problems;
}
