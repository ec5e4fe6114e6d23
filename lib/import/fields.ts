import { type ApiGraph, isLink, isWidget } from '../comfy/graph-check';
import type { InputSpec } from '../comfy/node-schema';
import { outputFormats, outputNodes } from '../comfy/outputs';
import type { SchemaSet } from '../comfy/schema-set';
import type { FieldType, OutputFormat } from '../synth/spec';
import { sortIds } from './models';

/** A request field import suggests: the EndpointInput it writes, and why (for the table it prints). */
export interface SuggestedField {
  readonly name: string;
  readonly type: FieldType;
  readonly node: string;
  readonly input: string;
  readonly alsoSets: { node: string; input: string }[];
  readonly default?: string | number;
  readonly min?: number;
  readonly max?: number;
  readonly minLength?: number;
  readonly description: string;
}

export interface SuggestedOutput {
  readonly output: OutputFormat;
  /** Set when the workflow has several output nodes (the one chosen), else the default finds it. */
  readonly outputNode?: string;
  readonly notes: string[];
}

/** Conditioning inputs of samplers and guiders: the prompt flows into these. */
const POSITIVE = ['positive', 'conditioning'];
const NEGATIVE = ['negative'];
/** A node that drops its input's text (Flux and Qwen workflows feed a zeroed positive as the negative). */
const TEXT_DROPPING = new Set(['ConditioningZeroOut']);

/**
 * The request fields a user of this workflow would expect, each bound with its node's bounds and the
 * workflow's value as the default: the positive and negative prompt (the text inputs on the conditioning
 * path into the samplers' `positive` / `negative`, not by title), `seed` (random when left out), `steps`,
 * `cfg`, `width` / `height` of the empty latent, `denoise` where it is below 1, an `image` per image upload
 * and a `video` per video upload. A value several nodes share (one primitive fed them) is one field.
 */
