import { z } from 'zod';

/**
 * ComfyUI's node schemas as data (DESIGN §12). ComfyUI describes each node class at `GET /object_info`;
 * a schema file holds such entries plus what `/object_info` does not say: which inputs name model files
 * of which folder, which inputs take an uploaded file, and which link types an input accepts beyond the
 * one it declares. The core snapshots (`lib/comfy/object-info/`) and every `CustomNode`'s schemas have
 * this one shape.
 * @see https://docs.comfy.org/development/comfyui-server/comms_routes
 */

/** A ComfyUI graph in API format: node id → `{ class_type, inputs }`. */
export type ApiGraph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** One `/object_info` entry (as ComfyUI serves it; unknown keys are kept and ignored). */
export const nodeEntrySchema = z.looseObject({
  /** The class's inputs by group: name → `[type or options, settings]`. */
  input: z.looseObject({
    /** Inputs a prompt must give. */
    required: z.record(z.string(), z.unknown()).optional(),
    /** Inputs a prompt may give. */
    optional: z.record(z.string(), z.unknown()).optional(),
    /** Values ComfyUI fills in itself (`PROMPT`, `UNIQUE_ID`, the Comfy.org key). */
    hidden: z.record(z.string(), z.unknown()).optional(),
  }),
  /** The inputs' order (the order of a UI node's widget values). */
  input_order: z
    .looseObject({
      /** The required inputs, in order. */
      required: z.array(z.string()).optional(),
      /** The optional inputs, in order. */
      optional: z.array(z.string()).optional(),
    })
    .optional(),
  /** The output types, by slot. */
  output: z.array(z.unknown()).default([]),
  /** The outputs' names, by slot. */
  output_name: z.array(z.unknown()).optional(),
  /** The class is an output node: ComfyUI runs a prompt for these. */
  output_node: z.boolean().default(false),
});
export type NodeEntry = z.output<typeof nodeEntrySchema>;

const folderList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** One entry of ComfyUI's `GET /node_replacements` (0.11 on): how an old class maps onto a new one. */
export const nodeReplacementSchema = z.looseObject({
  /** The class `/prompt` runs instead. */
  new_node_id: z.string(),
  /** Each input of the new class: from an old input, or a fixed value. */
  input_mapping: z
    .array(
      z.union([
        z.object({
          /** The new class's input. */
          new_id: z.string(),
          /** The old class's input it takes its value from. */
          old_id: z.string(),
        }),
        z.object({
          /** The new class's input. */
          new_id: z.string(),
          /** The value it gets. */
          set_value: z.unknown(),
        }),
      ]),
    )
    .nullish(),
  /** Which new output slot each old one became. */
  output_mapping: z
    .array(
      z.object({
        /** The old class's output slot. */
        old_idx: z.number(),
        /** The new class's output slot. */
        new_idx: z.number(),
      }),
    )
    .nullish(),
});
export type NodeReplacement = z.output<typeof nodeReplacementSchema>;

/** A schema file: a core snapshot, or the classes a custom-node pack provides. */
export const schemaFileSchema = z.strictObject({
  /** The ComfyUI release a core snapshot or a whole dump was dumped from. */
  comfyui: z.string().optional(),
  /**
   * The file is a whole ComfyUI's `/object_info`, core classes included (`modal-cdk schemas dump --core`):
   * as a ComfyApp's `nodeSchemas` it stands instead of the committed snapshot.
   */
  core: z.boolean().optional(),
  /** `GET /node_replacements` of that ComfyUI: old class → the classes `/prompt` runs instead (≥ 0.11 or so). */
  nodeReplacements: z.record(z.string(), z.array(nodeReplacementSchema)).optional(),
  /** Where the entries come from (a note for people). */
  source: z.string().optional(),
  /** Modules of the dumped server that failed to import, so their classes are missing (a note for people). */
  importFailures: z.array(z.string()).optional(),
  /** Model folder name → its directories under `models/` (a pack lists the folders it registers). */
  modelFolders: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** Class → input → the model folder(s) whose files that combo lists. */
  modelInputs: z.record(z.string(), z.record(z.string(), folderList)).default({}),
  /** Class → input → `image` or `video`: the combo takes a file uploaded into ComfyUI's input folder. */
  uploadInputs: z.record(z.string(), z.record(z.string(), z.enum(['image', 'video', 'audio']))).default({}),
  /** Class → input → further link types it accepts (a type alias such as VHS's `imageOrLatent`). */
  acceptedTypes: z.record(z.string(), z.record(z.string(), z.array(z.string().min(1)))).default({}),
  /** Class name → its `/object_info` entry. */
  nodes: z.record(z.string(), nodeEntrySchema),
});
export type SchemaFile = z.output<typeof schemaFileSchema>;
export type SchemaFileInput = z.input<typeof schemaFileSchema>;

