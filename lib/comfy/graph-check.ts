import { show } from '../errors';
import { closest, likelyTypo } from './closest';
import {
  type ApiGraph,
  type InputSpec,
  MATCHTYPE,
  type NodeClass,
  templateOf,
  typeFits,
  WIDGET_TYPES,
} from './node-schema';
import type { ModelFiles } from './model-files';
import { applyReplacements, replacementsOf } from './node-replacements';
import {
  anyReleaseWithOption,
  firstReleaseWith,
  firstReleaseWithOption,
  lastReleaseWith,
  requiredSince,
} from './release-history';
import { coreVersions, type SchemaSet } from './schema-set';
import { nodeInputs, outputType, templateLinks } from './v3-inputs';

export type { ApiGraph } from './node-schema';

/** Where in a workflow a problem is: `workflow x.json node 6 (CLIPTextEncode) input text`. */
export function at(file: string, id: string, cls: string, input?: string): string {
  return `workflow ${file} node ${id} (${cls})${input === undefined ? '' : ` input ${input}`}`;
}

/** Whether an input value is a link `[node id, output slot]`. */
export function isLink(value: unknown): value is [string, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || typeof value[0] === 'number') &&
    Number.isInteger(value[1])
  );
}

/** Whether a parsed JSON value is an API-format graph: node id → `{ class_type, inputs }`, at least one node. */
export function isApiGraph(value: unknown): value is ApiGraph {
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return false;
  return Object.values(value).every(
    (n) =>
      n &&
      typeof n === 'object' &&
      typeof (n as { class_type?: unknown }).class_type === 'string' &&
      typeof (n as { inputs?: unknown }).inputs === 'object',
  );
}

export interface GraphCheckOptions {
  /** The workflow's file name, for messages. */
  readonly file: string;
  /** Model files the app provides; without it model names are not checked. */
  readonly models?: ModelFiles;
  /** `node\0input` keys that request fields set (their literal is only a placeholder: checked through the field). */
  readonly bound?: ReadonlySet<string>;
  /** Where notes go (a node ComfyUI will run as another class, a deprecated class); without it, none. */
  readonly notes?: GraphNote[];
}

/** Something a check says without refusing the graph. */
export interface GraphNote {
  /**
   * `node-replaced`, `node-deprecated` (checkGraph); `widget-added` (a widget a newer release added took its
   * default in the UI conversion), `widget-dropped` (a saved value no widget of the release takes), `node-newer` (a UI node made by a newer ComfyUI than the app runs).
   */
  readonly id: 'node-replaced' | 'node-deprecated' | 'widget-added' | 'widget-dropped' | 'node-newer';
  readonly message: string;
}

/** Key of a node input in `GraphCheckOptions.bound`. */
export const inputKey = (node: string, input: string) => `${node}\0${input}`;

/**
 * The nodes ComfyUI's /prompt validates and runs: its output nodes and every node they need, through links.
 * Every node when the graph has no output node of a known class (ComfyUI refuses such a prompt anyway).
 */
function ranNodes(graph: ApiGraph, schemas: SchemaSet): Set<string> {
  const outputs = Object.keys(graph).filter((id) => schemas.get(graph[id].class_type)?.outputNode);
  if (outputs.length === 0) return new Set(Object.keys(graph));
  const run = new Set<string>();
  const visit = (id: string) => {
    if (run.has(id) || !graph[id]) return;
    run.add(id);
    for (const value of Object.values(graph[id].inputs)) if (isLink(value)) visit(String(value[0]));
  };
  outputs.forEach(visit);
  return run;
}

/**
 * Checks a whole API-format graph against node schemas, as ComfyUI's `/prompt` will (and a little
 * more): known classes, required inputs (of the nodes /prompt runs), links to existing nodes and slots of a fitting type, literal
 * values within bounds and options, model files the app provides. Returns every problem.
 */
