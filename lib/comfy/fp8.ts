import { GPU_TYPES, parseGpu } from '../policy/gpu';

/** A workflow in API format, as far as fp8 needs it. */
type Graph = Readonly<
  Record<string, { readonly class_type: string; readonly inputs: Readonly<Record<string, unknown>> }>
>;

/*
 * fp8 at load (Endpoint / ComfyApp `fp8DiffusionModel`): ComfyUI's UNETLoader casts the diffusion model's
 * weights to fp8 as it loads them (`weight_dtype: fp8_e4m3fn_fast`: e4m3 weights, fp8 matrix products),
 * about a third less GPU memory and faster sampling, with slightly different outputs.
 * @see https://docs.comfy.org/built-in-nodes/loaders/load-diffusion-model
 */

/** The weight_dtype synth writes into each UNETLoader. */
export const FP8_WEIGHT_DTYPE = 'fp8_e4m3fn_fast';

/** The workflow with every UNETLoader loading as fp8 (a copy; the endpoint's file is left as it is). */
export function withFp8DiffusionModel<G extends Graph>(graph: G): G {
  return Object.fromEntries(
    Object.entries(graph).map(([id, node]) => [
      id,
      node.class_type === 'UNETLoader' ? { ...node, inputs: { ...node.inputs, weight_dtype: FP8_WEIGHT_DTYPE } } : node,
    ]),
  ) as G;
}

/**
 * Why fp8 at load cannot be used here: no UNETLoader in the workflow (a checkpoint loader cannot cast), or
 * a GPU of the app without fp8 compute (compute capability 8.9 or later: Ada, Hopper, Blackwell).
 */
export function fp8Problems(graph: Graph, gpus: readonly string[], workflow: string): string[] {
  const problems: string[] = [];
  const loaders = Object.values(graph).filter((n) => n.class_type === 'UNETLoader');
  if (loaders.length === 0) {
    const classes = [...new Set(Object.values(graph).map((n) => n.class_type))].filter((c) => /Loader/.test(c));
    problems.push(
      `fp8DiffusionModel: got true, but ${workflow} has no UNETLoader (its loaders: ${classes.join(', ') || 'none'}): only UNETLoader casts a diffusion model at load (weight_dtype) — load the model with UNETLoader, or leave fp8DiffusionModel out`,
    );
  }
  const slow = gpus.filter((g) => {
    const parsed = parseGpu(g);
    return 'type' in parsed && GPU_TYPES[parsed.type]?.fp8Compute === false;
  });
  if (gpus.length === 0)
    problems.push(
      "fp8DiffusionModel: got true, but the app has no GPU (it runs on the CPU): fp8 at load needs a GPU with fp8 compute (L4, L40S, RTX-PRO-6000, H100, H200, B200) — set the app's gpu, or leave fp8DiffusionModel out",
    );
  if (slow.length > 0)
    problems.push(
      `fp8DiffusionModel: got true, but the app runs on ${slow.join(', ')}, which has no fp8 compute (it needs compute capability 8.9: L4, L40S, RTX-PRO-6000, H100, H200, B200) — choose such GPUs for the app, or leave fp8DiffusionModel out`,
    );
  return problems;
}
