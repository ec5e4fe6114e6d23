/**
 * ryla-wan26: text-to-video, reference-to-video and LoRA video, served as animated WebP like today.
 * Wan 2.6 has no open weights (only paid API nodes, reference/models.md §1.2): the paths stay for client
 * compatibility, and they run Wan 2.2 T2V A14B (two experts) and Wan 2.1 VACE 14B for references.
 */
import { ComfyApp, Endpoint, HfModel, type ModalProject, VolumeModel, Workflow } from '../../constructs';
import { type Inputs, lora, negativePrompt, prompt, seed, size, steps } from './fields';
import { COMFY_NEW, type RylaShared } from './shared';

/** Frames, steps, cfg and fps; the API client sends `num_frames`, today's server read `length`. */
function video(latent: string, samplers: string[], save: string): Inputs {
  const [first, ...rest] = samplers;
  return {
    length: {
      type: 'int',
      node: latent,
      input: 'length',
      default: 33,
      min: 1,
      max: 161,
      aliases: ['num_frames'],
      description: 'Frames (4n+1 fits the model best)',
    },
    steps: steps(samplers, 30, 100),
    cfg: {
      type: 'float',
      node: first,
      input: 'cfg',
      default: 6.0,
      min: 0,
      max: 30,
      alsoSets: rest.map((n) => ({ node: n, input: 'cfg' })),
    },
    fps: { type: 'int', node: save, input: 'fps', default: 16, min: 1, max: 60 },
  };
}

export function addWanApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'wan26', {
    gpu: ['H100', 'A100-80GB'],
    // Memory snapshot: core nodes only, which import without touching CUDA (the snapshot phase has no GPU).
    memorySnapshot: true,
    comfyVersion: COMFY_NEW,
    volumes: [shared.models],
    secrets: shared.secrets,
  });
  const wan22 = 'Comfy-Org/Wan_2.2_ComfyUI_Repackaged';
  const wan21 = 'Comfy-Org/Wan_2.1_ComfyUI_repackaged';
  new HfModel(app, 'T2vHighNoise', {
    repo: wan22,
    file: 'split_files/diffusion_models/wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors',
    target: 'diffusion_models',
    sizeGb: 14.3,
  });
  new HfModel(app, 'T2vLowNoise', {
    repo: wan22,
    file: 'split_files/diffusion_models/wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors',
    target: 'diffusion_models',
    sizeGb: 14.3,
  });
  new HfModel(app, 'Umt5', {
    repo: wan21,
    file: 'split_files/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors',
    target: 'text_encoders',
    sizeGb: 6.74,
  });
  new HfModel(app, 'Vae', {
    repo: wan22,
    file: 'split_files/vae/wan_2.1_vae.safetensors',
    target: 'vae',
    sizeGb: 0.254,
  });
  new HfModel(app, 'Vace14b', {
    repo: wan21,
    file: 'split_files/diffusion_models/wan2.1_vace_14B_fp16.safetensors',
    target: 'diffusion_models',
  });
  new VolumeModel(app, 'WanLoras', { volume: shared.models, path: 'wan-loras', target: 'loras', filename: 'ryla-wan' });

  new Endpoint(app, 'TextToVideo', {
    path: '/wan2.6',
    description: 'Text-to-video with Wan 2.2 T2V A14B (no open Wan 2.6 weights exist)',
    workflow: Workflow.fromFile('workflows/wan-t2v.json'),
    timeout: '10m',
    inputs: {
      ...prompt('7'),
      ...negativePrompt('8'),
      ...size('9', 832, 480, 1280),
      ...video('9', ['10', '11'], '13'),
      ...seed('10', 'noise_seed'),
    },
    output: 'webp',
  });
  new Endpoint(app, 'ReferenceToVideo', {
    path: '/wan2.6-r2v',
    description:
      'Reference-to-video with Wan 2.1 VACE 14B: the first frame of the first reference video guides the subject',
    workflow: Workflow.fromFile('workflows/wan-r2v.json'),
    timeout: '10m',
    inputs: {
      reference_videos: {
        type: 'video',
        node: '7',
        input: 'file',
        maxItems: 3,
        aliases: ['reference_video'],
        description: 'One to three reference videos (data URL or base64); VACE uses the first frame of the first',
      },
      ...prompt('5'),
      ...negativePrompt('6'),
      ...size('10', 832, 480, 1280),
      ...video('10', ['11'], '14'),
      ...seed('11'),
    },
    output: 'webp',
  });
  new Endpoint(app, 'Lora', {
    path: '/wan2.6-lora',
    description: 'Wan 2.2 T2V with a LoRA from the ryla-models volume (wan-loras/) on both experts',
    workflow: Workflow.fromFile('workflows/wan-t2v-lora.json'),
    timeout: '10m',
    inputs: {
      ...prompt('7', 'text', { triggerWord: true }),
      ...negativePrompt('8'),
      ...size('9', 832, 480, 1280),
      ...video('9', ['10', '11'], '13'),
      ...seed('10', 'noise_seed'),
      ...lora(['20', '21'], 'ryla-wan', 'wan-character-{lora_id}.safetensors', [
        { node: '20', input: 'strength_model' },
        { node: '21', input: 'strength_model' },
      ]),
    },
    requireOneOf: [['lora_name', 'lora_id']],
    output: 'webp',
  });
  return app;
}