export function checkGraph(given: ApiGraph, schemas: SchemaSet, options: GraphCheckOptions): string[] {
  const { file, models, bound, notes } = options;
  const problems: string[] = [];
  // What /prompt runs: a class the release no longer has, rewritten as /node_replacements says.
  const { graph, replaced } = applyReplacements(given, schemas);
  for (const r of replaced)
    notes?.push({
      id: 'node-replaced',
      message: `${at(file, r.id, r.from)}: ComfyUI ${schemas.coreVersion} has no ${r.from}; its /prompt runs the node as ${r.to} (/node_replacements), so it is checked as ${r.to} — save the workflow again in that release to keep the two the same`,
    });
  const run = ranNodes(graph, schemas);
  for (const [id, node] of Object.entries(graph)) {
    const cls = schemas.get(node.class_type);
    if (cls?.deprecated) {
      const successor = replacementsOf(schemas, cls.name)[0]?.new_node_id;
      notes?.push({
        id: 'node-deprecated',
        message: `${at(file, id, cls.name)}: ${cls.name} is deprecated in ComfyUI ${schemas.coreVersion} (it still runs; the editor no longer offers it)${successor ? ` — its successor is ${successor}` : ''}`,
      });
    }
    if (!cls) {
      problems.push(`${at(file, id, node.class_type)}: ${unknownClass(node.class_type, schemas)}`);
      continue;
    }
    const inputs = nodeInputs(cls, node.inputs);
    const byName = inputs === cls.inputs ? cls.byName : new Map(inputs.map((i) => [i.name, i]));
    for (const spec of inputs) {
      // ComfyUI validates (and runs) only output nodes and what they need: a node that feeds nothing may
      // lack an input (the editor exports one left unlinked in a template as it is).
      if (spec.required && !(spec.name in node.inputs) && run.has(id)) {
        const since = cls.source.startsWith('ComfyUI ')
          ? requiredSince(cls.name, spec.name, schemas.coreVersion)
          : undefined;
        problems.push(
          since
            ? `${at(file, id, cls.name, spec.name)}: got nothing, expected ${describe(spec)}: ${cls.name}.${spec.name} is required from ComfyUI ${since} on (the app runs ${schemas.coreVersion}) — add it, or pin the app's comfyVersion to the release the workflow was saved with`
            : `${at(file, id, cls.name, spec.name)}: got nothing, expected ${describe(spec)} (a required input) — ${isWidget(spec) ? 'set a value' : 'link it'}`,
        );
      }
    }
    for (const [name, value] of Object.entries(node.inputs)) {
      const spec = byName.get(name) ?? formatWidget(cls, node.inputs, name);
      if (isLink(value)) {
        problems.push(...linkProblems(graph, schemas, file, id, cls, name, value, spec));
      } else if (spec && !bound?.has(inputKey(id, name))) {
        const problem = literalProblem(spec, value, models);
        const since =
          problem && spec.type === 'COMBO' && cls.source.startsWith('ComfyUI ')
            ? firstReleaseWithOption(cls.name, name, value, schemas.coreVersion)
            : undefined;
        if (since)
          problems.push(
            `${at(file, id, cls.name, name)}: got ${show(value)}, an option of ComfyUI ${since} and later (the app runs ${schemas.coreVersion}, whose options are ${show(spec.options ?? [])}) — set the app's comfyVersion to '${since}', or pick one of those`,
          );
        else if (problem)
          problems.push(
            `${at(file, id, cls.name, name)}: ${problem}${
              newerThanEverySnapshot(cls, name, spec, value)
                ? `; no ComfyUI release modal-cdk has node schemas of (${coreVersions().join(', ')}) offers it, so if the workflow comes from a newer ComfyUI, dump that release's schemas (modal-cdk schemas dump --url <ComfyUI> --core) and give them as the app's nodeSchemas with its comfyVersion`
                : ''
            }`,
          );
      }
    }
    problems.push(...matchTypeProblems(graph, schemas, file, id, cls, inputs));
  }
  return problems;
}

/**
 * A string a core combo (not a model-file one) refuses that no snapshot release offers and that is no likely
 * typo of an option: perhaps an option of a release newer than them all (which one is not known here).
 */
function newerThanEverySnapshot(cls: NodeClass, input: string, spec: InputSpec, value: unknown): boolean {
  return (
    spec.type === 'COMBO' &&
    typeof value === 'string' &&
    spec.modelFolders === undefined &&
    cls.source.startsWith('ComfyUI ') &&
    likelyTypo(value, (spec.options ?? []).map(String)) === undefined &&
    !anyReleaseWithOption(cls.name, input, value)
  );
}

