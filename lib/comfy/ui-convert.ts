import { z } from 'zod';
import { show } from '../errors';
import { closest } from './closest';
import { nodeInputs } from './v3-inputs';
import { formatWidget, isSocketless, isWidget, literalProblem, releaseAdvice } from './graph-check';
import { coreClassNames, coreVersions, SchemaSet, versionKey } from './schema-set';
import type { ApiGraph, GraphNote } from './graph-check';
import { type NodeClass, typeFits } from './node-schema';

/**
 * UI-format workflow (what ComfyUI's "Save" writes) → API format (what "Export (API)" writes and
 * `/prompt` takes), following the rules of the ComfyUI frontend's export, written from those rules:
 * - a node's `widgets_values` are positional over its widget inputs in `input_order` (link-only types and
 *   `forceInput` take no slot); seeds add a `control_after_generate` slot, upload combos an upload-button
 *   slot, neither emitted; a dict `widgets_values` (VideoHelperSuite) is keyed by widget name;
 * - a linked input (a widget converted to an input too) takes the link; a widget fed by a PrimitiveNode
 *   takes the primitive's value;
 * - Reroute, PrimitiveNode, Note and MarkdownNote are virtual: followed or dropped, never emitted;
 * - subgraphs (`definitions.subgraphs`) are flattened, their nodes' ids `<instance>:<inner>`;
 * - muted nodes (mode 2) are dropped with the links from them; bypassed nodes (mode 4) are dropped and
 *   each consumer is wired to the bypassed node's input of the same type (the same slot first).
 * Anything it does not know is an error, never a guess.
 * @see https://docs.comfy.org/specs/workflow_json
 */

const uiLinkSchema = z.union([
  z
    .tuple([
      z.number(),
      z.union([z.number(), z.string()]),
      z.number(),
      z.union([z.number(), z.string()]),
      z.number(),
      z.unknown(),
    ])
    .rest(z.unknown()),
  z.looseObject({
    id: z.number(),
    origin_id: z.union([z.number(), z.string()]),
    origin_slot: z.number(),
    target_id: z.union([z.number(), z.string()]),
    target_slot: z.number(),
    type: z.unknown(),
  }),
]);
const uiNodeSchema = z.looseObject({
  id: z.union([z.number(), z.string()]),
  type: z.string().min(1),
  mode: z.number().optional(),
  title: z.string().optional(),
  inputs: z
    .array(
      z.looseObject({
        name: z.string(),
        type: z.unknown().optional(),
        link: z.number().nullable().optional(),
        widget: z.looseObject({ name: z.string() }).optional(),
      }),
    )
    .optional(),
  widgets_values: z
    .union([z.array(z.unknown()), z.record(z.string(), z.unknown())])
    .nullable()
    .optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
const uiGraphSchema = z.looseObject({ nodes: z.array(uiNodeSchema), links: z.array(uiLinkSchema).default([]) });
const subgraphSchema = uiGraphSchema.extend({
  id: z.string().min(1),
  inputs: z.array(z.looseObject({ name: z.string(), type: z.unknown().optional() })).default([]),
  outputs: z.array(z.looseObject({ name: z.string() })).default([]),
});
export const uiWorkflowSchema = uiGraphSchema.extend({
  definitions: z.looseObject({ subgraphs: z.array(subgraphSchema).default([]) }).optional(),
});
export type UiWorkflow = z.output<typeof uiWorkflowSchema>;
type UiNode = z.output<typeof uiNodeSchema>;
type UiInput = NonNullable<UiNode['inputs']>[number];
type Subgraph = z.output<typeof subgraphSchema>;

/** Whether a parsed JSON value looks like a UI-format workflow (it has `nodes` and `links`). */
export function isUiWorkflow(value: unknown): boolean {
  return (
    !!value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as { nodes?: unknown }).nodes)
  );
}

const VIRTUAL = new Set(['Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode']);
const MUTED = 2;
const BYPASSED = 4;
/** The ids of a subgraph's input and output pseudo-nodes. */
const SUBGRAPH_INPUT = -10;
const SUBGRAPH_OUTPUT = -20;

