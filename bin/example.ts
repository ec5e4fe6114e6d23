/**
 * The example stack: two small but real apps. `npx ts-node --swc bin/example.ts` synthesizes it into
 * synth.out/ by itself (runApp); `npm run synth` builds the RYLA stack instead (cdk-like.json "app").
 * - `flux`: FLUX.1 schnell text-to-image and image-to-image with a LoRA from a volume.
 * - `upscale`: SeedVR2 image upscaling through a pinned custom node, on a GPU fallback list.
 */
import * as path from 'node:path';
import {
  ComfyApp,
  CustomNode,
  Endpoint,
  HfModel,
  ModalProject,
  Volume,
  VolumeModel,
  Warnings,
  Workflow,
} from '../constructs';
import { runApp } from '../lib/cli/run-app';

export default function buildExample(): ModalProject {
  const project = new ModalProject(undefined, 'example', {
    root: path.join(__dirname, '..'),
    huggingfaceSecret: 'huggingface',
  });
  // An example: its Hugging Face files are not pinned (set revision to a commit SHA in a real stack).
  Warnings.of(project).acknowledge('hf-unpinned-revision', 'an example stack: revisions left at the default branch');
  const models = new Volume(project, 'Models', { name: 'example-models', mountPath: '/root/models' });

  // #region flux-app
  // Core nodes only, so it can start from a memory snapshot (docs/cold-starts.md "Cold starts").
  const flux = new ComfyApp(project, 'flux', {
    gpu: 'L40S',
    scaledownWindow: '5m',
    maxContainers: 4,
    secrets: ['huggingface'],
    memorySnapshot: true,
  });
  // #endregion
  // #region flux-models
  new HfModel(flux, 'FluxSchnell', {
    repo: 'Comfy-Org/flux1-schnell',
    file: 'flux1-schnell-fp8.safetensors',
    target: 'checkpoints',
    sizeGb: 17.2,
  });
  new VolumeModel(flux, 'StyleLora', { volume: models, path: 'loras/example-style.safetensors', target: 'loras' });
  // #endregion
  // #region flux-endpoint
  new Endpoint(flux, 'TextToImage', {
    path: '/flux',
    description: 'FLUX.1 schnell text-to-image, 4 steps',
    workflow: Workflow.fromFile('workflows/flux-schnell.json'),
    timeout: '2m',
    inputs: {
      prompt: { type: 'string', node: '6', input: 'text', minLength: 1, maxLength: 4000, description: 'What to draw' },
      width: { type: 'int', node: '5', input: 'width', default: 1024, min: 256, max: 2048 },
      height: { type: 'int', node: '5', input: 'height', default: 1024, min: 256, max: 2048 },
      steps: { type: 'int', node: '3', input: 'steps', default: 4, min: 1, max: 50 },
      seed: { type: 'seed', node: '3', input: 'seed' },
    },
    output: 'jpeg',
    // What modal-cdk verify sends after a deploy (a small image: a cheap check); the warm call uses seed 8.
    smokeRequest: { prompt: 'a lighthouse at dusk', width: 512, height: 512, seed: 7 },
  });
  // #endregion
  // #region flux-img2img
  new Endpoint(flux, 'ImageToImage', {
    path: '/flux-img2img',
    description: 'FLUX.1 schnell image-to-image in the example LoRA style',
    workflow: Workflow.fromFile('workflows/flux-img2img.json'),
    timeout: '3m',
    inputs: {
      image: { type: 'image', node: '10', input: 'image', aliases: ['init_image'] },
      prompt: { type: 'string', node: '6', input: 'text', default: 'in the example style' },
      denoise: { type: 'float', node: '3', input: 'denoise', default: 0.6, min: 0, max: 1 },
      lora_strength: {
        type: 'float',
        node: '12',
        input: 'strength_model',
        alsoSets: [{ node: '12', input: 'strength_clip' }],
        default: 0.8,
        min: 0,
        max: 2,
      },
      sampler: {
        type: 'enum',
        node: '3',
        input: 'sampler_name',
        values: ['euler', 'dpmpp_2m', 'uni_pc'],
        default: 'euler',
      },
      seed: { type: 'seed', node: '3', input: 'seed' },
    },
    output: 'png',
  });
  // #endregion

  // #region upscale
  const upscale = new ComfyApp(project, 'upscale', {
    gpu: ['L40S', 'A100-80GB'],
    comfyVersion: '0.3.71',
    timeout: '10m',
    maxContainers: 2,
    // One warm GPU in Berlin's working hours (its standing cost is in the deploy plan and the docs).
    warmSchedule: [
      { cron: '0 8 * * 1-5', minContainers: 1, timezone: 'Europe/Berlin' },
      { cron: '0 20 * * *', minContainers: 0, timezone: 'Europe/Berlin' },
    ],
  });
  new CustomNode(upscale, 'SeedVR2Node', {
    repo: 'https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler',
    commit: '4490bd1f482e026674543386bb2a4d176da245b9',
    // The pack's /object_info entries, so synth checks the workflow against them.
    nodeSchemas: 'bin/ryla/nodes/seedvr2.json',
  });
  new HfModel(upscale, 'Dit3b', {
    repo: 'numz/SeedVR2_comfyUI',
    file: 'seedvr2_ema_3b_fp8_e4m3fn.safetensors',
    target: 'SEEDVR2',
    sizeGb: 3.39,
  });
  new HfModel(upscale, 'Vae', {
    repo: 'numz/SeedVR2_comfyUI',
    file: 'ema_vae_fp16.safetensors',
    target: 'SEEDVR2',
    sizeGb: 0.501,
  });
  new Endpoint(upscale, 'Upscale', {
    path: '/upscale',
    description: 'SeedVR2 3B upscaling of one image to a target shortest edge',
    workflow: Workflow.fromFile('workflows/seedvr2-upscale.json'),
    timeout: '5m',
    inputs: {
      image: { type: 'image', node: '1', input: 'image' },
      resolution: { type: 'int', node: '4', input: 'resolution', default: 1080, min: 256, max: 4096 },
      color_correction: {
        type: 'enum',
        node: '4',
        input: 'color_correction',
        values: ['lab', 'wavelet', 'hsv', 'adain', 'none'],
        default: 'lab',
      },
      seed: { type: 'seed', node: '4', input: 'seed', max: 0xffffffff }, // SeedVR2 takes 32-bit seeds
      enable_debug: { type: 'bool', node: '4', input: 'enable_debug', default: false },
    },
    output: 'jpeg',
  });
  // #endregion
  return project;
}

// Run by itself (no cdk-like.json), it synthesizes for the Modal workspace "example".
if (require.main === module) runApp(buildExample, { workspace: 'example' });
