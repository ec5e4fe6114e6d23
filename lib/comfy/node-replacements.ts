import type { ApiGraph, NodeReplacement } from './node-schema';
import type { SchemaSet } from './schema-set';

/** A node the replacements rewrote: `ImageScaleBy` run as `ResizeImageMaskNode`. */
export interface ReplacedNode {
  readonly id: string;
  readonly from: string;
  readonly to: string;
}

/** The replacements a release's `/node_replacements` lists for a class (old class → candidates). */
export function replacementsOf(schemas: SchemaSet, cls: string): readonly NodeReplacement[] {
  return schemas.nodeReplacements[cls] ?? [];
}

/**
 * The graph as ComfyUI's `/prompt` will run it (app/node_replace_manager.py `apply_replacements`): a node
 * whose class the release does not have, but that `/node_replacements` maps onto a class it has, becomes
 * that class, its inputs renamed (or set) by the first replacement's input mapping and dropped otherwise,
 * and links out of it moved to the new output slots. Other nodes are untouched; so is `graph`.
 */
export function applyReplacements(graph: ApiGraph, schemas: SchemaSet): { graph: ApiGraph; replaced: ReplacedNode[] } {
  const replaced: ReplacedNode[] = [];
  let out = graph;
  for (const [id, node] of Object.entries(graph)) {
    if (schemas.get(node.class_type)) continue;
    const replacement = replacementsOf(schemas, node.class_type)[0];
    if (!replacement || !schemas.get(replacement.new_node_id)) continue;
    if (out === graph) out = structuredClone(graph);
    const inputs: Record<string, unknown> = {};
    for (const m of replacement.input_mapping ?? []) {
      if ('set_value' in m) inputs[m.new_id] = m.set_value;
      else if (m.old_id in node.inputs) inputs[m.new_id] = node.inputs[m.old_id];
    }
    out[id] = { ...out[id], class_type: replacement.new_node_id, inputs };
    for (const other of Object.values(out))
      for (const value of Object.values(other.inputs)) {
        if (!Array.isArray(value) || value.length !== 2 || String(value[0]) !== id) continue; // a link [node, slot]
        const moved = (replacement.output_mapping ?? []).find((m) => m.old_idx === value[1]);
        if (moved) value[1] = moved.new_idx;
      }
    replaced.push({ id, from: node.class_type, to: replacement.new_node_id });
  }
  return { graph: out, replaced };
}