interface Link {
  origin: string;
  slot: number;
  target: string;
  targetSlot: number;
  type: string;
}
/** One level of the graph: the top, or a subgraph as one instance of it sees it. */
interface Scope {
  readonly prefix: string;
  readonly nodes: Map<string, UiNode>;
  readonly links: Map<number, Link>;
  readonly subgraph?: Subgraph;
  /** The instance node and the scope it is in (for a subgraph). */
  readonly parent?: { scope: Scope; node: UiNode };
}
/**
 * What an input resolves to: a link to a real node's output, a value (a primitive, a subgraph widget), or
 * nothing, with why (the editor shows the input empty: its source is muted, a bypass passes nothing on, …).
 */
/** What a link gives: a node's output, a value, or nothing, with why and (`fix`) what to do in the editor. */
type Resolved = { link: [string, number] } | { value: unknown } | { empty: string; fix?: string } | undefined;

/** Why each UI node that the export leaves out is not in the API graph (for binding and output errors). */
export type DroppedNodes = Record<string, string>;

/** Converts a UI-format workflow; returns the API graph or every problem found. */
export function convertUiWorkflow(
  value: unknown,
  schemas: SchemaSet,
): { graph: ApiGraph; dropped: DroppedNodes; notes: GraphNote[] } | { problems: string[] } {
  const parsed = uiWorkflowSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      problems: [`not a UI-format workflow at ${issue.path.map(String).join('.') || 'the top'}: ${issue.message}`],
    };
  }
  const converter = new Converter(parsed.data, schemas);
  converter.scope(parsed.data, '', undefined);
  converter.noteNewerNodes();
  return converter.problems.length
    ? { problems: converter.problems }
    : { graph: converter.graph, dropped: converter.dropped, notes: converter.notes };
}

class Converter {
  public readonly graph: ApiGraph = {};
  public readonly problems: string[] = [];
  public readonly dropped: DroppedNodes = {};
  /** What the export decided that the user should know (an input a newer release added took its default). */
  public readonly notes: GraphNote[] = [];
  /** Emitted core nodes by the newer release than the app's that made them (`properties.ver`). */
  private readonly newer = new Map<string, string[]>();
  private readonly subgraphs: Map<string, Subgraph>;

  constructor(
    workflow: UiWorkflow,
    private readonly schemas: SchemaSet,
  ) {
    this.subgraphs = new Map((workflow.definitions?.subgraphs ?? []).map((s) => [s.id, s]));
    const all = [...workflow.nodes, ...(workflow.definitions?.subgraphs ?? []).flatMap((s) => s.nodes)];
    this.newest = all
      .map((n) => madeBy(n))
      .filter((v): v is string => v !== undefined)
      .sort((a, b) => versionKey(a) - versionKey(b))
      .at(-1);
  }

  /** The newest release that made one of the workflow's core nodes: the editor that saved it was at least that. */
  private readonly newest: string | undefined;

  /** Emits the real nodes of one graph level, recursing into subgraph instances. */
  public scope(
    graph: z.output<typeof uiGraphSchema>,
    prefix: string,
    parent: Scope['parent'],
    subgraph?: Subgraph,
  ): void {
    const scope: Scope = {
      prefix,
      nodes: new Map(graph.nodes.map((n) => [String(n.id), n])),
      links: new Map(graph.links.map((l) => toLink(l))),
      subgraph,
      parent,
    };
    for (const node of graph.nodes) {
      if (node.mode === MUTED || node.mode === BYPASSED || VIRTUAL.has(node.type)) {
        this.dropped[`${prefix}${node.id}`] = this.whyDropped(scope, node);
        continue;
      }
      const inner = this.subgraphs.get(node.type);
      if (inner) {
        if (parent && this.isAncestor(scope, inner.id))
          this.problems.push(
            `node ${prefix}${node.id}: subgraph ${show(inner.name ?? inner.id)} contains itself — not supported`,
          );
        else this.scope(inner, `${prefix}${node.id}:`, { scope, node }, inner);
        continue;
      }
      this.emit(scope, node);
    }
  }

  private isAncestor(scope: Scope, id: string): boolean {
    for (let s: Scope | undefined = scope; s; s = s.parent?.scope) if (s.subgraph?.id === id) return true;
    return false;
  }

