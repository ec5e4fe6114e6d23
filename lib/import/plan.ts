import { type ApiGraph, checkGraph, isApiGraph } from '../comfy/graph-check';
import { firstReleaseWith } from '../comfy/release-history';
import { partnerNodeProblems } from '../comfy/partner-nodes';
import { coreClassNames, coreVersions, type PackSchemas, SchemaSet, versionKey } from '../comfy/schema-set';
import { convertUiWorkflow, isUiWorkflow } from '../comfy/ui-convert';
import { type SuggestedField, suggestFields, suggestOutput, unboundUploads } from './fields';
import { importModels } from './models';
import { importPacks } from './packs';
import type { ImportSpec } from './render';
import { readUiProperties, type UiProperties } from './ui-properties';

export interface ImportRequest {
  /** The parsed workflow file (UI or API format). */
  readonly workflow: unknown;
  /** Its file name, for messages. */
  readonly fileName: string;
  readonly appId: string;
  readonly endpointPath: string;
  readonly workflowFile: string;
  readonly moduleSpecifier: string;
  readonly comfyVersion: string;
  /** Write `comfyVersion` into the app, with this reason (--comfy-version, or the release the nodes were made with). */
  readonly pinVersion?: string;
  /** `--partner-nodes`: the Modal Secret with the Comfy.org key; Comfy.org partner-API nodes are refused without it. */
  readonly partnerNodesSecret?: string;
  /** The node schemas given (`--custom-nodes`, `--comfy-url`). */
  readonly packs: readonly PackSchemas[];
  readonly comfyDir?: string;
  /** How the schemas of unknown classes can be given, for the message that stops the import. */
  readonly howToDump: string;
}

/** What import decided, and what it could not: TODOs written into the code, and notes. */
export interface ImportPlan {
  readonly spec: ImportSpec;
  readonly todos: string[];
  readonly notes: string[];
}

/** UI node types that are not node classes: virtual nodes the export follows or drops. */
const VIRTUAL = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);

/**
 * Everything `modal-cdk import` writes for one workflow, or why it cannot: classes no schema describes
 * (it never guesses a node's inputs), or a UI workflow that does not convert exactly.
 */
export function planImport(request: ImportRequest): ImportPlan | { problems: string[] } {
  const schemas = SchemaSet.for(request.comfyVersion, request.packs);
  const ui = isUiWorkflow(request.workflow);
  const props = readUiProperties(ui ? request.workflow : {});
  const unknown =
    ui || isApiGraph(request.workflow) ? classesOf(request.workflow, ui).filter((c) => !schemas.get(c)) : [];
  if (unknown.length > 0) return { problems: unknownClasses(unknown, schemas, props, request) };
  let graph: ApiGraph;
  const convertNotes: string[] = [];
  if (ui) {
    const converted = convertUiWorkflow(request.workflow, schemas);
    if ('problems' in converted) return { problems: converted.problems.map((p) => `${request.fileName}: ${p}`) };
    graph = converted.graph;
    convertNotes.push(...converted.notes.map((n) => n.message));
  } else if (isApiGraph(request.workflow)) graph = request.workflow;
  else
    return {
      problems: [
        `${request.fileName}: neither a UI-format workflow ({ "nodes": [...], "links": [...] }) nor an API-format graph ({ "<id>": { "class_type": "...", "inputs": {...} } }): save it from ComfyUI's editor (Save, or Export (API))`,
      ],
    };
  if (Object.keys(graph).length === 0)
    return { problems: [`${request.fileName}: no node that ComfyUI runs (only notes, muted or bypassed nodes)`] };
  // What ComfyUI would refuse is fixed in the editor first: the stack would only repeat it.
  const invalid = checkGraph(graph, schemas, { file: request.fileName });
  if (invalid.length > 0) return { problems: invalid };
  if (!request.partnerNodesSecret) {
    const partner = partnerNodeProblems(
      graph,
      schemas,
      request.fileName,
      'pass --partner-nodes <the Modal Secret with COMFY_ORG_API_KEY> (the app gets partnerNodes)',
    );
    if (partner.length > 0) return { problems: partner };
  }

  const output = suggestOutput(graph, schemas);
  if ('problem' in output) return { problems: [`${request.fileName}: ${output.problem}`] };
  const core = coreClassNames(schemas.coreVersion);
  const custom = [...new Set(Object.values(graph).map((n) => n.class_type))].filter((c) => !core.has(c)).sort();
  const models = importModels(graph, schemas, props.models);
  const packs = importPacks(custom, props.packs, request.packs, request.comfyDir);
  const fields = suggestFields(graph, schemas);

  const todos: string[] = [];
  const notes: string[] = [...props.problems, ...convertNotes, ...output.notes];
  for (const m of models) if (m.kind === 'todo') todos.push(`model models/${m.folder}/${m.name}: ${m.reason}`);
  for (const p of packs) {
    if (p.source.kind === 'todo') todos.push(`custom nodes ${p.classes.join(', ')}: ${p.source.reason}`);
    if (!p.schemas) todos.push(`custom nodes ${p.classes.join(', ')}: no node schemas given (--custom-nodes)`);
  }
  for (const u of unboundUploads(graph, schemas))
    todos.push(
      `node ${u.node} ${graph[u.node].class_type}.${u.input} loads ${u.kind} file ${JSON.stringify(graph[u.node].inputs[u.input])}: request fields cannot carry ${u.kind}, so that file must be in ComfyUI's input folder`,
    );
  if (!fields.some((f) => f.name === 'prompt'))
    notes.push('no prompt field: no multiline text input is on the conditioning path into a sampler');
  if (!ui) notes.push('an API-format file records no model URLs or packs: every model and pack is a TODO');
  return {
    spec: {
      appId: request.appId,
      endpointPath: request.endpointPath,
      workflowFile: request.workflowFile,
      moduleSpecifier: request.moduleSpecifier,
      ...(request.pinVersion ? { comfyVersion: request.comfyVersion, comfyVersionReason: request.pinVersion } : {}),
      ...(request.partnerNodesSecret ? { partnerNodesSecret: request.partnerNodesSecret } : {}),
      models,
      packs: packs.map((p) => ({ ...p, ...(p.schemas && { schemasFile: `bin/nodes/${p.dir}.json` }) })),
      fields,
      output,
      description: `${request.fileName}, imported`,
    },
    todos,
    notes,
  };
}

