import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatDuration } from '../duration';
import { ModalCdkError, parseProps, type Problem } from '../errors';
import type { AppSpec, EndpointSpec } from '../synth/spec';
import { appGpus, GPU_TYPES, gpuMemoryGb, parseGpu } from './gpu';

/**
 * Rule 5 of the client policy (DESIGN §7): apps' GPUs and endpoints' timeouts against measurements of the
 * endpoints executed on a GPU (test/gpu/measure.py on random-weight models: measurements/gpu-h200.json).
 */

/** One endpoint's figures at its default request (measure.py): the same shape with or without fp8 at load. */
const measuredRunSchema = z.strictObject({
  app: z.string(),
  gpu: z.union([z.string(), z.array(z.string())]),
  /** The request size (null: taken from an input image, which the measurement made 1024×1024). */
  width: z.number().nullable().optional(),
  height: z.number().nullable().optional(),
  /** Video frames. */
  frames: z.number().optional(),
  /** The loader nodes: file → model objects (part of a cold start's first request). */
  loadSeconds: z.number().nonnegative(),
  /** The first request, loaders included. */
  firstSeconds: z.number().nonnegative(),
  /** A warm request (loaders cached, a new seed). */
  warmSeconds: z.number().nonnegative(),
  /** torch.cuda.max_memory_allocated in the ComfyUI process, GB (1e9 bytes). */
  peakGpuMemoryGb: z.number().positive(),
});

export const measurementsSchema = z.strictObject({
  device: z.string(),
  driver: z.string().nullable(),
  torch: z.string(),
  comfyui: z.string(),
  date: z.string(),
  endpoints: z.record(
    z.string(),
    measuredRunSchema.extend({
      /** With measure.py --warmup: the app's warm-up request, models loaded fresh (part of a container's start). */
      warmupSeconds: z.number().nonnegative().optional(),
      /** The first default request after the warm-up: what the first user waits once the container is up. */
      firstAfterWarmupSeconds: z.number().nonnegative().optional(),
      warmAfterWarmupSeconds: z.number().nonnegative().optional(),
      /** false: the app's plan leaves the endpoint out (GPU fit); measured with its size fields at their minimum. */
      warmupPlanned: z.boolean().optional(),
      /** The same with its UNETLoaders loading as fp8 (measure.py --fp8; Endpoint fp8DiffusionModel). */
      fp8: measuredRunSchema.optional(),
    }),
  ),
  /** Process start until ComfyUI's node code is imported and CUDA is up (measure.py --warmup). */
  readySeconds: z.number().nonnegative().optional(),
  /** Endpoints that did not execute, and why: counted as unmeasured. */
  failures: z.record(z.string(), z.strictObject({ app: z.string(), error: z.string() })).default({}),
});
export type Measurements = z.infer<typeof measurementsSchema>;

/**
 * An app's GPU must have this much more memory than an endpoint's measured peak (CUDA context, allocator slack, other
 * request sizes).
 */
export const GPU_MEMORY_MARGIN = 1.25;

/**
 * How many times longer a GPU takes than the H200 on the same work: the H200's dense BF16 tensor
 * throughput (989 TFLOPS) over the GPU's, from NVIDIA's datasheets (H100 SXM 989, A100 312, L40S 362,
 * RTX PRO 6000 Blackwell ~500, L4 121, A10 125, T4 65 FP16; B200 2250). An estimate for compute-bound
 * sampling: memory-bound steps differ; measure on the GPU itself where it matters.
 */
export const TIME_FACTOR_VS_H200: Readonly<Record<string, number>> = {
  H200: 1,
  H100: 1,
  'H100!': 1,
  B200: 0.44,
  'B200+': 0.44,
  A100: 3.17,
  'A100-40GB': 3.17,
  'A100-80GB': 3.17,
  L40S: 2.73,
  'RTX-PRO-6000': 1.98,
  A10: 7.91,
  L4: 8.17,
  T4: 15.2,
};