  /** One note per newer release that made some of the workflow's core nodes (DESIGN: notes never block). */
  public noteNewerNodes(): void {
    for (const [ver, nodes] of [...this.newer].sort(([a], [b]) => versionKey(a) - versionKey(b)))
      this.notes.push({
        id: 'node-newer',
        message: `${nodes.length === 1 ? 'node' : 'nodes'} ${nodes.slice(0, 6).join(', ')}${nodes.length > 6 ? ` and ${nodes.length - 6} more` : ''} ${nodes.length === 1 ? 'was' : 'were'} made by ComfyUI ${ver} (properties.ver), newer than the ${this.schemas.coreVersion} the app runs: checked as ${this.schemas.coreVersion}'s classes, which is what will run`,
      });
  }

  private emit(scope: Scope, node: UiNode): void {
    const id = `${scope.prefix}${node.id}`;
    const made = madeBy(node);
    if (
      made &&
      versionKey(made) > versionKey(this.schemas.coreVersion) &&
      coreClassNames(this.schemas.coreVersion).has(node.type)
    )
      this.newer.set(made, [...(this.newer.get(made) ?? []), `${id} (${node.type})`]);
    const cls = this.schemas.get(node.type);
    if (!cls) {
      const advice = releaseAdvice(node.type, this.schemas);
      this.problems.push(
        advice
          ? `node ${id} (${node.type}): ${advice}`
          : `node ${id} (${node.type}): got type ${show(node.type)}, expected a node class of ComfyUI ${this.schemas.coreVersion} or of the custom nodes' schemas (closest: ${closest(node.type, this.schemas.classNames()).join(', ')}) — add the CustomNode (modal-cdk workflow: --custom-nodes) that provides it, or fix the type`,
      );
      return;
    }
    const inputs = this.widgetValues(id, node, cls);
    if (!inputs) return;
    for (const input of node.inputs ?? []) {
      if (input.link === null || input.link === undefined) continue;
      const link = scope.links.get(input.link);
      if (!link) {
        this.problems.push(
          `node ${id} (${cls.name}) input ${input.name}: got link ${input.link}, which the workflow's links lack — re-save the workflow in ComfyUI`,
        );
        continue;
      }
      const resolved = this.resolve(scope, link.origin, link.slot, link.type, id, new Set());
      if (resolved && 'link' in resolved) inputs[input.name] = resolved.link;
      else if (resolved && 'value' in resolved) inputs[input.name] = resolved.value;
      else if (resolved && nodeInputs(cls, inputs).find((i) => i.name === input.name)?.required) {
        this.problems.push(
          `node ${id} (${cls.name}) input ${input.name}: empty in the export, because ${resolved.empty}, and ComfyUI refuses a prompt whose required input is missing — ${resolved.fix ?? 'un-mute or un-bypass that node in the editor (Ctrl+M / Ctrl+B)'}, or connect another source to ${input.name}`,
        );
      }
    }
    this.graph[id] = {
      class_type: cls.name,
      inputs,
      _meta: { title: node.title ?? cls.displayName },
    } as ApiGraph[string];
  }

  /** The node's widget values by input name (only those the API takes), or undefined after a problem. */
  private widgetValues(id: string, node: UiNode, cls: NodeClass): Record<string, unknown> | undefined {
    const saved = node.widgets_values ?? [];
    const values = Array.isArray(saved) ? [...saved] : saved;
    const inputs: Record<string, unknown> = {};
    if (!Array.isArray(values)) {
      // Keyed by widget name (VideoHelperSuite): keep the class's inputs and its format's widgets.
      for (const [name, value] of Object.entries(values)) {
        const spec = cls.byName.get(name);
        if ((spec && isWidget(spec)) || (!spec && formatWidget(cls, values, name))) inputs[name] = value;
      }
      return inputs;
    }
    const slots = widgetSlots(cls, values);
    // A display-only widget the frontend adds after running (GetImageSize's "512 x 512") is saved but never exported.
    const display = DISPLAY_WIDGETS[cls.name] ?? 0;
    if (values.length > slots.length && values.length <= slots.length + display) values.splice(slots.length);
    slots.forEach((slot, i) => {
      if (slot.emitted && i < values.length) inputs[slot.name] = values[i];
    });
    if (values.length === slots.length) return inputs;
    const older =
      values.length < slots.length
        ? (this.editorWidgets(cls, slots, values.length) ?? this.trailingDefaults(id, node, cls, slots, values.length))
        : undefined;
    if (older) {
      for (const [name, value] of Object.entries(older)) inputs[name] = value;
      return inputs;
    }
    if (values.length > slots.length && this.extraDropped(id, cls, slots, values, inputs, madeBy(node))) return inputs;
    this.problems.push(
      `node ${id} (${cls.name}): got ${values.length} widgets_values ${show(values)}, expected ${slots.length} for the widgets ${show(slots.map((s) => s.name))} of ${cls.source} — ${savedWith(node, cls, this.schemas, values.length > slots.length ? this.newest : undefined)}`,
    );
    return undefined;
  }