/**
 * Why each class no schema describes is missing, grouped by what leads somewhere: a newer snapshot has it
 * (set comfyVersion), ComfyUI's own node of a release newer than every snapshot (dump that release), or a
 * custom node (give its pack's schemas, naming the pack its nodes give).
 */
function unknownClasses(
  unknown: readonly string[],
  schemas: SchemaSet,
  props: UiProperties,
  request: ImportRequest,
): string[] {
  const file = request.fileName;
  const problems: string[] = [];
  const newer = new Map<string, string[]>();
  const core: string[] = [];
  const custom: string[] = [];
  for (const c of unknown) {
    const since = firstReleaseWith(c, schemas.coreVersion);
    if (since) newer.set(since, [...(newer.get(since) ?? []), c]);
    else if (props.coreClasses.has(c)) core.push(c);
    else custom.push(c);
  }
  for (const [since, classes] of newer)
    problems.push(
      `${file}: ${classes.join(', ')} ${classes.length === 1 ? 'needs' : 'need'} ComfyUI ≥ ${since} (the app runs ${schemas.coreVersion}): set comfyVersion: '${since}' — import --comfy-version ${since}`,
    );
  if (core.length > 0) {
    const made = core.map((c) => props.coreClasses.get(c)).filter((v): v is string => /^\d+\.\d+\.\d+$/.test(v ?? ''));
    const ver = made.sort((a, b) => versionKey(a) - versionKey(b)).at(-1);
    problems.push(
      `${file}: ${core.join(', ')} ${core.length === 1 ? 'is a node' : 'are nodes'} of ComfyUI itself (cnr_id comfy-core${ver ? `, made by ${ver}` : ''}) that no release modal-cdk has node schemas of knows (${coreVersions().join(', ')}): needs ComfyUI ≥ ${ver ?? `a release after ${coreVersions().at(-1)}`} — run that release, dump its schemas (\`modal-cdk schemas dump --url http://127.0.0.1:8188 --core --out nodes/comfyui-${ver ?? '<version>'}.json\`) and pass them with --custom-nodes, then give the app that file as its nodeSchemas with comfyVersion '${ver ?? '<version>'}'`,
    );
  }
  if (custom.length > 0) {
    const named = custom.map((c) => {
      const pack = [...props.packs.values()].find((p) => p.classes.includes(c));
      return pack
        ? `${c} (pack ${pack.cnrId ?? pack.auxId}${pack.ver && pack.ver !== 'unknown' ? ` ${pack.ver}` : ''})`
        : c;
    });
    problems.push(
      `${file}: no node schemas for ${named.join(', ')}: neither ComfyUI ${schemas.coreVersion} nor a --custom-nodes file has ${custom.length === 1 ? 'it' : 'them'}, so its inputs cannot be checked — ${request.howToDump}`,
    );
  }
  return problems;
}

/** The node classes a workflow uses (UI: every real node, subgraphs included; API: every class_type). */
function classesOf(workflow: unknown, ui: boolean): string[] {
  const w = workflow as {
    nodes?: { type?: unknown }[];
    definitions?: { subgraphs?: { id?: unknown; nodes?: { type?: unknown }[] }[] };
  };
  if (!ui)
    return [
      ...new Set(Object.values(workflow as Record<string, { class_type?: unknown }>).map((n) => String(n?.class_type))),
    ];
  const subgraphs = w.definitions?.subgraphs ?? [];
  const ids = new Set(subgraphs.map((s) => s.id));
  const types = [...(w.nodes ?? []), ...subgraphs.flatMap((s) => s.nodes ?? [])]
    .map((n) => n?.type)
    .filter((t): t is string => typeof t === 'string' && !VIRTUAL.has(t) && !ids.has(t));
  return [...new Set(types)].sort();
}

/** The fields as the table import prints: name, type, what it sets, default and bounds. */
export function fieldTable(fields: readonly SuggestedField[]): string[][] {
  return fields.map((f) => [
    f.name,
    f.type,
    [f, ...f.alsoSets].map((t) => `${t.node}.${t.input}`).join(', '),
    f.default === undefined ? (f.type === 'seed' ? 'random' : 'required') : JSON.stringify(f.default).slice(0, 40),
    f.min !== undefined || f.max !== undefined ? `${f.min ?? ''}..${f.max ?? ''}` : '',
  ]);
}