export function loadMeasurements(file: string, shownAs: string): Measurements {
  if (!existsSync(file))
    throw new ModalCdkError([
      {
        path: shownAs,
        message:
          'not found: the measurements file the client policy names (test/gpu/measure.py writes one), or remove measurements from the policy',
      },
    ]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModalCdkError([{ path: shownAs, message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseProps(measurementsSchema, raw, shownAs, 'key');
}

/** An endpoint's measurement with its estimates on `gpu` (the app's first GPU), for the manifest and docs. */
export function measuredOn(measured: Measurements, path: string, gpu: string, fp8 = false): EndpointSpec['measured'] {
  const all = measured.endpoints[path];
  if (!all) return null;
  // An endpoint that loads its diffusion model as fp8 is judged by that variant's figures, where measured
  // (the warm-up figures were measured without it, so they are not carried over).
  const variant = fp8 ? all.fp8 : undefined;
  const m = variant ?? all;
  const parsed = parseGpu(gpu);
  const type = 'type' in parsed ? parsed.type : gpu;
  const estimatedWarmSeconds = Math.round(m.warmSeconds * (TIME_FACTOR_VS_H200[type] ?? 1) * 100) / 100;
  const rate = GPU_TYPES[type]?.usdPerSecond;
  const count = 'count' in parsed ? parsed.count : 1;
  return {
    device: measured.device,
    loadSeconds: m.loadSeconds,
    warmSeconds: m.warmSeconds,
    peakGpuMemoryGb: m.peakGpuMemoryGb,
    ...(!variant &&
      all.firstAfterWarmupSeconds !== undefined && { firstAfterWarmupSeconds: all.firstAfterWarmupSeconds }),
    ...(!variant && all.warmupSeconds !== undefined && { warmupSeconds: all.warmupSeconds }),
    gpu: type,
    estimatedWarmSeconds,
    estimatedUsdPerRequest: rate ? Math.round(estimatedWarmSeconds * rate * count * 1e6) / 1e6 : null,
  };
}

/** Memory and timeout errors per measured endpoint; one acknowledgeable warning per app with unmeasured ones. */
export function gpuFitProblems(
  apps: readonly Omit<AppSpec, 'hash'>[],
  measured: Measurements,
  shownAs: string,
): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  for (const app of apps) {
    const gpus = appGpus(app)
      .map((g) => parseGpu(g))
      .filter((g): g is { type: string; count: number; spec: string } => 'type' in g);
    for (const e of app.endpoints) {
      const m = measured.endpoints[e.path];
      if (!m) continue;
      for (const gpu of gpus) {
        const memoryGb = gpuMemoryGb(gpu.spec)!;
        const neededGb = m.peakGpuMemoryGb * GPU_MEMORY_MARGIN;
        if (memoryGb < neededGb) {
          errors.push({
            path: e.constructPath,
            message: `${e.path}: GPU ${gpu.spec} has ${memoryGb} GB, below the ${neededGb.toFixed(1)} GB it needs (peak ${m.peakGpuMemoryGb} GB measured on ${measured.device} in ${shownAs}, plus ${Math.round((GPU_MEMORY_MARGIN - 1) * 100)}%) (rule 5) — use a GPU with more memory`,
          });
        }
        const factor = TIME_FACTOR_VS_H200[gpu.type] ?? 1;
        const neededSeconds = Math.ceil(m.warmSeconds * factor + m.loadSeconds);
        if (e.timeoutSeconds < neededSeconds) {
          errors.push({
            path: e.constructPath,
            message: `${e.path}: timeout ${formatDuration(e.timeoutSeconds)} is shorter than a cold request needs on ${gpu.type}: ${neededSeconds}s (warm ${m.warmSeconds}s on ${measured.device} × ${factor} for ${gpu.type}, plus ${m.loadSeconds}s of model loading; ${shownAs}) (rule 5) — raise the endpoint's timeout to at least ${formatDuration(neededSeconds)}`,
          });
        }
      }
    }
    const unmeasured = app.endpoints
      .filter((e) => !measured.endpoints[e.path])
      .map((e) => {
        const failure = measured.failures[e.path];
        return failure ? `${e.path} (it failed: ${failure.error})` : e.path;
      });
    if (unmeasured.length > 0) {
      warnings.push({
        path: app.constructPath,
        id: 'gpu-unmeasured',
        message: `app ${app.id}: no GPU measurement in ${shownAs} for ${unmeasured.join(', ')} (rule 5): their GPU memory and timeouts are unchecked — measure them (test/gpu/measure.py)`,
      });
    }
  }
  return { errors, warnings };
}
