import { GPU_MEMORY_MARGIN } from '../policy/gpu-fit';
import { smokeBody } from './smoke';
import type { AppSpec, EndpointSpec } from './spec';

type ModelSpec = AppSpec['models'][number];

/*
 * The warm-up of an app (ComfyApp `warmup`): before a container takes its first request, the runtime runs
 * each warmed endpoint once with a small request, so that its loader nodes' outputs (the models) are in
 * ComfyUI's cache and on the GPU. The first user request then costs what the second does.
 */

/** ComfyApp `warmup`: every endpoint, none, or these paths in this order. */
export type WarmupSetting = 'all' | 'none' | readonly string[];

/** One warm-up run: the endpoint and the request values it is run with. */
export interface WarmStep {
  readonly path: string;
  readonly values: Record<string, unknown>;
  /** GB of the app's declared models its workflow loads (files named in its node inputs). */
  readonly modelGb: number;
}

export interface WarmPlan {
  readonly steps: WarmStep[];
  /** Endpoints the setting names that are not warmed, each with why (a note, or an error when named). */
  readonly skipped: { readonly path: string; readonly why: string }[];
}

/** Int fields that size the work: set to their smallest allowed value in a warm-up request. */
const SIZE_FIELDS = /^(width|height|steps|length|frames|num_frames|batch_size|batch|duration|upscale_by)$/i;

/**
 * Which endpoints to warm, in order, with what. An endpoint is warmed with its smoke request (its
 * `smokeRequest`, else one built from its fields' defaults) at the smallest size its fields allow, all
 * other fields at their defaults. With `'all'`, an endpoint whose request would carry a made-up image or
 * video is left out (a face workflow refuses a gradient): its `smokeRequest`, or naming it, warms it.
 * Endpoints whose models would not fit on the GPU beside those warmed before them (`gpuMemoryGb`, with the
 * fit margin) are skipped: the ones listed first win. An endpoint with Comfy.org partner-API nodes
 * (`partnerNodes`: path → their classes) is never warmed: each run would be a paid call to Comfy.org.
 */
export function warmupPlan(
  setting: WarmupSetting,
  endpoints: readonly EndpointSpec[],
  workflows: Readonly<Record<string, unknown>>,
  models: readonly ModelSpec[],
  gpuMemoryGb: number | undefined,
  partnerNodes: ReadonlyMap<string, readonly string[]> = new Map(),
  margin = GPU_MEMORY_MARGIN,
): WarmPlan {
  const order =
    setting === 'none'
      ? []
      : setting === 'all'
        ? endpoints
        : setting.flatMap((p) => endpoints.filter((e) => e.path === p));
  const steps: WarmStep[] = [];
  const skipped: { path: string; why: string }[] = [];
  const loaded = new Map<string, number>(); // model file → GB, of the endpoints warmed so far
  for (const endpoint of order) {
    const partner = partnerNodes.get(endpoint.path);
    if (partner?.length) {
      skipped.push({
        path: endpoint.path,
        why: `it runs Comfy.org partner-API node(s) (${partner.join(', ')}): a warm-up would be a paid call to Comfy.org, with no model here to load`,
      });
      continue;
    }
    const smoke = smokeBody(endpoint);
    if ('error' in smoke) {
      skipped.push({ path: endpoint.path, why: `no warm-up request can be made up (${smoke.error})` });
      continue;
    }
    const madeUp = endpoint.fields.filter((f) => (f.type === 'image' || f.type === 'video') && f.name in smoke.body);
    if (setting === 'all' && !endpoint.smokeRequest && madeUp.length > 0) {
      skipped.push({
        path: endpoint.path,
        why: `its warm-up would send a made-up ${madeUp[0].type} (${madeUp[0].name}), which a face or mask workflow may refuse — declare the endpoint's smokeRequest with a real one, or name it in warmup`,
      });
      continue;
    }
    const files = modelFiles(workflows[endpoint.workflow.replace(/^workflows\//, '')], models);
    const added = [...files].filter(([file]) => !loaded.has(file));
    const total = [...loaded.values(), ...added.map(([, gb]) => gb)].reduce((a, b) => a + b, 0);
    if (gpuMemoryGb !== undefined && steps.length > 0 && total * margin > gpuMemoryGb) {
      skipped.push({
        path: endpoint.path,
        why: `its models would not fit on the GPU (${gpuMemoryGb} GB) beside those of ${steps.map((s) => s.path).join(', ')}: ${round(total)} GB in all`,
      });
      continue;
    }
    for (const [file, gb] of added) loaded.set(file, gb);
    steps.push({
      path: endpoint.path,
      values: warmValues(endpoint, smoke.body),
      modelGb: round([...files.values()].reduce((a, b) => a + b, 0)),
    });
  }
  return { steps, skipped };
}

/** Every field at its default, then the smoke request's values, then each size field at its minimum. */
function warmValues(endpoint: EndpointSpec, smoke: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of endpoint.fields) if (field.default !== undefined) values[field.name] = field.default;
  Object.assign(values, smoke);
  for (const field of endpoint.fields) {
    if (field.type === 'int' && field.min !== undefined && SIZE_FIELDS.test(field.name)) values[field.name] = field.min;
  }
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The app's model files a workflow names in its nodes' inputs (file name or path under its folder) → GB. */
function modelFiles(graph: unknown, models: readonly ModelSpec[]): Map<string, number> {
  const named = new Set<string>();
  for (const node of Object.values((graph ?? {}) as Record<string, { inputs?: Record<string, unknown> }>)) {
    for (const value of Object.values(node?.inputs ?? {})) if (typeof value === 'string') named.add(value);
  }
  const found = new Map<string, number>();
  for (const model of models) {
    const gb = 'sizeGb' in model ? (model.sizeGb ?? 0) : 0; // a VolumeModel's size is not declared
    if (named.has(model.filename)) found.set(`${model.target}/${model.filename}`, gb);
  }
  return found;
}

const round = (gb: number) => Math.round(gb * 10) / 10;

/**
 * A cold start's expected seconds until the container takes its first request: the container and
 * ComfyUI's start (30 s; 10 s from a memory snapshot), reading the models (3 s per GB, as the
 * startupTimeout floor counts), and each warmed endpoint's small run (15 s). An estimate to weigh against
 * the standing cost of warm containers; verify measures the real one.
 */
export function coldStartSeconds(modelGb: number, warmedEndpoints: number, memorySnapshot: boolean): number {
  return Math.round((memorySnapshot ? 10 : 30) + 3 * modelGb + 15 * warmedEndpoints);
}
