import { show } from '../errors';
import type { FieldType } from '../synth/spec';
import { type ApiGraph, at, describe, formatWidget, isLink, literalProblem } from './graph-check';
import type { ModelFiles } from './model-files';
import { type InputSpec, WIDGET_TYPES } from './node-schema';
import type { SchemaSet } from './schema-set';
import { nodeInputs } from './v3-inputs';

/** What the binding checks need of a request field (constructs/endpoint-input.ts). */
export interface BoundField {
  readonly name: string;
  readonly type: FieldType;
  readonly targets: readonly { node: string; input: string }[];
  readonly default?: string | number | boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly map?: Readonly<Record<string, string | number | boolean>>;
  readonly modelFolder?: string;
  readonly winsOver: readonly string[];
}

/** The bounds a seed field has when it sets none (constructs/endpoint-input.ts). */
const SEED_BOUNDS = { min: 0, max: 2 ** 64 - 1 };

/** Node input types each field type can set without a `map`. */
const FITTING_TYPES: Record<FieldType, readonly string[]> = {
  int: ['INT', 'FLOAT'],
  seed: ['INT', 'FLOAT'],
  float: ['FLOAT'],
  string: ['STRING'],
  enum: ['COMBO'],
  bool: ['BOOLEAN'],
  image: [],
  video: [],
};

/**
 * How an endpoint's request fields fit the node inputs they set: the field's type against the input's,
 * every value an enum, bool or map can give against the input's options and bounds, numeric bounds and
 * defaults inside ComfyUI's, files only into inputs that take an upload, and at most one field per input
 * unless one declares it wins (`winsOver`). Nodes the graph lacks and unknown classes are reported elsewhere.
 */
export function bindingProblems(
  fields: readonly BoundField[],
  graph: ApiGraph,
  schemas: SchemaSet,
  file: string,
  models?: ModelFiles,
): string[] {
  const problems: string[] = [];
  const setters = new Map<string, string[]>();
  for (const field of fields) {
    for (const target of field.targets) {
      const node = graph[target.node];
      const cls = node && schemas.get(node.class_type);
      if (!cls || isLink(node.inputs[target.input])) continue; // the field checks report a bound link
      const key = `${target.node}\0${target.input}`;
      setters.set(key, [...(setters.get(key) ?? []), field.name]);
      const where = at(file, target.node, cls.name, target.input);
      // The node's own inputs: a DynamicCombo's chosen option adds some (`resize_type.multiplier`).
      const inputs = nodeInputs(cls, node.inputs);
      const spec = inputs.find((i) => i.name === target.input) ?? formatWidget(cls, node.inputs, target.input);
      if (!spec) {
        if (!(target.input in node.inputs)) continue; // the field checks say the graph lacks it
        const widgets = inputs.filter((i) => WIDGET_TYPES.has(i.type)).map((i) => i.name);
        problems.push(
          `${where}: field '${field.name}' sets an input ${cls.name} does not have, expected one of ${show(widgets)} — fix the input name`,
        );
        continue;
      }
      const problem = fieldProblem(field, spec, models);
      if (problem) problems.push(`${where}: field '${field.name}' ${problem}`);
    }
  }
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const [key, names] of setters) {
    if (names.length < 2) continue;
    const [node, input] = key.split('\0');
    const unresolved = pairs(names).filter(
      ([a, b]) => !byName.get(a)!.winsOver.includes(b) && !byName.get(b)!.winsOver.includes(a),
    );
    for (const [a, b] of unresolved) {
      problems.push(
        `${at(file, node, graph[node].class_type, input)}: got two fields, '${a}' and '${b}', setting it, expected one, or one that declares it wins — set winsOver: ['${a}'] on '${b}' (or the reverse), or bind one elsewhere`,
      );
    }
  }
  return problems;
}

function pairs(names: string[]): [string, string][] {
  return names.flatMap((a, i) => names.slice(i + 1).map((b): [string, string] => [a, b]));
}