  /**
   * More saved values than the class has widgets (a newer editor saved widgets this release lacks): the
   * editor of the app's release puts the values on its widgets in order and drops the rest, and so does
   * this, with a note, when each value fits the widget it lands on; false (refused) when one does not.
   */
  private extraDropped(
    id: string,
    cls: NodeClass,
    slots: readonly { name: string; emitted: boolean }[],
    values: readonly unknown[],
    inputs: Record<string, unknown>,
    made: string | undefined,
  ): boolean {
    const specs = new Map(nodeInputs(cls, inputs).map((i) => [i.name, i]));
    const fits = slots.every(
      (slot, i) =>
        !slot.emitted || (specs.has(slot.name) && literalProblem(specs.get(slot.name)!, values[i]) === undefined),
    );
    if (!fits) return false;
    const older = made !== undefined && versionKey(made) < versionKey(this.schemas.coreVersion);
    const whose = older ? `widgets ${cls.source}'s ${cls.name} no longer has` : 'widgets of a newer ComfyUI';
    this.notes.push({
      id: 'widget-dropped',
      message: `node ${id} (${cls.name}) was saved with ${values.length} widget values, ${cls.source}'s ${cls.name} has ${slots.length}: the first ${slots.length} fill its widgets and ${show(values.slice(slots.length))} (${whose}) ${values.length - slots.length === 1 ? 'is' : 'are'} dropped, as this release's editor drops them — check that each value is where you meant it`,
    });
    return true;
  }

  /**
   * The values of the missing widgets when each is one of the editor's own kind (socketless, e.g.
   * ImageCompare's `compare_view`, saved only once the node has run): the editor's starting value.
   */
  private editorWidgets(
    cls: NodeClass,
    slots: readonly { name: string; emitted: boolean }[],
    saved: number,
  ): Record<string, unknown> | undefined {
    const missing = slots.slice(saved).filter((s) => s.emitted);
    const specs = missing.map((s) => cls.byName.get(s.name));
    if (!specs.every((spec) => spec && isSocketless(spec) && FRONTEND_DEFAULTS[spec.type] !== undefined))
      return undefined;
    return Object.fromEntries(specs.map((spec) => [spec!.name, FRONTEND_DEFAULTS[spec!.type]]));
  }

