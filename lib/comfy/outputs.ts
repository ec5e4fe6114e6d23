import { show } from '../errors';
import type { OutputFormat } from '../synth/spec';
import { type ApiGraph, at } from './graph-check';
import type { SchemaSet } from './schema-set';

/**
 * The answer formats an output node's files can be given in (the runtime re-encodes a PNG frame as JPEG
 * or WebP; an animation or video passes through as it is). `json` (base64 of every file) fits any output
 * node. A class not listed here is an output node whose files we do not know: only `json` is safe.
 */
const FORMATS: Record<
  string,
  readonly OutputFormat[] | ((inputs: Record<string, unknown>) => readonly OutputFormat[] | undefined)
> = {
  SaveImage: ['png', 'jpeg', 'webp'],
  PreviewImage: ['png', 'jpeg', 'webp'],
  SaveImageWebsocket: ['png', 'jpeg', 'webp'],
  SaveAnimatedWEBP: ['webp'],
  SaveAnimatedPNG: ['png'],
  SaveVideo: (inputs) => (inputs.format === 'auto' || inputs.format === 'mp4' ? ['mp4'] : undefined),
  SaveWEBM: [],
  // VideoHelperSuite: the container follows the chosen format.
  VHS_VideoCombine: (inputs) => {
    const format = inputs.format;
    if (typeof format !== 'string') return undefined; // linked or bound: not known at synth
    if (/^video\/.*-mp4$/.test(format)) return ['mp4'];
    if (format === 'image/webp') return ['webp'];
    return [];
  },
};

/**
 * The answer formats an output node of class `cls` with these `inputs` can give (json aside): [] when none
 * but json, undefined when not known at synth (a class we do not know, or a format that is linked or bound).
 */
export function outputFormats(cls: string, inputs: Record<string, unknown>): readonly OutputFormat[] | undefined {
  const formats = FORMATS[cls];
  return typeof formats === 'function' ? formats(inputs) : formats;
}

/** Ids of the graph's output nodes (classes with `output_node: true`). */
export function outputNodes(graph: ApiGraph, schemas: SchemaSet): string[] {
  return Object.keys(graph).filter((id) => schemas.get(graph[id].class_type)?.outputNode === true);
}

/**
 * Problems with an endpoint's output: the node must be an output node, and one whose files come in the
 * endpoint's `output` format.
 */
export function outputProblems(
  graph: ApiGraph,
  id: string,
  output: OutputFormat,
  schemas: SchemaSet,
  file: string,
): string[] {
  const node = graph[id];
  const cls = node && schemas.get(node.class_type);
  if (!cls) return [];
  const where = `outputNode: ${at(file, id, cls.name)}`;
  if (!cls.outputNode) {
    const candidates = outputNodes(graph, schemas);
    return [
      `${where}: got a node that is not an output node (output_node is false), expected one that saves files — ${candidates.length ? `point outputNode at ${show(candidates)}` : 'add a SaveImage (or another save node) and point outputNode at it'}`,
    ];
  }
  if (output === 'json') return [];
  const known = outputFormats(cls.name, node.inputs);
  if (known === undefined) return [];
  if (!known.includes(output)) {
    const detail = cls.name === 'VHS_VideoCombine' ? ` with format ${show(node.inputs.format)}` : '';
    return [
      `${where}: got output '${output}', expected ${known.length ? `one of ${show(known)}` : "'json'"} (what ${cls.name}${detail} writes) — set output to ${known.length ? `'${known[0]}'` : "'json'"}${cls.name === 'VHS_VideoCombine' ? " or choose a format such as 'video/h264-mp4'" : ''}, or save with another node`,
    ];
  }
  return [];
}