/** The inputs of one MatchType template must bring one type (the editor locks them to the first link's). */
function matchTypeProblems(
  graph: ApiGraph,
  schemas: SchemaSet,
  file: string,
  id: string,
  cls: NodeClass,
  inputs: readonly InputSpec[],
): string[] {
  const templates = new Set(
    inputs.filter((s) => s.type === MATCHTYPE).map((s) => String(templateOf(s.extra)?.template_id)),
  );
  const problems: string[] = [];
  for (const template of templates) {
    const links = templateLinks(graph, schemas, id, cls, template).filter((l) => l.type !== '*');
    const first = links[0];
    for (const other of links.filter((l) => !typeFits(l.type, first.type.split(',')))) {
      problems.push(
        `${at(file, id, cls.name, other.input)}: got ${other.type}, expected ${first.type} like ${first.input} (both follow the type template "${template}" of ${cls.name}) — link outputs of one type`,
      );
    }
  }
  return problems;
}

function linkProblems(
  graph: ApiGraph,
  schemas: SchemaSet,
  file: string,
  id: string,
  cls: NodeClass,
  name: string,
  link: [string, number],
  spec: InputSpec | undefined,
): string[] {
  const where = at(file, id, cls.name, name);
  const [from, slot] = [String(link[0]), link[1]];
  const source = graph[from];
  if (!source)
    return [
      `${where}: got a link to node "${from}", expected a node id of the workflow (${show(Object.keys(graph))}) — fix the link`,
    ];
  const sourceCls = schemas.get(source.class_type);
  if (!sourceCls) return []; // reported as an unknown class
  if (slot < 0 || slot >= sourceCls.outputs.length) {
    const outputs = sourceCls.outputs.map((t, i) => `${i}: ${t}`).join(', ') || 'none';
    return [
      `${where}: got a link to output ${slot} of node "${from}" (${sourceCls.name}), expected one of its outputs (${outputs}) — fix the slot`,
    ];
  }
  const type = outputType(graph, schemas, from, slot);
  if (spec && !typeFits(type, spec.accepts)) {
    return [
      `${where}: got ${type} from node "${from}" (${sourceCls.name}) output ${slot}, expected ${spec.accepts.join(' or ')} — link an output of that type`,
    ];
  }
  return [];
}

/**
 * Why a class is unknown, and what leads somewhere: a core class of a newer release (set comfyVersion), one
 * an older release had, else a misspelling or a custom node's class (the custom-node advice).
 */
export function unknownClass(name: string, schemas: SchemaSet): string {
  return (
    releaseAdvice(name, schemas) ??
    `got class_type ${show(name)}, expected a node class of ComfyUI ${schemas.coreVersion} or of the app's custom nodes (closest: ${closest(name, schemas.classNames()).join(', ')}) — fix the spelling, or add the CustomNode that provides it with its node schemas`
  );
}

/** For a core class of another release than the schemas': which release has it and what to do; else undefined. */
export function releaseAdvice(name: string, schemas: SchemaSet): string | undefined {
  const newer = firstReleaseWith(name, schemas.coreVersion);
  if (newer)
    return `got class_type ${show(name)}, a core node of ComfyUI ${newer} and later (the app runs ${schemas.coreVersion}) — set the app's comfyVersion to '${newer}' or later (modal-cdk has node schemas of ${coreVersions().join(', ')}), or use another node`;
  const older = lastReleaseWith(name, schemas.coreVersion);
  if (older)
    return `got class_type ${show(name)}, a core node of ComfyUI ${older} that ${schemas.coreVersion} no longer has (closest: ${closest(name, schemas.classNames()).join(', ')}) — replace it with its successor, or pin the app's comfyVersion to '${older}'`;
  return undefined;
}

/** Whether the UI shows the input as a widget (so a literal value is what it takes). */
export function isWidget(spec: InputSpec): boolean {
  return (WIDGET_TYPES.has(spec.type) || isSocketless(spec)) && !spec.forceInput;
}

/**
 * A V3 input the editor shows only as a widget of its own kind (`socketless`: 0.28.2's ColorToRGBInt
 * `COLOR`, ImageCompare's `IMAGECOMPARE`): it takes the widget's value, never a link.
 */
export function isSocketless(spec: InputSpec): boolean {
  return spec.extra.socketless === true && !WIDGET_TYPES.has(spec.type);
}