/** What is wrong with one field on one input (a phrase after "field 'x' "), or undefined. */
function fieldProblem(field: BoundField, spec: InputSpec, models?: ModelFiles): string | undefined {
  const file = field.type === 'image' || field.type === 'video';
  if (file || spec.upload) {
    if (file && spec.upload === field.type) return undefined;
    if (file)
      return `is an ${field.type}, but the input takes ${describe(spec)}, expected an input that takes an uploaded ${field.type} (LoadImage.image, LoadVideo.file, …) — bind the field to such an input`;
    return `is a ${field.type}, but the input takes an uploaded ${spec.upload} file, expected a field of type '${spec.upload}' (the request's file is saved into ComfyUI's input folder) — set type: '${spec.upload}'`;
  }
  const nodeValues = valuesSet(field);
  if (nodeValues) {
    for (const value of nodeValues) {
      const problem = literalProblem(spec, value, models);
      if (problem)
        return `can set ${show(value)}: ${problem.replace(/ — fix the value$/, '')} — change the field's values or map`;
    }
    return undefined;
  }
  const modelName =
    field.type === 'string' &&
    spec.type === 'COMBO' &&
    field.modelFolder !== undefined &&
    spec.modelFolders?.includes(field.modelFolder);
  if (!modelName && !FITTING_TYPES[field.type].includes(spec.type)) {
    const fix =
      spec.type === 'COMBO'
        ? spec.modelFolders
          ? `make it an enum of the app's files, or a string with modelFolder: '${spec.modelFolders[0]}'`
          : "make it an enum of the combo's options"
        : 'change the field type or bind another input';
    return `is a ${field.type}${field.modelFolder ? ` with modelFolder '${field.modelFolder}'` : ''}, expected a field that fits ${describe(spec)} — ${fix}`;
  }
  const bounds = field.type === 'seed' ? { ...SEED_BOUNDS, ...definedBounds(field) } : definedBounds(field);
  for (const [what, value] of [
    ['min', bounds.min],
    ['max', bounds.max],
    ['default', field.default],
  ] as const) {
    if (typeof value !== 'number') continue;
    const implicit = field.type === 'seed' && what !== 'default' && field[what] === undefined;
    if (implicit && spec.max !== undefined && value > spec.max)
      return `has no max, so a seed's 2^64-1, expected at most ${spec.max} (ComfyUI's max) — set the field's max to ${spec.max}`;
    if (spec.type === 'INT' && !Number.isInteger(value))
      return `has ${what} ${value}, expected an integer for ${describe(spec)} — fix the ${what}`;
    if (spec.min !== undefined && value < spec.min)
      return `has ${what} ${value}, expected at least ${spec.min} (ComfyUI's min) — raise the field's ${what === 'default' ? 'default' : 'min'}`;
    if (spec.max !== undefined && value > spec.max)
      return `has ${what} ${value}, expected at most ${spec.max} (ComfyUI's max) — ${what === 'default' ? 'lower the default' : "set the field's max"}`;
  }
  if (field.default !== undefined && typeof field.default !== 'number') {
    const problem = literalProblem(spec, field.default, models);
    if (problem) return `has default ${show(field.default)}: ${problem}`;
  }
  return undefined;
}

function definedBounds(field: BoundField): { min?: number; max?: number } {
  return { ...(field.min !== undefined && { min: field.min }), ...(field.max !== undefined && { max: field.max }) };
}

/** Every value the node can get from an enum or bool field, or from a map; undefined when open-ended. */
function valuesSet(field: BoundField): (string | number | boolean)[] | undefined {
  const map = field.map ?? {};
  const through = (v: string | boolean) => (Object.hasOwn(map, String(v)) ? map[String(v)] : v);
  if (field.type === 'enum' && field.values) return [...new Set(field.values.map(through))];
  if (field.type === 'bool') return [...new Set([true, false].map(through))];
  return undefined;
}
