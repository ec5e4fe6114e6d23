import { z } from 'zod';
import { firstReleaseWith } from '../comfy/release-history';
import { coreClassNames, coreVersions, versionKey } from '../comfy/schema-set';
import { madeBy } from '../comfy/ui-convert';

/**
 * What the ComfyUI editor records about a UI-format workflow's nodes, beyond the graph: where each file a
 * loader needs comes from (`properties.models`, also the workflow's top-level `models`) and which pack each
 * node comes from (`properties.cnr_id` + `ver` for a Comfy Registry pack, `comfy-core` for ComfyUI itself;
 * `aux_id`, GitHub `owner/repo`, for an unregistered one). Read from every node, subgraph definitions
 * included. An API-format workflow records none of it.
 * @see https://docs.comfy.org/specs/workflow_json
 */

const modelEntrySchema = z.looseObject({
  name: z.string().min(1),
  url: z.string().min(1),
  directory: z.string().min(1),
  hash: z.string().optional(),
  hash_type: z.string().optional(),
});
export type ModelEntry = z.output<typeof modelEntrySchema>;

const propertiesSchema = z.looseObject({
  cnr_id: z.string().optional(),
  aux_id: z.string().optional(),
  ver: z.string().optional(),
  models: z.array(z.unknown()).optional(),
});

/** A pack as the nodes name it: a registry id with its version, or a GitHub `owner/repo`, and its classes. */
export interface PackRef {
  readonly cnrId?: string;
  readonly auxId?: string;
  /** `properties.ver`: a release (`1.7.9`), a git hash (4–40 hex) or `unknown`. */
  readonly ver?: string;
  readonly classes: string[];
}

export interface UiProperties {
  /** Every well-formed `models` entry, in the order met; malformed ones are in `problems`. */
  readonly models: ModelEntry[];
  /** Packs other than `comfy-core`, by `cnr:<id>` or `git:<owner/repo>`. */
  readonly packs: Map<string, PackRef>;
  /** Classes whose nodes say they are ComfyUI's own (`cnr_id: comfy-core`), with the newest `ver` they give. */
  readonly coreClasses: Map<string, string | undefined>;
  readonly problems: string[];
}

interface UiNodeLike {
  type?: unknown;
  properties?: unknown;
}

export function readUiProperties(workflow: unknown): UiProperties {
  const result: UiProperties = { models: [], packs: new Map(), coreClasses: new Map(), problems: [] };
  const root = (workflow ?? {}) as {
    nodes?: unknown;
    models?: unknown;
    definitions?: { subgraphs?: { nodes?: unknown }[] };
  };
  const nodes: UiNodeLike[] = [
    ...(Array.isArray(root.nodes) ? root.nodes : []),
    ...(root.definitions?.subgraphs ?? []).flatMap((s) => (Array.isArray(s?.nodes) ? s.nodes : [])),
  ];
  const addModels = (entries: unknown, where: string) => {
    for (const entry of Array.isArray(entries) ? entries : []) {
      const parsed = modelEntrySchema.safeParse(entry);
      if (parsed.success) result.models.push(parsed.data);
      else
        result.problems.push(
          `${where}: a models entry ${JSON.stringify(entry)} is not { name, url, directory }: left out`,
        );
    }
  };
  addModels(root.models, 'the workflow');
  for (const node of nodes) {
    const parsed = propertiesSchema.safeParse(node.properties ?? {});
    if (!parsed.success || typeof node.type !== 'string') continue;
    const p = parsed.data;
    addModels(p.models, `node ${node.type}`);
    if (p.cnr_id === 'comfy-core') {
      const seen = result.coreClasses.get(node.type);
      result.coreClasses.set(
        node.type,
        [seen, p.ver]
          .filter((v) => v !== undefined)
          .sort(byRelease)
          .at(-1),
      );
      continue;
    }
    const key = p.cnr_id ? `cnr:${p.cnr_id}` : p.aux_id ? `git:${p.aux_id}` : undefined;
    if (!key) continue;
    const pack = result.packs.get(key) ?? { cnrId: p.cnr_id, auxId: p.aux_id, ver: p.ver, classes: [] };
    if (!pack.classes.includes(node.type)) pack.classes.push(node.type);
    result.packs.set(key, pack);
  }
  return result;
}

/** Orders release strings (`0.3.75` < `0.10.0`); anything else sorts first. */
function byRelease(a: string, b: string): number {
  const key = (v: string) => (/^\d+\.\d+\.\d+$/.test(v) ? v.split('.').reduce((k, n) => k * 1e4 + Number(n), 0) : -1);
  return key(a) - key(b);
}

/**
 * The newest release of `coreVersions()` that made one of a UI workflow's core nodes (`properties.ver`
 * beside `cnr_id: comfy-core`, subgraphs included); undefined when none did (or an API-format file).
 */
export function madeWith(workflow: unknown): string | undefined {
  const w = (workflow ?? {}) as { nodes?: unknown; definitions?: { subgraphs?: { nodes?: unknown }[] } };
  const nodes = [w.nodes, ...(w.definitions?.subgraphs ?? []).map((g) => g?.nodes)].flatMap((n) =>
    Array.isArray(n) ? n : [],
  );
  const known = new Set(coreVersions());
  const made = nodes
    .map((n) => madeBy(n ?? {}))
    .filter((v): v is string => v !== undefined && known.has(v))
    .sort((a, b) => versionKey(a) - versionKey(b))
    .at(-1);
  if (made === undefined) return undefined;
  // Raised to the first release that has every class the nodes name, where a newer snapshot has them.
  const types = nodes.map((n) => (n as { type?: unknown })?.type).filter((t): t is string => typeof t === 'string');
  const needs = types.map((t) => (coreClassNames(made).has(t) ? undefined : firstReleaseWith(t, made)));
  return [made, ...needs.filter((v): v is string => v !== undefined)]
    .sort((a, b) => versionKey(a) - versionKey(b))
    .at(-1);
}