export function suggestFields(graph: ApiGraph, schemas: SchemaSet): SuggestedField[] {
  const ids = sortIds(Object.keys(graph));
  const spec = (id: string, input: string) => schemas.get(graph[id].class_type)?.byName.get(input);
  const literal = (id: string, input: string) => {
    const v = graph[id].inputs[input];
    return isLink(v) ? undefined : v;
  };
  // Samplers and guiders: conditioning goes in, something else (a LATENT, a GUIDER) comes out.
  const samplers = ids.filter((id) => {
    const cls = schemas.get(graph[id].class_type);
    return (
      cls &&
      !cls.outputs.includes('CONDITIONING') &&
      [...POSITIVE, ...NEGATIVE].some((n) => cls.byName.get(n)?.type === 'CONDITIONING')
    );
  });
  const fields: SuggestedField[] = [];
  const taken = new Set<string>();
  const add = (field: SuggestedField) => {
    fields.push(field);
    for (const t of [field, ...field.alsoSets]) taken.add(`${t.node}\0${t.input}`);
  };

  const positive = textTargets(graph, schemas, samplers, POSITIVE, new Set());
  const negative = textTargets(graph, schemas, samplers, NEGATIVE, new Set(positive.map(key)));
  if (positive.length > 0)
    add({
      name: 'prompt',
      type: 'string',
      ...targets(positive),
      minLength: 1,
      description: 'What to generate',
    });
  if (negative.length > 0)
    add({
      name: 'negative_prompt',
      type: 'string',
      ...targets(negative),
      default: String(literal(negative[0].node, negative[0].input) ?? ''),
      description: 'What to keep out of the result',
    });

  // Seeds: the inputs the editor gives a control_after_generate widget; one field sets them all.
  const seeds = ids.flatMap((id) =>
    [...(schemas.get(graph[id].class_type)?.inputs ?? [])]
      .filter((s) => s.controlAfterGenerate && s.type === 'INT' && typeof literal(id, s.name) === 'number')
      .map((s) => ({ node: id, input: s.name })),
  );
  if (seeds.length > 0) {
    // The tightest bounds of the inputs it sets (a partner node's seed may stop at 2^31-1).
    const specs = seeds.map((t) => spec(t.node, t.input)!);
    const mins = specs.flatMap((s) => (s.min === undefined ? [] : [s.min]));
    const maxes = specs.flatMap((s) => (s.max === undefined || s.max >= 2 ** 64 - 1 ? [] : [s.max]));
    add({
      name: 'seed',
      type: 'seed',
      ...targets(seeds),
      ...(mins.length > 0 && Math.max(...mins) > 0 && { min: Math.max(...mins) }),
      // Beyond 2^53-1 a bound is no longer an exact integer (in JSON, JavaScript and the Python it renders).
      ...(maxes.length > 0 && { max: Math.min(...maxes, Number.MAX_SAFE_INTEGER) }),
      description: 'Random when left out; the same seed repeats a result',
    });
  }

  // steps, cfg, denoise on the samplers; width and height on the empty latents. Inputs holding the first
  // one's value share its field; others keep the workflow's value.
  const shared = (
    name: string,
    input: string,
    where: string[],
    type: 'int' | 'float',
    description: string,
    keep?: (v: number) => boolean,
  ) => {
    const found = where.filter((id) => {
      const s = spec(id, input);
      const v = literal(id, input);
      return (
        s &&
        isWidget(s) &&
        s.type === (type === 'int' ? 'INT' : 'FLOAT') &&
        typeof v === 'number' &&
        !taken.has(`${id}\0${input}`)
      );
    });
    if (found.length === 0) return;
    const value = literal(found[0], input) as number;
    if (keep && !keep(value)) return;
    const same = found.filter((id) => literal(id, input) === value).map((id) => ({ node: id, input }));
    const s = spec(found[0], input)!;
    add({ name, type, ...targets(same), default: value, ...bounds(s), description });
  };
  const latents = ids.filter((id) => /^Empty.*Latent/.test(graph[id].class_type));
  const sampling = samplerish(graph, schemas, ids);
  shared('steps', 'steps', sampling, 'int', 'Sampling steps');
  shared('cfg', 'cfg', sampling, 'float', 'Classifier-free guidance scale');
  shared('width', 'width', latents, 'int', 'Width in pixels');
  shared('height', 'height', latents, 'int', 'Height in pixels');
  shared('denoise', 'denoise', sampling, 'float', 'How much of the input to redraw (1: all of it)', (v) => v < 1);

  // One field per uploaded image or video the workflow loads.
  for (const kind of ['image', 'video'] as const) {
    const uploads = ids.flatMap((id) =>
      [...(schemas.get(graph[id].class_type)?.inputs ?? [])]
        .filter((s) => s.upload === kind && typeof literal(id, s.name) === 'string')
        .map((s) => ({ node: id, input: s.name })),
    );
    for (const [i, u] of uploads.entries())
      add({
        name: i === 0 ? kind : `${kind}_${i + 1}`,
        type: kind,
        ...targets([u]),
        description: `The input ${kind} (base64 or a data URL)${uploads.length > 1 ? ` for node ${u.node}` : ''}`,
      });
  }
  return fields;
}

/** The inputs loading an upload kind the request fields cannot carry (audio), for the printed TODOs. */
export function unboundUploads(graph: ApiGraph, schemas: SchemaSet): { node: string; input: string; kind: string }[] {
  return sortIds(Object.keys(graph)).flatMap((id) =>
    [...(schemas.get(graph[id].class_type)?.inputs ?? [])]
      .filter((s) => s.upload === 'audio' && !isLink(graph[id].inputs[s.name]))
      .map((s) => ({ node: id, input: s.name, kind: 'audio' })),
  );
}

