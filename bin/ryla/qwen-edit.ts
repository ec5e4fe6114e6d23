/**
 * ryla-qwen-edit: Qwen-Image-Edit 2511 instruction editing and masked inpainting (reference/models.md §3.4).
 * Needs ComfyUI with the `index_timestep_zero` reference method (0.4.0+); the bf16 model needs ~51 GB.
 */
import { ComfyApp, Endpoint, HfModel, type ModalProject, Workflow } from '../../constructs';
import { type Inputs, sampling, seed } from './fields';
import { COMFY_NEW, type RylaShared } from './shared';

const sourceImage: Inputs = {
  source_image: { type: 'image', node: '1', input: 'image', description: 'The image to edit: a data URL or base64' },
};

export function addQwenEditApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'qwen-edit', {
    gpu: ['A100-80GB', 'H100'],
    // Memory snapshot: core nodes only, which import without touching CUDA (the snapshot phase has no GPU).
    memorySnapshot: true,
    comfyVersion: COMFY_NEW,
    volumes: [shared.models],
    secrets: shared.secrets,
  });
  new HfModel(app, 'QwenEdit2511', {
    repo: 'Comfy-Org/Qwen-Image-Edit_ComfyUI',
    file: 'split_files/diffusion_models/qwen_image_edit_2511_bf16.safetensors',
    target: 'diffusion_models',
    sizeGb: 40.9,
  });
  new HfModel(app, 'QwenTextEncoder', {
    repo: 'Comfy-Org/Qwen-Image_ComfyUI',
    file: 'split_files/text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors',
    target: 'text_encoders',
    sizeGb: 9.38,
  });
  new HfModel(app, 'QwenVae', {
    repo: 'Comfy-Org/Qwen-Image_ComfyUI',
    file: 'split_files/vae/qwen_image_vae.safetensors',
    target: 'vae',
    sizeGb: 0.254,
  });

  new Endpoint(app, 'Edit', {
    path: '/qwen-image-edit-2511',
    description: 'Qwen-Image-Edit 2511: edit an image by instruction',
    workflow: Workflow.fromFile('workflows/qwen-image-edit-2511.json'),
    timeout: '7m',
    inputs: {
      ...sourceImage,
      instruction: {
        type: 'string',
        node: '8',
        input: 'prompt',
        minLength: 1,
        maxLength: 10000,
        description: 'What to change',
      },
      ...sampling('13', 50, 4.0),
      ...seed('13'),
      denoise: { type: 'float', node: '13', input: 'denoise', default: 0.8, min: 0, max: 1 },
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'Inpaint', {
    path: '/qwen-image-inpaint-2511',
    description: 'Qwen-Image-Edit 2511 inside a mask (white = edit), pasted back over the source',
    workflow: Workflow.fromFile('workflows/qwen-image-inpaint-2511.json'),
    timeout: '7m',
    inputs: {
      ...sourceImage,
      mask_image: {
        type: 'image',
        node: '20',
        input: 'image',
        description: 'Mask, white where to edit: a data URL or base64',
      },
      prompt: {
        type: 'string',
        node: '8',
        input: 'prompt',
        minLength: 1,
        maxLength: 10000,
        description: 'What to put in the masked area',
      },
      ...sampling('13', 50, 4.0),
      ...seed('13'),
    },
    output: 'jpeg',
  });
  return app;
}
