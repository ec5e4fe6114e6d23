/**
 * ryla-z-image: Z-Image-Turbo text-to-image with core nodes (reference/models.md §3.5): simple, the team's
 * "danrisi" RES4LYF sampler recipe, and a LoRA. Today's server used ZImageLoader/ZImageSampler, nodes of
 * unknown origin; core ComfyUI runs Z-Image natively since 0.3.73, RES4LYF's HEAD needs 0.8.0+.
 */
import {
  ComfyApp,
  CustomNode,
  Endpoint,
  HfModel,
  type ModalProject,
  VolumeModel,
  Warnings,
  Workflow,
} from '../../constructs';
import type { EndpointInput } from '../../constructs';
import { lora, negativePrompt, prompt, seed, size, steps } from './fields';
import { COMFY_NEW, type RylaShared } from './shared';

/**
 * Today's clients send cfg 0 (the diffusers pipeline's "no guidance"); in ComfyUI no guidance is cfg 1, and
 * cfg 0 would sample the negative alone, so values below 1 are clamped to 1.
 */
function cfg(node: string): EndpointInput {
  return {
    type: 'float',
    node,
    input: 'cfg',
    default: 1.0,
    min: 1,
    max: 10,
    clamp: true,
    description: 'Guidance; 0 and 1 both mean none',
  };
}

export function addZImageApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'z-image', {
    gpu: 'L40S',
    // From a memory snapshot: RES4LYF imports without a GPU and keeps no device (shared/data/comfyui/
    // pack-import-without-gpu.md, class (a)); its attention-kernel choice at import is core ComfyUI's own, made
    // again by the device handover. UNVERIFIED on a Modal GPU: no restore ran here.
    memorySnapshot: true,
    comfyVersion: COMFY_NEW,
    volumes: [shared.models],
    secrets: shared.secrets,
  });
  const res4lyf = new CustomNode(app, 'Res4lyf', {
    repo: 'https://github.com/ClownsharkBatwing/RES4LYF',
    commit: '022c873c6d198c67b3312a1804336533a050df18',
    nodeSchemas: 'bin/ryla/nodes/res4lyf.json',
  });
  Warnings.of(res4lyf).acknowledge(
    'core-class-redefined',
    'RES4LYF adds its bong_tangent and beta57 schedulers to the core samplers and schedulers (shared/data/comfyui/README.md)',
  );
  new HfModel(app, 'ZImageTurbo', {
    repo: 'Comfy-Org/z_image_turbo',
    file: 'split_files/diffusion_models/z_image_turbo_bf16.safetensors',
    target: 'diffusion_models',
    sizeGb: 12.3,
  });
  new HfModel(app, 'Qwen3TextEncoder', {
    repo: 'Comfy-Org/z_image_turbo',
    file: 'split_files/text_encoders/qwen_3_4b.safetensors',
    target: 'text_encoders',
    sizeGb: 8.04,
  });
  new HfModel(app, 'Vae', {
    repo: 'Comfy-Org/z_image_turbo',
    file: 'split_files/vae/ae.safetensors',
    target: 'vae',
    sizeGb: 0.335,
  });
  new VolumeModel(app, 'Loras', { volume: shared.models, path: 'loras', target: 'loras', filename: 'ryla' });

  new Endpoint(app, 'Simple', {
    path: '/z-image-simple',
    description: 'Z-Image-Turbo text-to-image',
    workflow: Workflow.fromFile('workflows/z-image-simple.json'),
    timeout: '10m',
    inputs: {
      ...prompt('6'),
      ...negativePrompt('7'),
      ...size('8', 1024, 1024),
      steps: steps(['11'], 4, 50),
      cfg: cfg('11'),
      ...seed('11', 'seed', 42),
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'Danrisi', {
    path: '/z-image-danrisi',
    description: "Z-Image-Turbo with the team's RES4LYF recipe (beta sigmas, ralston 2s)",
    workflow: Workflow.fromFile('workflows/z-image-danrisi.json'),
    timeout: '10m',
    inputs: {
      ...prompt('6'),
      ...negativePrompt('7'),
      ...size('8', 1024, 1024),
      steps: steps(['11', '9'], 8, 50),
      cfg: cfg('11'),
      ...seed('11', 'seed', 42),
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'Lora', {
    path: '/z-image-lora',
    description: 'Z-Image-Turbo with a LoRA from the ryla-models volume (loras/)',
    workflow: Workflow.fromFile('workflows/z-image-lora.json'),
    timeout: '10m',
    inputs: {
      ...prompt('6', 'text', { triggerWord: true }),
      ...negativePrompt('7'),
      ...size('8', 1024, 1024),
      steps: steps(['11'], 9, 50),
      cfg: cfg('11'),
      ...seed('11'),
      ...lora(['4'], 'ryla', 'character-{lora_id}.safetensors', [{ node: '4', input: 'strength_model' }]),
    },
    requireOneOf: [['lora_name', 'lora_id']],
    ignoredFields: { nsfw: 'the old server only logged it and echoed X-NSFW-Mode; it never changed the image' },
    output: 'jpeg',
  });
  return app;
}