/** `an INT in [1, 4096]`, `one of "a", "b"`, `a link to a MODEL output`. */
export function describe(spec: InputSpec): string {
  if (isSocketless(spec)) return `the value of the editor's ${spec.type} widget`;
  if (!WIDGET_TYPES.has(spec.type)) return `a link to ${spec.accepts.join(' or ')}`;
  if (spec.type === 'COMBO')
    return spec.upload
      ? `a ${spec.upload} file name`
      : spec.modelFolders
        ? `a file of models/${spec.modelFolders.join(' or ')}`
        : `one of ${show(spec.options ?? [])}`;
  const range = spec.min !== undefined || spec.max !== undefined ? ` in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]` : '';
  return `${spec.type === 'INT' ? 'an' : 'a'} ${spec.type}${range}`;
}

/** What is wrong with a literal value for an input (got …, expected … — fix), or undefined. */
export function literalProblem(spec: InputSpec, value: unknown, models?: ModelFiles): string | undefined {
  if (isSocketless(spec)) return undefined; // the editor's own widget value: ComfyUI does not check its shape
  if (!WIDGET_TYPES.has(spec.type) && !scalarTaken(spec, value))
    return `got the literal ${show(value)}, expected ${describe(spec)} — link an output of that type`;
  if (!fitsType(spec.type, value)) return `got ${show(value)}, expected ${describe(spec)} — fix the value`;
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min)
      return `got ${value}, expected at least ${spec.min} (ComfyUI's min) — fix the value`;
    if (spec.max !== undefined && value > spec.max)
      return `got ${value}, expected at most ${spec.max} (ComfyUI's max) — fix the value`;
  }
  if (spec.type === 'COMBO' && !spec.upload) {
    const options = spec.options ?? [];
    if (options.includes(value)) return undefined;
    if (spec.modelFolders) {
      if (!models || spec.modelFolders.some((f) => models.provides(f, String(value)))) return undefined;
      const available = [...options, ...spec.modelFolders.flatMap((f) => models.list(f))];
      return `got ${show(value)}, expected a file of models/${spec.modelFolders.join(' or ')} that an HfModel or VolumeModel of the app provides (${available.length ? show(available) : 'none does'}) — add the model (target "${spec.modelFolders[0]}") or fix the name`;
    }
    if (options.length > 0) return `got ${show(value)}, expected one of ${show(options)} — fix the value`;
  }
  return undefined;
}

/**
 * Whether ComfyUI's /prompt takes a literal for an input meant for links: one of any type (`*`, a MatchType
 * of any) or of a union of scalar types the literal fits (ComfyMathExpression's `FLOAT,INT,BOOLEAN`). The
 * editor exports such literals for an unlinked subgraph input whose widget it promoted (0.28.2 runs them).
 */
function scalarTaken(spec: InputSpec, value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  const types = spec.type === MATCHTYPE ? spec.accepts : spec.type.split(',');
  return types.some((t) => t === '*' || (['INT', 'FLOAT', 'STRING', 'BOOLEAN'].includes(t) && fitsType(t, value)));
}

function fitsType(type: string, value: unknown): boolean {
  switch (type) {
    case 'INT':
      return typeof value === 'number' && Number.isInteger(value);
    case 'FLOAT':
      return typeof value === 'number';
    case 'STRING':
      return typeof value === 'string';
    case 'BOOLEAN':
      return typeof value === 'boolean';
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  }
}

/**
 * A widget that a combo's chosen option adds (VHS_VideoCombine's `crf` for `video/h264-mp4`, declared in
 * `format`'s `formats` and taken through a hidden catch-all input).
 */
export function formatWidget(cls: NodeClass, inputs: Record<string, unknown>, name: string): InputSpec | undefined {
  for (const spec of cls.inputs) {
    const formats = spec.extra.formats as Record<string, unknown> | undefined;
    const chosen = formats && typeof inputs[spec.name] === 'string' ? formats[inputs[spec.name] as string] : undefined;
    if (!Array.isArray(chosen)) continue;
    const entry = chosen.find((w) => Array.isArray(w) && w[0] === name) as unknown[] | undefined;
    if (!entry) continue;
    const [typeOrOptions, extra] = [entry[1], (entry[2] ?? {}) as Record<string, unknown>];
    const combo = Array.isArray(typeOrOptions);
    return {
      name,
      required: false,
      type: combo ? 'COMBO' : String(typeOrOptions),
      options: combo ? typeOrOptions : undefined,
      min: typeof extra.min === 'number' ? extra.min : undefined,
      max: typeof extra.max === 'number' ? extra.max : undefined,
      default: extra.default,
      forceInput: false,
      controlAfterGenerate: false,
      accepts: [combo ? 'COMBO' : String(typeOrOptions)],
      extra,
    };
  }
  return undefined;
}
