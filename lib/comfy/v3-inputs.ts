import { type ApiGraph, type InputSpec, MATCHTYPE, type NodeClass, templateOf } from './node-schema';
import type { SchemaSet } from './schema-set';

/**
 * ComfyUI's V3 schema language (0.11 on; comfy_api/latest/_io.py) where a node's inputs and output types
 * depend on the node itself, read the way the server reads them (`get_finalized_class_inputs`):
 * - Autogrow (`COMFY_AUTOGROW_V3`): `images` stands for `images.image0` … `images.image<max-1>` (or
 *   `images.<name>` for a names template), each of the template's type; the first `min` are required when
 *   the template's input is. The group itself takes no value.
 * - DynamicCombo (`COMFY_DYNAMICCOMBO_V3`): a combo of option keys; the chosen option's inputs are the
 *   node's too, as `<combo>.<input>` (nested dynamic inputs are expanded the same way).
 * - MatchType (`COMFY_MATCHTYPE_V3`): an input takes any link its template's `allowed_types` allow; an
 *   output of that template (`output_matchtypes`) has the type of what is linked to the template's inputs.
 * @see https://docs.comfy.org/custom-nodes/v3_migration
 */

/** One option of a DynamicCombo: its key, its inputs by group, and their order. */
interface ComboOption {
  key?: unknown;
  inputs?: Record<string, Record<string, unknown> | undefined>;
  input_order?: Record<string, string[] | undefined>;
}

/** The inputs one node of `cls` has, given its inputs in the graph (dynamic inputs expanded). */
export function nodeInputs(cls: NodeClass, live: Readonly<Record<string, unknown>>): readonly InputSpec[] {
  if (!cls.inputs.some((i) => i.dynamic)) return cls.inputs;
  const out: InputSpec[] = [];
  const add = (spec: InputSpec, prefix: string) => {
    const id = prefix + spec.name;
    if (spec.dynamic === 'autogrow') {
      const template = templateOf(spec.extra) ?? {};
      const input = (template.input ?? {}) as Record<string, Record<string, unknown> | undefined>;
      const group = input.required && Object.keys(input.required).length > 0 ? 'required' : 'optional';
      const raw = Object.values(input[group] ?? {})[0];
      if (raw === undefined) return;
      const names = Array.isArray(template.names)
        ? template.names.map(String)
        : Array.from({ length: Number(template.max ?? 10) }, (_, i) => `${template.prefix ?? ''}${i}`);
      const min = Number(template.min ?? 1);
      names.forEach((name, i) => {
        const sub = cls.readSubInput(`${id}.${name}`, i < min && group === 'required', raw);
        out.push({ ...sub, forceInput: true }); // the template's widget is a socket (Autogrow forces it)
      });
      return;
    }
    // A sub-input gets a control widget only when its spec asks for one: the editor's `seed`-by-name rule is
    // for a class's own inputs (TextGenerate's `sampling_mode.seed` has none in frontend 1.45.21's export).
    const explicit =
      spec.extra.control_after_generate === true || typeof spec.extra.control_after_generate === 'string';
    out.push(prefix ? { ...spec, name: id, controlAfterGenerate: explicit } : spec);
    if (spec.dynamic === 'combo') {
      const chosen = (spec.extra.options as ComboOption[])
        .filter((o) => o && typeof o === 'object')
        .find((o) => o.key === live[id]);
      // Required before optional, as the server lists them and the frontend lays out their widgets (the
      // snapshot's keys are sorted, which would put "optional" first).
      const groups = Object.entries(chosen?.inputs ?? {}).sort(([a], [b]) => groupRank(a) - groupRank(b));
      for (const [group, specs] of groups) {
        // The server's order (the snapshot keeps it as input_order: its keys are sorted) is the widgets' order.
        const order = chosen?.input_order?.[group] ?? Object.keys(specs ?? {});
        for (const name of order)
          if (specs && name in specs) add(cls.readSubInput(name, group === 'required', specs[name]), `${id}.`);
      }
    }
  };
  for (const spec of cls.inputs) add(spec, '');
  return out;
}

/** `required` first, then `optional`, then anything else (`hidden`). */
function groupRank(group: string): number {
  const rank = ['required', 'optional'].indexOf(group);
  return rank < 0 ? 2 : rank;
}

/**
 * The type of output `slot` of node `id`: its declared type, or for a MatchType output the type of the
 * first link into an input of its template (followed through further MatchType nodes); `*` when nothing
 * is linked there (any link fits then, as in ComfyUI's own check).
 */
export function outputType(graph: ApiGraph, schemas: SchemaSet, id: string, slot: number, seen = new Set<string>()) {
  const cls = schemas.get(graph[id]?.class_type);
  const declared = cls?.outputs[slot] ?? '*';
  const template = cls?.outputMatchtypes[slot];
  if (!cls || declared !== MATCHTYPE || !template || seen.has(id)) return declared === MATCHTYPE ? '*' : declared;
  seen.add(id);
  for (const { type } of templateLinks(graph, schemas, id, cls, template, seen)) if (type !== '*') return type;
  return '*';
}

/** The links into a node's inputs of one MatchType template, with the type each brings. */
export function templateLinks(
  graph: ApiGraph,
  schemas: SchemaSet,
  id: string,
  cls: NodeClass,
  template: string,
  seen = new Set<string>([id]),
): { input: string; type: string }[] {
  const live = graph[id].inputs;
  return nodeInputs(cls, live)
    .filter((s) => s.type === MATCHTYPE && templateOf(s.extra)?.template_id === template)
    .flatMap((s) => {
      const value = live[s.name];
      if (!Array.isArray(value) || value.length !== 2) return [];
      return [{ input: s.name, type: outputType(graph, schemas, String(value[0]), Number(value[1]), new Set(seen)) }];
    });
}
