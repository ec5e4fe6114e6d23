/**
 * The GPU types Modal accepts (reference/modal.md §3) with what we know of each: memory, the most per
 * container, and the price per second used for `X-Cost-USD`. Modal's client does not check type names
 * (a typo fails only at deploy, on the server), so this catalog is where a bad GPU string is caught.
 */
export interface GpuType {
  /** GPU memory in GB. */
  readonly memoryGb: number;
  /** The most GPUs of this type one container can have (`"H100:8"`). */
  readonly maxCount: number;
  /**
   * USD per GPU-second, from the team's cost tracker (reference/ryla-contract.md §7), which agrees with
   * the third-party price transcriptions in reference/modal.md §3; null where no source gives a price.
   */
  readonly usdPerSecond: number | null;
  /** fp8 matrix products (compute capability 8.9 or later: Ada, Hopper, Blackwell), which fp8DiffusionModel needs. */
  readonly fp8Compute: boolean;
}

export const GPU_TYPES: Readonly<Record<string, GpuType>> = {
  T4: { memoryGb: 16, maxCount: 8, usdPerSecond: 0.000164, fp8Compute: false },
  L4: { memoryGb: 24, maxCount: 8, usdPerSecond: 0.000222, fp8Compute: true },
  A10: { memoryGb: 24, maxCount: 4, usdPerSecond: 0.000306, fp8Compute: false },
  L40S: { memoryGb: 48, maxCount: 8, usdPerSecond: 0.000542, fp8Compute: true },
  A100: { memoryGb: 40, maxCount: 8, usdPerSecond: 0.000556, fp8Compute: false },
  'A100-40GB': { memoryGb: 40, maxCount: 8, usdPerSecond: 0.000556, fp8Compute: false },
  'A100-80GB': { memoryGb: 80, maxCount: 8, usdPerSecond: 0.000694, fp8Compute: false },
  'RTX-PRO-6000': { memoryGb: 48, maxCount: 8, usdPerSecond: null, fp8Compute: true },
  H100: { memoryGb: 80, maxCount: 8, usdPerSecond: 0.001097, fp8Compute: true },
  'H100!': { memoryGb: 80, maxCount: 8, usdPerSecond: 0.001097, fp8Compute: true },
  H200: { memoryGb: 141, maxCount: 8, usdPerSecond: null, fp8Compute: true },
  B200: { memoryGb: 192, maxCount: 8, usdPerSecond: null, fp8Compute: true },
  'B200+': { memoryGb: 192, maxCount: 8, usdPerSecond: null, fp8Compute: true },
};

/** Names that look like GPUs but Modal's current list does not have, with what to write instead. */
const RENAMED: Readonly<Record<string, string>> = { A10G: 'A10' };

export interface ParsedGpu {
  /** Canonical type name as in GPU_TYPES (Modal upper-cases what it is given). */
  readonly type: string;
  readonly count: number;
  /** `TYPE` or `TYPE:n`, as the generated Python will spell it. */
  readonly spec: string;
}

/** An app spec's GPUs, first choice first; none for an app on the CPU (`gpu: null`). */
export function appGpus(app: { readonly gpu: string | readonly string[] | null }): string[] {
  return app.gpu === null ? [] : [app.gpu].flat();
}

/** USD per second of a GPU spec (`"H100:2"`: twice the H100 rate) from the catalog; null when it has no price. */
export function gpuUsdPerSecond(spec: string): number | null {
  const gpu = parseGpu(spec);
  if ('error' in gpu) return null;
  const rate = GPU_TYPES[gpu.type].usdPerSecond;
  return rate === null ? null : Number((rate * gpu.count).toPrecision(6));
}

/** GB of GPU memory of a GPU spec (`"H100:2"`: twice an H100's); undefined when the spec is not one. */
export function gpuMemoryGb(spec: string): number | undefined {
  const gpu = parseGpu(spec);
  return 'error' in gpu ? undefined : GPU_TYPES[gpu.type].memoryGb * gpu.count;
}

/** Parses `"h100"`, `"L40S"`, `"H100:2"`; returns an error message instead when Modal would reject it. */
export function parseGpu(value: string): ParsedGpu | { error: string } {
  const [rawType, rawCount, ...rest] = value.split(':');
  const type = rawType.trim().toUpperCase();
  const valid = Object.keys(GPU_TYPES).join(', ');
  if (rest.length > 0) return { error: `expected "TYPE" or "TYPE:n" with one colon, e.g. "H100:2"` };
  if (!(type in GPU_TYPES)) {
    const hint = RENAMED[type] ? ` ("${type}" is now "${RENAMED[type]}")` : '';
    return { error: `expected a Modal GPU type${hint}: one of ${valid}, optionally with ":n"` };
  }
  const count = rawCount === undefined ? 1 : Number(rawCount);
  const max = GPU_TYPES[type].maxCount;
  if (!Number.isInteger(count) || count < 1 || count > max) {
    return { error: `expected a GPU count from 1 to ${max} for ${type}, e.g. "${type}:2"` };
  }
  return { type, count, spec: count === 1 && rawCount === undefined ? type : `${type}:${count}` };
}
