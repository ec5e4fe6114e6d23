/**
 * Request fields the RYLA endpoints share, with today's names and defaults (reference/ryla-contract.md §3).
 * Each helper returns plain `EndpointInput`s, so an endpoint reads as the list of its fields.
 */
import type { EndpointInput } from '../../constructs';

export type Inputs = Record<string, EndpointInput>;

/** The negative prompt the Flux endpoints use when a request sends none or an empty one. */
export const FLUX_DEFAULT_NEGATIVE =
  'ugly, deformed, disfigured, bad anatomy, poorly drawn hands, poorly drawn face, blurry, low quality, cartoon, anime, 3d render, illustration';

/** Qwen-Image's quality negative (as in Comfy's Qwen-Image template), used when a request sends none. */
export const QWEN_DEFAULT_NEGATIVE =
  '低分辨率，低画质，肢体畸形，手指畸形，画面过饱和，蜡像感，人脸无细节，过度光滑，画面具有AI感。构图混乱。文字模糊，扭曲。';

/** `prompt` → a CLIPTextEncode-like node; `trigger_word` (if given) is put in front of it. */
export function prompt(node: string, input = 'text', opts: { default?: string; triggerWord?: boolean } = {}): Inputs {
  return {
    prompt: {
      type: 'string',
      node,
      input,
      minLength: 1,
      maxLength: 10000,
      description: 'What to generate',
      // Clients send "" for "use the default" where there is one (Qwen's "A beautiful woman").
      ...(opts.default !== undefined && { default: opts.default, defaultWhenEmpty: true }),
      ...(opts.triggerWord && { format: '{trigger_word} {prompt}' }),
    },
    ...(opts.triggerWord && {
      trigger_word: {
        type: 'string',
        default: '',
        maxLength: 200,
        description: "The LoRA's trigger word, put in front of the prompt",
      },
    }),
  };
}

/** `negative_prompt`; with a non-empty default, an empty string also gets the default (as today). */
export function negativePrompt(node: string, fallback = '', input = 'text'): Inputs {
  return {
    negative_prompt: {
      type: 'string',
      node,
      input,
      default: fallback,
      maxLength: 10000,
      description: 'What to avoid',
      ...(fallback !== '' && { defaultWhenEmpty: true }),
    },
  };
}

/** `width` and `height` of a latent-image node. */
export function size(node: string, width: number, height: number, max = 2048): Inputs {
  return {
    width: { type: 'int', node, input: 'width', default: width, min: 64, max, description: 'Output width in pixels' },
    height: {
      type: 'int',
      node,
      input: 'height',
      default: height,
      min: 64,
      max,
      description: 'Output height in pixels',
    },
  };
}

/** `seed`: fixed `fixed` when left out (Flux, SDXL, Z-Image), else random. */
export function seed(node: string, input = 'seed', fixed?: number, max?: number): Inputs {
  return {
    seed: {
      type: 'seed',
      node,
      input,
      description: fixed === undefined ? 'Random when left out' : `Fixed ${fixed} when left out`,
      ...(fixed !== undefined && { default: fixed }),
      ...(max !== undefined && { max }),
    },
  };
}

/** `steps` of one or more samplers (or schedulers), all set to the same value. */
export function steps(nodes: string[], fallback: number, max = 150): EndpointInput {
  const [node, ...more] = nodes;
  return {
    type: 'int',
    node,
    input: 'steps',
    default: fallback,
    min: 1,
    max,
    alsoSets: more.map((n) => ({ node: n, input: 'steps' })),
  };
}

/** `steps` and `cfg` of a sampler. */
export function sampling(node: string, stepCount: number, cfg: number): Inputs {
  return {
    steps: steps([node], stepCount),
    cfg: { type: 'float', node, input: 'cfg', default: cfg, min: 0, max: 30, alsoSets: [] },
  };
}

/**
 * `lora_id` / `lora_name` / `lora_strength` for LoRA loaders (Wan's two experts each have one). The LoRA folder of the
 * `ryla-models`
 * volume is linked into ComfyUI as `folder`, so names are `<folder>/<file>`; a name ComfyUI does not list is a 422.
 * `lora_name` wins when both
 * are sent (it is declared last); a request must send one of them (the endpoint's requireOneOf).
 */
export function lora(
  loaders: string[],
  folder: string,
  idPattern: string,
  strengthInputs: { node: string; input: string }[],
): Inputs {
  const [first, ...rest] = strengthInputs;
  const [node, ...more] = loaders;
  const alsoSets = more.map((n) => ({ node: n, input: 'lora_name' }));
  return {
    lora_id: {
      type: 'string',
      node,
      input: 'lora_name',
      alsoSets,
      required: false,
      defaultWhenEmpty: true,
      modelFolder: 'loras',
      format: `${folder}/${idPattern}`,
      maxLength: 200,
      description: `Trained LoRA id: loads ${idPattern} from the volume`,
    },
    lora_name: {
      type: 'string',
      node,
      input: 'lora_name',
      alsoSets,
      required: false,
      defaultWhenEmpty: true,
      modelFolder: 'loras',
      format: `${folder}/{lora_name}`,
      ensureSuffix: '.safetensors',
      maxLength: 200,
      winsOver: ['lora_id'],
      description: 'LoRA file name in the volume folder (".safetensors" added if missing); wins over lora_id',
    },
    lora_strength: {
      type: 'float',
      node: first.node,
      input: first.input,
      alsoSets: rest,
      default: 1.0,
      min: -5,
      max: 5,
      description: 'LoRA strength',
    },
  };
}

/** A `reference_image` for face endpoints: base64 or a data URL. */
export function referenceImage(node: string): Inputs {
  return {
    reference_image: { type: 'image', node, input: 'image', description: 'The face to keep: a data URL or base64' },
  };
}

/** `face_provider`: today's clients send `CPU` or `GPU`; `map` turns them into what the node lists. */
export function faceProvider(node: string, fallback: 'CPU' | 'CUDA', gpuName: 'CUDA' | 'GPU'): Inputs {
  return {
    face_provider: {
      type: 'enum',
      node,
      input: 'provider',
      values: ['CPU', 'GPU', 'CUDA'],
      default: fallback,
      map: gpuName === 'CUDA' ? { GPU: 'CUDA' } : { CUDA: 'GPU' },
      description: 'Where face analysis runs: CPU, or GPU (CUDA)',
    },
  };
}