  /**
   * The widgets after the saved ones, at their defaults, as the editor sets them when it opens a node saved
   * with fewer widgets than its class now has (values are positional; the rest keep their defaults), with
   * a note — saying which older release had exactly the saved widgets, when a snapshot shows one. Undefined
   * when a missing widget has no default (the editor would leave it empty, and ComfyUI would refuse it).
   */
  private trailingDefaults(
    id: string,
    node: UiNode,
    cls: NodeClass,
    slots: readonly { name: string; emitted: boolean }[],
    saved: number,
  ): Record<string, unknown> | undefined {
    const values = node.widgets_values as unknown[];
    const live: Record<string, unknown> = {};
    slots.slice(0, saved).forEach((slot, i) => {
      if (slot.emitted) live[slot.name] = values[i];
    });
    const specs = new Map(nodeInputs(cls, live).map((i) => [i.name, i]));
    const names = slots.slice(0, saved).map((s) => s.name);
    const before = coreClassNames(this.schemas.coreVersion).has(cls.name)
      ? coreVersions().find((v) => {
          if (versionKey(v) >= versionKey(this.schemas.coreVersion)) return false;
          const old = SchemaSet.for(v, []).get(cls.name);
          const layout = old && widgetSlots(old, values).map((s) => s.name);
          return layout !== undefined && layout.length === saved && layout.every((n, i) => n === names[i]);
        })
      : undefined;
    // Without a release that explains it, only a node made by an older release whose saved values each fit
    // the widget they land on (a widget inserted before others would shift them, and the editor would too).
    const made = madeBy(node);
    const fits = Object.entries(live).every(([n, v]) => {
      const spec = specs.get(n);
      return spec !== undefined && literalProblem(spec, v) === undefined;
    });
    if (!before && !(made && versionKey(made) < versionKey(this.schemas.coreVersion) && fits)) return undefined;
    const added: Record<string, unknown> = {};
    for (const slot of slots.slice(saved)) {
      if (!slot.emitted) continue;
      const spec = specs.get(slot.name);
      const value = spec?.default ?? (spec && isSocketless(spec) ? FRONTEND_DEFAULTS[spec.type] : undefined);
      if (value === undefined) {
        if (spec?.required) return undefined; // the editor would leave it empty, and ComfyUI refuse it
        continue;
      }
      added[slot.name] = value;
    }
    const set = Object.entries(added).map(([n, v]) => `${n} = ${show(v)}`);
    this.notes.push({
      id: 'widget-added',
      message: `node ${id} (${cls.name}) was saved with ${saved} widget values, ${cls.source}'s ${cls.name} has ${slots.length}: ${
        before
          ? `ComfyUI ${before}'s had exactly the saved ones; the newer ones take their defaults (${set.join(', ')})`
          : `the node was made by ComfyUI ${made}; its values fill the first ${saved} widgets and the rest take their defaults (${set.join(', ') || 'none sent'}), as the editor does when it opens the workflow — check that each value is where you meant it`
      }`,
    });
    return added;
  }

  /**
   * What output `slot` of node `origin` (in `scope`) gives a consumer: a real node's output, a value, or
   * nothing with why. `seen` holds the Reroutes and bypassed nodes followed so far (a cycle of them is an error).
   */
  private resolve(
    scope: Scope,
    origin: string,
    slot: number,
    type: string,
    consumer: string,
    seen: Set<string>,
  ): Resolved {
    if (Number(origin) === SUBGRAPH_INPUT) return this.fromSubgraphInput(scope, slot, type, consumer, seen);
    const node = scope.nodes.get(origin);
    if (!node) {
      this.problems.push(
        `node ${consumer}: got a link from node ${scope.prefix}${origin}, which the workflow lacks — re-save the workflow in ComfyUI`,
      );
      return undefined;
    }
    const id = `${scope.prefix}${node.id}`;
    const named = `node ${id} (${node.type})`;
    if (node.mode === MUTED) return { empty: `its source ${named} is muted (mode 2)` };
    const follow = (input: UiInput | undefined, passes: string): Resolved => {
      if (seen.has(id)) {
        this.problems.push(
          `node ${consumer}: the link into it goes round a cycle of ${[...seen, id].map((n) => `node ${n}`).join(' → ')} — a Reroute or bypassed node that feeds itself has no source: remove one of those links in the editor`,
        );
        return undefined;
      }
      const link = input?.link === null || input?.link === undefined ? undefined : scope.links.get(input.link);
      if (!link)
        return {
          empty: `its source ${named} ${passes}, and nothing is connected to ${input ? `its input ${input.name}` : 'it'}`,
          fix: `connect a source to ${named}${node.mode === BYPASSED ? ', or un-bypass it (Ctrl+B)' : ''}`,
        };
      return this.resolve(scope, link.origin, link.slot, type, consumer, new Set([...seen, id]));
    };
    if (node.mode === BYPASSED) {
      // The consumer gets what flows into an input of the bypassed node that the link's type fits, as the
      // editor picks it: the same slot when it fits, else the first input of exactly that type, else the
      // first that fits (a `*` input, such as PreviewAny's, passes anything on).
      const inputs = node.inputs ?? [];
      const fits = (i: number) => inputs[i] !== undefined && typeFits(type, [String(inputs[i].type)]);
      const index = fits(slot)
        ? slot
        : ([...inputs.keys()].find((i) => inputs[i].type === type) ?? [...inputs.keys()].find(fits));
      if (index === undefined)
        return { empty: `its source ${named} is bypassed (mode 4) and has no ${type} input to pass on` };
      return follow(inputs[index], 'is bypassed (mode 4)');
    }
    if (node.type === 'Reroute') return follow(node.inputs?.[0], 'is a Reroute');
    if (node.type === 'PrimitiveNode') {
      const values = Array.isArray(node.widgets_values) ? node.widgets_values : [];
      return values.length ? { value: values[0] } : { empty: `its source ${named} holds no value` };
    }
    if (VIRTUAL.has(node.type)) return { empty: `its source ${named} is a note, which carries no value` };
    const inner = this.subgraphs.get(node.type);
    if (inner) {
      const child: Scope = {
        prefix: `${scope.prefix}${node.id}:`,
        nodes: new Map(inner.nodes.map((n) => [String(n.id), n])),
        links: new Map(inner.links.map((l) => toLink(l))),
        subgraph: inner,
        parent: { scope, node },
      };
      const out = [...child.links.values()].find((l) => Number(l.target) === SUBGRAPH_OUTPUT && l.targetSlot === slot);
      return out
        ? this.resolve(child, out.origin, out.slot, type, consumer, seen)
        : {
            empty: `output ${slot} of subgraph ${named} is connected to nothing inside it`,
            fix: `open the subgraph (node ${id}) in the editor and connect its output ${slot} inside it`,
          };
    }
    return { link: [id, slot] };
  }

  /**
   * Why a UI node is not in the API graph, and which nodes really take what it holds: for an endpoint that
   * binds it or names it as its output node.
   */
  private whyDropped(scope: Scope, node: UiNode): string {
    const named = `node ${scope.prefix}${node.id} (${node.type})`;
    const receivers = this.receivers(scope, String(node.id), new Set());
    const into = receivers.length ? `; what it holds goes to ${receivers.join(', ')}` : '';
    if (node.mode === MUTED)
      return `${named} is muted in the editor (mode 2), so the export leaves it out and ComfyUI never runs it — un-mute it (Ctrl+M), or use another node`;
    if (node.mode === BYPASSED)
      return `${named} is bypassed in the editor (mode 4), so the export leaves it out and passes its inputs through${into} — un-bypass it (Ctrl+B), or use another node`;
    if (node.type === 'PrimitiveNode')
      return `${named} is a PrimitiveNode: the export writes its value into the inputs it feeds and leaves it out${into} — bind ${receivers[0] ?? 'the input it feeds'} instead`;
    if (node.type === 'Reroute')
      return `${named} is a Reroute, which only passes a link on, and the export leaves it out${into} — use ${receivers[0] ?? 'the node it leads to'} instead`;
    return `${named} is a note, which ComfyUI does not run`;
  }

  /** The real nodes' inputs (`node "5" input seed`) that node `id`'s outputs reach, through Reroutes. */
  private receivers(scope: Scope, id: string, seen: Set<string>): string[] {
    if (seen.has(id)) return [];
    seen.add(id);
    return [...scope.links.values()]
      .filter((l) => l.origin === id)
      .flatMap((l) => {
        const target = scope.nodes.get(l.target);
        if (!target) return [];
        if (target.type === 'Reroute') return this.receivers(scope, l.target, seen);
        const input = target.inputs?.[l.targetSlot];
        return [`node "${scope.prefix}${target.id}" input ${input?.widget?.name ?? input?.name ?? l.targetSlot}`];
      });
  }

  /** A subgraph input: the instance's link into it, else the value of the widget it was promoted to. */
  private fromSubgraphInput(scope: Scope, slot: number, type: string, consumer: string, seen: Set<string>): Resolved {
    const { parent, subgraph } = scope;
    const declared = subgraph?.inputs[slot];
    if (!parent || !declared) {
      this.problems.push(
        `node ${consumer}: got a link from subgraph input ${slot}, which ${subgraph ? 'the subgraph does not declare' : 'exists only inside a subgraph'} — re-save the workflow in ComfyUI`,
      );
      return undefined;
    }
    const outer = (parent.node.inputs ?? []).find((i) => i.name === declared.name);
    const link = outer?.link === null || outer?.link === undefined ? undefined : parent.scope.links.get(outer.link);
    if (link) return this.resolve(parent.scope, link.origin, link.slot, type, consumer, seen);
    const proxies = parent.node.properties?.proxyWidgets;
    const values = Array.isArray(parent.node.widgets_values) ? parent.node.widgets_values : [];
    if (Array.isArray(proxies)) {
      const index = proxies.findIndex((p) => Array.isArray(p) && String(p[0]) === '-1' && p[1] === declared.name);
      if (index >= 0) return index < values.length ? { value: values[index] } : undefined;
      return this.promotedValue(scope, slot, proxies);
    }
    return undefined;
  }

  /**
   * The value of an unlinked subgraph input whose widget a newer editor promoted from a node inside
   * (`proxyWidgets` entry `[inner node id, widget]`, no value saved outside): that inner widget's value, as
   * frontend 1.45.21 exports it to every inner node the input feeds.
   */
  private promotedValue(scope: Scope, slot: number, proxies: unknown[]): Resolved {
    for (const link of scope.links.values()) {
      if (Number(link.origin) !== SUBGRAPH_INPUT || link.slot !== slot) continue;
      const inner = scope.nodes.get(link.target);
      const name = inner?.inputs?.[link.targetSlot]?.name;
      if (!inner || !proxies.some((p) => Array.isArray(p) && String(p[0]) === link.target && p[1] === name)) continue;
      const cls = this.schemas.get(inner.type);
      const saved = Array.isArray(inner.widgets_values) ? inner.widgets_values : [];
      const index = cls ? widgetSlots(cls, saved).findIndex((s) => s.name === name) : -1;
      if (index >= 0 && index < saved.length) return { value: saved[index] };
    }
    return undefined;
  }
}

function toLink(l: z.output<typeof uiLinkSchema>): [number, Link] {
  if (Array.isArray(l))
    return [l[0], { origin: String(l[1]), slot: l[2], target: String(l[3]), targetSlot: l[4], type: String(l[5]) }];
  return [
    l.id,
    {
      origin: String(l.origin_id),
      slot: l.origin_slot,
      target: String(l.target_id),
      targetSlot: l.target_slot,
      type: String(l.type),
    },
  ];
}

/**
 * Widgets a frontend extension adds after a class's own, which its export emits although the server does
 * not declare them (seen in the frontend 1.32.9 export of the 0.7.25 templates: SaveGLB's 3D preview).
 */
const FRONTEND_WIDGETS: Record<string, readonly { name: string; emitted: boolean }[]> = {
  SaveGLB: [{ name: 'image', emitted: true }],
};

/**
 * Widgets a core node's frontend code adds in a number the saved values decide, each exported: 0.28.2's
 * CustomCombo saves `[choice, index, option1, …, optionN]` and its export sends every one of them.
 */
const FRONTEND_LISTS: Record<string, (values: readonly unknown[]) => { name: string; emitted: boolean }[]> = {
  CustomCombo: (values) =>
    values.length < 2
      ? []
      : [
          { name: 'index', emitted: true },
          ...values.slice(2).map((_, i) => ({ name: `option${i + 1}`, emitted: true })),
        ],
};

/**
 * Display-only widgets a core node's frontend code adds when the node has run, saved in `widgets_values`
 * after the class's own and left out of the export: GetImageSize shows the size it read, PreviewAny the
 * text it previews. A workflow saved before the node ran has no such value, so it is optional.
 */
const DISPLAY_WIDGETS: Record<string, number> = { GetImageSize: 1, PreviewAny: 3 };

/** The value the editor gives a socketless widget of its own kind when the workflow saved none. */
const FRONTEND_DEFAULTS: Record<string, unknown> = { IMAGECOMPARE: {} };

/** The ComfyUI release a core node was made with (`properties.ver` beside `cnr_id: comfy-core`), if it says. */
export function madeBy(node: { properties?: Record<string, unknown> }): string | undefined {
  const p = node.properties ?? {};
  return p.cnr_id === 'comfy-core' && typeof p.ver === 'string' && /^\d+\.\d+\.\d+$/.test(p.ver) ? p.ver : undefined;
}

/** Why a node's saved widgets do not fit the class, and what to do: from the release that saved it. */
function savedWith(node: UiNode, cls: NodeClass, schemas: SchemaSet, newest?: string): string {
  // More values than the class has: a newer editor saved the node (at least the workflow's newest node's release).
  const own = madeBy(node);
  const ver = newest && (!own || versionKey(newest) > versionKey(own)) ? newest : own;
  const core = coreClassNames(schemas.coreVersion).has(cls.name);
  if (core && ver && versionKey(ver) > versionKey(schemas.coreVersion)) {
    const known = coreVersions().filter(
      (v) => versionKey(v) > versionKey(schemas.coreVersion) && versionKey(v) <= versionKey(ver),
    );
    return known.length > 0
      ? `the node was saved by ComfyUI ${ver} or later (properties.ver), newer than the app's ${schemas.coreVersion}: set the app's comfyVersion to '${known.at(-1)}' (import: --comfy-version ${known.at(-1)})`
      : `the node was saved by ComfyUI ${ver} or later (properties.ver), newer than every release modal-cdk has node schemas of (${coreVersions().join(', ')}): needs ComfyUI ≥ ${ver} — run it, dump its schemas (\`modal-cdk schemas dump --url <ComfyUI> --core --out nodes/comfyui-${ver}.json\`) and give them as the app's nodeSchemas with comfyVersion '${ver}', or re-save the workflow in ComfyUI ${schemas.coreVersion}`;
  }
  if (core && ver && versionKey(ver) < versionKey(schemas.coreVersion))
    return coreVersions().includes(ver)
      ? `the node was made by ComfyUI ${ver} (properties.ver), whose ${cls.name} has other widgets: set the app's comfyVersion to '${ver}' (import: --comfy-version ${ver}), or re-save the workflow in ComfyUI ${schemas.coreVersion}`
      : `the node was made by ComfyUI ${ver} (properties.ver), whose ${cls.name} had other widgets, and modal-cdk has no node schemas of that release: re-save the workflow in ComfyUI ${schemas.coreVersion} (its editor places the values), or dump ${ver}'s schemas (\`modal-cdk schemas dump --url <ComfyUI> --core\`) and give them as the app's nodeSchemas with comfyVersion '${ver}'`;
  return 'the workflow was saved with another version of the node: open and re-save it in a ComfyUI with that version, or export it with "Export (API)"';
}

/**
 * The UI's widget slots of a class, in `widgets_values` order, and whether each reaches the API. A V3
 * DynamicCombo's chosen option adds its own widgets right after it (ResizeImageMaskNode saves
 * `["scale longer dimension", 2048, "lanczos"]`: the key, `resize_type.longer_size`, then `scale_method`),
 * so the slots depend on the saved `values`.
 */
export function widgetSlots(cls: NodeClass, values: readonly unknown[] = []): { name: string; emitted: boolean }[] {
  const live: Record<string, unknown> = {};
  for (;;) {
    const slots: { name: string; emitted: boolean }[] = [];
    let changed = false;
    for (const spec of nodeInputs(cls, live)) {
      if (!isWidget(spec)) continue;
      if (spec.dynamic === 'combo' && live[spec.name] !== values[slots.length] && values.length > slots.length) {
        live[spec.name] = values[slots.length];
        changed = true;
        break; // the chosen option's widgets follow it: read the slots again with it
      }
      slots.push({ name: spec.name, emitted: true });
      if (spec.controlAfterGenerate) slots.push({ name: 'control_after_generate', emitted: false });
      // An audio upload combo also gets the frontend's player widget (seen in the templates' LoadAudio).
      if (spec.upload === 'audio') slots.push({ name: 'audioUI', emitted: false });
      // The upload button of a file combo (LoadImage); a widget of its own kind (Painter's PAINTER) has none.
      if (spec.upload && typeof spec.extra.widgetType !== 'string') slots.push({ name: 'upload', emitted: false });
    }
    if (!changed)
      return [...slots, ...(FRONTEND_WIDGETS[cls.name] ?? []), ...(FRONTEND_LISTS[cls.name]?.(values) ?? [])];
  }
}