/** The answer format from the output node (the only one, or the first that saves files). */
export function suggestOutput(graph: ApiGraph, schemas: SchemaSet): SuggestedOutput | { problem: string } {
  const outputs = sortIds(outputNodes(graph, schemas));
  if (outputs.length === 0)
    return {
      problem: 'the workflow has no output node (SaveImage, SaveVideo, …): add one in the editor and export again',
    };
  const saving = outputs.filter((id) => !/^Preview/.test(graph[id].class_type));
  const chosen = (saving.length > 0 ? saving : outputs)[0];
  const formats = outputFormats(graph[chosen].class_type, graph[chosen].inputs);
  const output: OutputFormat = formats && formats.length > 0 ? formats[0] : 'json';
  const notes = [];
  if (outputs.length > 1)
    notes.push(`answers with node ${chosen} (${graph[chosen].class_type}) of the output nodes ${outputs.join(', ')}`);
  if (output === 'json')
    notes.push(
      `${graph[chosen].class_type} writes files modal-cdk does not re-encode: the answer is JSON with base64 outputs`,
    );
  return { output, ...(outputs.length > 1 && { outputNode: chosen }), notes };
}

const key = (t: { node: string; input: string }) => `${t.node}\0${t.input}`;

function targets(list: { node: string; input: string }[]) {
  return { node: list[0].node, input: list[0].input, alsoSets: list.slice(1) };
}

function bounds(s: InputSpec): { min?: number; max?: number } {
  return { ...(s.min !== undefined && { min: s.min }), ...(s.max !== undefined && { max: s.max }) };
}

/** Nodes with sampling settings: the samplers and schedulers (any node with a `steps` or `cfg` widget). */
function samplerish(graph: ApiGraph, schemas: SchemaSet, ids: string[]): string[] {
  return ids.filter((id) => {
    const cls = schemas.get(graph[id].class_type);
    return cls && ['steps', 'cfg', 'denoise'].some((n) => cls.byName.has(n));
  });
}

/**
 * The multiline text widgets upstream of the samplers' `inputs` along CONDITIONING links (through
 * combiners, guidance and ControlNet nodes), one hop into a text node that feeds a text input; `skip`:
 * targets already taken (the positive prompt's, when looking for the negative).
 */
function textTargets(
  graph: ApiGraph,
  schemas: SchemaSet,
  samplers: string[],
  inputs: string[],
  skip: ReadonlySet<string>,
): { node: string; input: string }[] {
  const found: { node: string; input: string }[] = [];
  const seen = new Set<string>();
  const visit = (id: string, slot: number) => {
    if (seen.has(`${id}\0${slot}`) || !graph[id]) return;
    seen.add(`${id}\0${slot}`);
    const node = graph[id];
    const cls = schemas.get(node.class_type);
    if (!cls || TEXT_DROPPING.has(cls.name)) return;
    // A node that passes a positive and a negative through (ControlNet apply, inpaint conditioning): its
    // first CONDITIONING output comes from `positive`, its second from `negative`.
    const through = cls.outputs.flatMap((t, i) => (t === 'CONDITIONING' ? [i] : []));
    const pair = cls.byName.has('positive') && cls.byName.has('negative') && through.length === 2;
    const follow = pair ? [slot === through[1] ? 'negative' : 'positive'] : undefined;
    for (const s of cls.inputs) {
      const value = node.inputs[s.name];
      if (s.type === 'STRING' && s.extra.multiline === true) {
        if (typeof value === 'string') found.push({ node: id, input: s.name });
        else if (isLink(value)) {
          const from = graph[String(value[0])];
          const text =
            from &&
            schemas
              .get(from.class_type)
              ?.inputs.filter((i) => i.type === 'STRING' && typeof from.inputs[i.name] === 'string');
          if (text?.length === 1) found.push({ node: String(value[0]), input: text[0].name });
        }
      } else if (isLink(value) && s.accepts.includes('CONDITIONING') && (!follow || follow.includes(s.name)))
        visit(String(value[0]), value[1]);
    }
  };
  for (const id of samplers)
    for (const name of inputs) {
      const value = graph[id].inputs[name];
      if (isLink(value) && schemas.get(graph[id].class_type)?.byName.get(name)?.type === 'CONDITIONING')
        visit(String(value[0]), value[1]);
    }
  const unique = new Map(found.filter((t) => !skip.has(key(t))).map((t) => [key(t), t]));
  return [...unique.values()];
}