/** ComfyUI ≥ 0.11's V3 input types (comfy_api/latest/_io.py): an input whose type follows what is linked to it. */
export const MATCHTYPE = 'COMFY_MATCHTYPE_V3';
/** A group of inputs that grows as links are made (`images.image0`, `images.image1`, …). */
export const AUTOGROW = 'COMFY_AUTOGROW_V3';
/** A combo whose chosen option adds inputs of its own (`resize_type.multiplier`). */
export const DYNAMICCOMBO = 'COMFY_DYNAMICCOMBO_V3';

/** A V3 input's `template`: MatchType `{ template_id, allowed_types }`, Autogrow `{ input, prefix | names, min, max }`. */
export function templateOf(extra: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const t = extra.template;
  return t && typeof t === 'object' && !Array.isArray(t) ? (t as Record<string, unknown>) : undefined;
}

/** Scalar widget types; every other type is link-only (IMAGE, MODEL, …). */
export const WIDGET_TYPES: ReadonlySet<string> = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** One input of a node class, read from either combo shape (V1 `[[...], {...}]`, V3 `["COMBO", {options}]`). */
export interface InputSpec {
  readonly name: string;
  readonly required: boolean;
  /** `INT`, `FLOAT`, `STRING`, `BOOLEAN`, `COMBO`, or a link type (`IMAGE`, `*`, `IMAGE,MASK`). */
  readonly type: string;
  /** The combo's options (model inputs: without the files of the capture). */
  readonly options?: readonly unknown[];
  readonly min?: number;
  readonly max?: number;
  readonly default?: unknown;
  /** The input is shown as a socket, not a widget (`forceInput`), so the UI gives it no widget value. */
  readonly forceInput: boolean;
  /** The UI adds a `control_after_generate` widget after this one (seeds). */
  readonly controlAfterGenerate: boolean;
  /** The kind of file uploaded into ComfyUI's input folder that this combo takes. */
  readonly upload?: 'image' | 'video' | 'audio';
  /** Model folders whose files this combo lists. */
  readonly modelFolders?: readonly string[];
  /** Link types the input accepts: its own (split on `,`) and declared aliases. */
  readonly accepts: readonly string[];
  /** The spec's option dict as served. */
  readonly extra: Readonly<Record<string, unknown>>;
  /**
   * A V3 dynamic input: `autogrow` stands for sub-inputs `<name>.<prefix><i>` (it takes no value itself),
   * `combo` is a combo of option keys whose chosen option adds sub-inputs `<name>.<input>` (v3-inputs.ts).
   */
  readonly dynamic?: 'autogrow' | 'combo';
}

/** A node class: its inputs in ComfyUI's `input_order`, outputs and whether it is an output node. */
export interface NodeClass {
  readonly name: string;
  /** The name the UI shows (a converted node's `_meta.title` when it has no title of its own). */
  readonly displayName: string;
  readonly inputs: readonly InputSpec[];
  readonly byName: ReadonlyMap<string, InputSpec>;
  readonly hidden: ReadonlySet<string>;
  /** Output types by slot (`COMFY_MATCHTYPE_V3` where `outputMatchtypes` names the template it follows). */
  readonly outputs: readonly string[];
  /** By slot: the MatchType template whose input's type the output takes (ComfyUI ≥ 0.11's `output_matchtypes`). */
  readonly outputMatchtypes: readonly (string | null)[];
  /** Reads a sub-input of a dynamic input (Autogrow, DynamicCombo) in this class's context. */
  readonly readSubInput: (name: string, required: boolean, raw: unknown) => InputSpec;
  readonly outputNode: boolean;
  /** The release marks the class deprecated (`deprecated: true`, ComfyUI 0.11 on): it runs, the editor hides it. */
  readonly deprecated: boolean;
  /** A Comfy.org partner-API node (`api_node: true`): it runs on Comfy.org's servers with the caller's API key. */
  readonly apiNode: boolean;
  /** Where the class comes from, for messages (`ComfyUI 0.3.75`, `custom node ryla/instantid/InstantIdNodes`). */
  readonly source: string;
}

