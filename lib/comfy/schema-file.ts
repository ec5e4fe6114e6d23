import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { show } from '../errors';
import { type SchemaFile, schemaFileSchema } from './node-schema';
import type { PackSchemas } from './schema-set';

/** What a raw `/object_info` dump gave: the classes kept (not core) and the core ones left out. */
export interface RawDump {
  readonly kept: number;
  readonly dropped: number;
}

/**
 * Reads and checks node schemas given to a construct (`nodeSchemas`): a JSON file relative to the project
 * root, or the object itself. `source` names the construct in later messages. Two shapes: a schema file
 * (`{ "nodes": { "<class>": <entry> }, … }`), or a raw `/object_info` response as a server gives it
 * (`curl http://127.0.0.1:8188/object_info > object_info.json`: class → entry), of which only the classes
 * not in `coreClasses` (the app's ComfyUI) are taken (`rawDump` says how many).
 */
export function loadSchemaFile(
  given: string | object,
  root: string,
  source: string,
  coreClasses: ReadonlySet<string> = new Set(),
): { pack: PackSchemas; rawDump?: RawDump } | { errors: string[] } {
  const loaded = parseSchemaFile(given, root, source, coreClasses);
  if ('error' in loaded) return { errors: [loaded.error] };
  const problems = entryProblems(loaded.pack.file, typeof given === 'string' ? given : '(inline)');
  return problems.length > 0 ? { errors: problems } : loaded;
}

/** Whether a parsed value is a raw `/object_info` response: class name → an entry with `input` and `output`. */
export function isRawObjectInfo(value: unknown): value is Record<string, Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'nodes' in value) return false;
  const entries = Object.values(value);
  return (
    entries.length > 0 &&
    entries.every(
      (e) => typeof e === 'object' && e !== null && 'input' in e && Array.isArray((e as { output?: unknown }).output),
    )
  );
}

function parseSchemaFile(
  given: string | object,
  root: string,
  source: string,
  coreClasses: ReadonlySet<string>,
): { pack: PackSchemas; rawDump?: RawDump } | { error: string } {
  let value: unknown = given;
  const file = typeof given === 'string' ? given : undefined;
  if (file !== undefined) {
    try {
      value = JSON.parse(readFileSync(path.resolve(root, file), 'utf8').replace(/^\uFEFF/, '')); // a BOM is skipped
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      return {
        error: `nodeSchemas: cannot read ${show(file)} (${reason}), expected a JSON file of node schemas relative to the project root`,
      };
    }
  }
  let rawDump: RawDump | undefined;
  if (isRawObjectInfo(value)) {
    const own = Object.entries(value).filter(([name]) => !coreClasses.has(name));
    rawDump = { kept: own.length, dropped: Object.keys(value).length - own.length };
    value = { nodes: Object.fromEntries(own) };
  }
  const result = schemaFileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    return {
      error: `nodeSchemas${file ? ` ${file}` : ''} at ${issue.path.map(String).join('.') || 'the top'}: ${issue.message}, expected { "nodes": { "<class>": <its /object_info entry> }, ... }`,
    };
  }
  return { pack: { file: result.data, source }, ...(rawDump && { rawDump }) };
}

/** Type names people write for ComfyUI's widget types, which ComfyUI itself does not know. */
const WIDGET_TYPE_SPELLINGS: Record<string, string> = {
  INTEGER: 'INT',
  NUMBER: 'FLOAT',
  DOUBLE: 'FLOAT',
  TEXT: 'STRING',
  STR: 'STRING',
  BOOL: 'BOOLEAN',
  ENUM: 'COMBO',
  SELECT: 'COMBO',
};

/**
 * Each input of each class as ComfyUI would read it: `[type, {options}]` with a type (a widget type INT,
 * FLOAT, STRING, BOOLEAN, COMBO, a list of options, or a link type such as IMAGE), options an object, a
 * V3 COMBO with its options. One line per problem: `nodeSchemas <file> <class>.<input>: …`.
 */
export function entryProblems(file: SchemaFile, label: string): string[] {
  const problems: string[] = [];
  for (const [cls, entry] of Object.entries(file.nodes)) {
    for (const group of ['required', 'optional'] as const) {
      for (const [input, raw] of Object.entries(entry.input[group] ?? {})) {
        const problem = inputProblem(raw);
        if (problem) problems.push(`nodeSchemas ${label} ${cls}.${input}: ${problem}`);
      }
    }
  }
  return problems;
}

function inputProblem(raw: unknown): string | undefined {
  const expected =
    'expected [<type>, {<options>}] as /object_info serves it, the type INT, FLOAT, STRING, BOOLEAN, COMBO, a list of options, or a link type such as IMAGE';
  if (!Array.isArray(raw) || raw.length === 0) return `got ${show(raw)}, which has no type — ${expected}`;
  const [type, options] = raw;
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
    return `got options ${show(options)}, expected an object such as {"default": 1} — ${expected}`;
  if (Array.isArray(type)) return undefined; // a V1 combo: its options
  if (typeof type !== 'string' || type.trim() === '') return `got type ${show(type)}, ${expected}`;
  const upper = type.toUpperCase();
  const widget = ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'].includes(upper) ? upper : WIDGET_TYPE_SPELLINGS[upper];
  if (widget && widget !== type)
    return `got type ${show(type)}, which ComfyUI does not know as a widget type: expected ${show(widget)} (ComfyUI's widget types are INT, FLOAT, STRING, BOOLEAN and COMBO)`;
  const combo = options as { options?: unknown; remote?: unknown } | undefined;
  // A V3 combo lists its options, or names a route the editor fetches them from (LoadImageOutput's `remote`).
  if (type === 'COMBO' && !Array.isArray(combo?.options) && combo?.remote === undefined)
    return `got a COMBO without its options, expected ["COMBO", {"options": ["a", "b"]}] (or the V1 form [["a", "b"], {}])`;
  return undefined;
}
