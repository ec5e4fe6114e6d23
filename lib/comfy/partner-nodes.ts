import type { ApiGraph } from './graph-check';
import type { SchemaSet } from './schema-set';

/** The graph's Comfy.org partner-API nodes (classes the app's ComfyUI marks `api_node`): [node id, class]. */
export function partnerNodesIn(graph: ApiGraph, schemas: SchemaSet): [string, string][] {
  return Object.entries(graph)
    .filter(([, n]) => schemas.get(n.class_type)?.apiNode)
    .map(([id, n]) => [id, n.class_type]);
}

/**
 * Comfy.org partner-API nodes in a graph (classes the app's ComfyUI marks `api_node`): one problem naming
 * them, why they need a decision (they run on Comfy.org's servers with a Comfy.org key per prompt, while
 * the app's GPU idles), and `allow`, how to allow them. None when the graph has none.
 * @see https://docs.comfy.org/tutorials/api-nodes/overview
 */
export function partnerNodeProblems(graph: ApiGraph, schemas: SchemaSet, where: string, allow: string): string[] {
  const found = partnerNodesIn(graph, schemas).map(([id, cls]) => `node ${id} (${cls})`);
  if (found.length === 0) return [];
  const one = found.length === 1;
  return [
    `${where}: ${found.join(', ')} ${one ? 'is a Comfy.org partner-API node: it runs' : 'are Comfy.org partner-API nodes: they run'} on Comfy.org's servers, not the app's GPU (which would idle, paid, while it waits), and need${one ? 's' : ''} a Comfy.org API key with every prompt — to allow them, ${allow}; else use a node that runs on the GPU`,
  ];
}