const UPLOAD_FLAGS: Record<string, 'image' | 'video' | 'audio'> = {
  image_upload: 'image',
  animated_image_upload: 'image',
  video_upload: 'video',
  audio_upload: 'audio',
};

/** Reads one class's entry from a schema file into the form the checks use. */
export function readNodeClass(name: string, file: SchemaFile, source: string): NodeClass {
  const entry = file.nodes[name];
  const inputs: InputSpec[] = [];
  for (const group of ['required', 'optional'] as const) {
    const specs = entry.input[group] ?? {};
    const declared = entry.input_order?.[group];
    const order = declared
      ? [...declared, ...Object.keys(specs).filter((k) => !declared.includes(k))]
      : Object.keys(specs);
    for (const input of order) {
      if (input in specs) inputs.push(readInput(input, group === 'required', specs[input], name, file));
    }
  }
  return {
    name,
    displayName: typeof entry.display_name === 'string' && entry.display_name ? entry.display_name : name,
    inputs,
    byName: new Map(inputs.map((i) => [i.name, i])),
    hidden: new Set(Object.keys(entry.input.hidden ?? {})),
    outputs: entry.output.map((o) => (Array.isArray(o) ? 'COMBO' : String(o))),
    outputMatchtypes: Array.isArray(entry.output_matchtypes)
      ? entry.output_matchtypes.map((t) => (typeof t === 'string' ? t : null))
      : [],
    outputNode: entry.output_node,
    deprecated: entry.deprecated === true,
    apiNode: entry.api_node === true,
    readSubInput: (input, required, raw) => readInput(input, required, raw, name, file),
    source,
  };
}

function readInput(name: string, required: boolean, raw: unknown, cls: string, file: SchemaFile): InputSpec {
  const spec = Array.isArray(raw) ? raw : [raw];
  const extra = (spec[1] && typeof spec[1] === 'object' && !Array.isArray(spec[1]) ? spec[1] : {}) as Record<
    string,
    unknown
  >;
  let type: string;
  let options: unknown[] | undefined;
  let accepts: string[] | undefined;
  if (Array.isArray(spec[0])) {
    type = 'COMBO';
    options = spec[0];
  } else {
    type = String(spec[0]);
    if (type === 'COMBO') options = Array.isArray(extra.options) ? extra.options : [];
    if (type === MATCHTYPE) accepts = String(templateOf(extra)?.allowed_types ?? '*').split(',');
    if (type === DYNAMICCOMBO) {
      type = 'COMBO';
      options = (Array.isArray(extra.options) ? extra.options : []).map((o) => (o as { key?: unknown })?.key);
    }
  }
  const dynamic = spec[0] === AUTOGROW ? 'autogrow' : spec[0] === DYNAMICCOMBO ? 'combo' : undefined;
  const flag = Object.keys(UPLOAD_FLAGS).find((k) => extra[k] === true);
  const folders = file.modelInputs[cls]?.[name];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    name,
    required,
    type,
    options,
    min: num(extra.min),
    max: num(extra.max),
    default: extra.default,
    forceInput: extra.forceInput === true,
    // `true`, or (V3, e.g. 0.28.2's PrimitiveInt) the mode the widget starts in: "fixed", "randomize", …
    controlAfterGenerate:
      extra.control_after_generate === true ||
      typeof extra.control_after_generate === 'string' ||
      (type === 'INT' && extra.control_after_generate !== false && (name === 'seed' || name === 'noise_seed')),
    upload: file.uploadInputs[cls]?.[name] ?? (flag ? UPLOAD_FLAGS[flag] : undefined),
    modelFolders: folders === undefined ? undefined : Array.isArray(folders) ? folders : [folders],
    accepts: [...(accepts ?? type.split(',')), ...(file.acceptedTypes[cls]?.[name] ?? [])],
    extra,
    ...(dynamic ? { dynamic } : {}),
  };
}

/** Whether a value of link type `output` may feed an input that accepts `accepts`. */
export function typeFits(output: string, accepts: readonly string[]): boolean {
  if (output === '*' || accepts.includes('*')) return true;
  return output.split(',').some((o) => accepts.includes(o));
}
