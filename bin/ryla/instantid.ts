/**
 * ryla-instantid: face-consistent images: SDXL + InstantID, SDXL Turbo and Lightning, FLUX + PuLID, and
 * FLUX + XLabs IP-Adapter v2 (reference/models.md §3.2). The FLUX patch nodes break on newer ComfyUI, so
 * this app pins the core that Replicate tested them with (v0.3.67, §1.4).
 */
import { ComfyApp, CustomNode, Endpoint, HfModel, type ModalProject, UrlModel, Workflow } from '../../constructs';
import {
  faceProvider,
  FLUX_DEFAULT_NEGATIVE,
  negativePrompt,
  prompt,
  referenceImage,
  sampling,
  seed,
  size,
  steps,
} from './fields';
import { addFluxDevModels, type RylaShared } from './shared';

/** KSampler samplers and schedulers a client may choose on /sdxl-instantid (in ComfyUI 0.3.67 and 0.3.75 alike). */
const SDXL_SAMPLERS = [
  'euler',
  'euler_ancestral',
  'heun',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
  'dpmpp_3m_sde',
  'ddim',
  'uni_pc',
  'lcm',
];
const SDXL_SCHEDULERS = ['normal', 'karras', 'exponential', 'sgm_uniform', 'simple', 'ddim_uniform', 'beta'];

export function addInstantIdApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'instantid', {
    gpu: 'L40S',
    // From a memory snapshot: InstantID, PuLID-Flux and x-flux import without a GPU and choose their device at
    // run time (shared/data/comfyui/pack-import-without-gpu.md, class (a)), so after phase 2's device handover
    // they run on the GPU. UNVERIFIED on a Modal GPU: no restore ran here.
    memorySnapshot: true,
    comfyVersion: '0.3.67',
    volumes: [shared.models],
    secrets: shared.secrets,
    // What InstantID's and PuLID's requirements leave open, pinned to the releases current when the pinned
    // pack commits were made (insightface's 0.7 API is what both use). UNVERIFIED on a GPU: no image was built here.
    constraints: ['insightface==0.7.3', 'onnxruntime-gpu==1.21.0', 'facexlib==0.3.0', 'timm==1.0.15', 'ftfy==6.3.1'],
  });
  new CustomNode(app, 'InstantIdNodes', {
    repo: 'https://github.com/cubiq/ComfyUI_InstantID',
    commit: '1ef34ef573581bd9727c1e0ac05aa956b356a510',
    nodeSchemas: 'bin/ryla/nodes/instantid.json',
    aptPackages: ['build-essential'],
  });
  new CustomNode(app, 'PulidNodes', {
    repo: 'https://github.com/lldacing/ComfyUI_PuLID_Flux_ll',
    commit: 'ba90657fe6ffa8072ac169a949bfa5e4153bf48a',
    nodeSchemas: 'bin/ryla/nodes/pulid-flux.json',
    aptPackages: ['build-essential'],
  });
  new CustomNode(app, 'XlabsNodes', {
    repo: 'https://github.com/XLabs-AI/x-flux-comfyui',
    commit: '00328556efc9472410d903639dc9e68a8471f7ac',
    nodeSchemas: 'bin/ryla/nodes/x-flux.json',
  });

  new HfModel(app, 'SdxlBaseModel', {
    repo: 'stabilityai/stable-diffusion-xl-base-1.0',
    file: 'sd_xl_base_1.0.safetensors',
    target: 'checkpoints',
    sizeGb: 6.94,
  });
  new HfModel(app, 'SdxlTurboModel', {
    repo: 'stabilityai/sdxl-turbo',
    file: 'sd_xl_turbo_1.0_fp16.safetensors',
    target: 'checkpoints',
    sizeGb: 6.94,
  });
  new HfModel(app, 'SdxlLightningModel', {
    repo: 'ByteDance/SDXL-Lightning',
    file: 'sdxl_lightning_4step.safetensors',
    target: 'checkpoints',
    sizeGb: 6.94,
  });
  new HfModel(app, 'InstantIdAdapter', {
    repo: 'InstantX/InstantID',
    file: 'ip-adapter.bin',
    target: 'instantid',
    sizeGb: 1.69,
  });
  new HfModel(app, 'InstantIdControlNet', {
    repo: 'InstantX/InstantID',
    file: 'ControlNetModel/diffusion_pytorch_model.safetensors',
    target: 'controlnet/instantid',
    sizeGb: 2.5,
  });
  const antelopev2: Record<string, number> = {
    '1k3d68.onnx': 0.144,
    '2d106det.onnx': 0.00503,
    'genderage.onnx': 0.00132,
    'glintr100.onnx': 0.261,
    'scrfd_10g_bnkps.onnx': 0.0169,
  };
  for (const [onnx, sizeGb] of Object.entries(antelopev2)) {
    new HfModel(app, `Antelopev2-${onnx.replace('.onnx', '')}`, {
      repo: 'DIAMONIK7777/antelopev2',
      file: onnx,
      target: 'insightface/models/antelopev2',
      sizeGb,
    });
  }
  addFluxDevModels(app);
  new HfModel(app, 'PulidFlux', {
    repo: 'guozinan/PuLID',
    file: 'pulid_flux_v0.9.1.safetensors',
    target: 'pulid',
    sizeGb: 1.14,
  });
  // PuLID fetches EVA02-CLIP on first use; declared so a serving container (HF_HUB_OFFLINE) has it (size UNVERIFIED).
  new HfModel(app, 'Eva02Clip', {
    repo: 'QuanSun/EVA-CLIP',
    file: 'EVA02_CLIP_L_336_psz14_s6B.pt',
    target: 'clip',
    sizeGb: 0.8,
  });
  // Its face detection and parsing weights (facexlib, into models/facexlib) come from GitHub releases, which
  // HF_HUB_OFFLINE does not stop: downloaded at build instead. Release addresses as facexlib's source has
  // them; sizes and checksums UNVERIFIED (GitHub is not reachable here): add sha256 once read from a build.
  const facexlib: Record<string, [string, number]> = {
    'detection_Resnet50_Final.pth': ['v0.1.0', 0.104],
    'parsing_parsenet.pth': ['v0.2.2', 0.085],
    'parsing_bisenet.pth': ['v0.2.0', 0.053],
  };
  for (const [file, [release, sizeGb]] of Object.entries(facexlib)) {
    new UrlModel(app, `Facexlib-${file.replace('.pth', '')}`, {
      url: `https://github.com/xinntao/facexlib/releases/download/${release}/${file}`,
      target: 'facexlib',
      sizeGb,
    });
  }
  new HfModel(app, 'XlabsIpAdapter', {
    repo: 'XLabs-AI/flux-ip-adapter-v2',
    file: 'ip_adapter.safetensors',
    target: 'xlabs/ipadapters',
    sizeGb: 1.06,
  });
  new HfModel(app, 'ClipVisionL', {
    repo: 'openai/clip-vit-large-patch14',
    file: 'model.safetensors',
    target: 'clip_vision',
    sizeGb: 1.71,
  });

  new Endpoint(app, 'SdxlInstantId', {
    path: '/sdxl-instantid',
    description: 'SDXL + InstantID: a new image of the reference face',
    workflow: Workflow.fromFile('workflows/sdxl-instantid.json'),
    timeout: '7m',
    inputs: {
      ...referenceImage('5'),
      ...prompt('6'),
      ...negativePrompt('7'),
      ...size('9', 1024, 1024),
      ...sampling('10', 20, 7.0),
      ...seed('10', 'seed', 42),
      sdxl_checkpoint: {
        type: 'enum',
        node: '1',
        input: 'ckpt_name',
        default: 'sd_xl_base_1.0.safetensors',
        values: ['sd_xl_base_1.0.safetensors', 'sd_xl_turbo_1.0_fp16.safetensors', 'sdxl_lightning_4step.safetensors'],
        description: 'SDXL checkpoint of this app',
      },
      // Enums, not free strings: KSampler takes only the names it lists (these are in every release the app may run).
      sampler_name: { type: 'enum', node: '10', input: 'sampler_name', default: 'euler', values: SDXL_SAMPLERS },
      scheduler: { type: 'enum', node: '10', input: 'scheduler', default: 'normal', values: SDXL_SCHEDULERS },
      instantid_strength: {
        type: 'float',
        node: '8',
        input: 'ip_weight',
        default: 0.8,
        min: 0,
        max: 3,
        description: 'Identity (IP-Adapter) weight',
      },
      // Ignored by today's server; ApplyInstantIDAdvanced takes it separately.
      controlnet_strength: {
        type: 'float',
        node: '8',
        input: 'cn_strength',
        default: 0.8,
        min: 0,
        max: 10,
        description: 'Face keypoint ControlNet strength',
      },
      ...faceProvider('3', 'CPU', 'CUDA'),
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'SdxlTurbo', {
    path: '/sdxl-turbo',
    description: 'SDXL Turbo text-to-image, 1-4 steps (restored: missing from the server since 2026-02-06)',
    workflow: Workflow.fromFile('workflows/sdxl-turbo.json'),
    timeout: '3m',
    inputs: {
      ...prompt('2'),
      ...negativePrompt('3'),
      ...size('4', 1024, 1024),
      ...seed('7', 'noise_seed', 42),
      steps: {
        type: 'int',
        node: '5',
        input: 'steps',
        default: 4,
        min: 1,
        max: 4,
        clamp: true,
        description: 'Clamped to 1-4, as before',
      },
    },
    ignoredFields: { cfg: 'SDXL Turbo samples without guidance (cfg 1); the old server forced it too' },
    output: 'jpeg',
  });
  new Endpoint(app, 'SdxlLightning', {
    path: '/sdxl-lightning',
    description: 'SDXL Lightning 4-step text-to-image (restored: missing from the server since 2026-02-06)',
    workflow: Workflow.fromFile('workflows/sdxl-lightning.json'),
    timeout: '3m',
    inputs: {
      ...prompt('2'),
      ...negativePrompt('3'),
      ...size('4', 1024, 1024),
      ...seed('5', 'seed', 42),
      cfg: { type: 'float', node: '5', input: 'cfg', default: 1.0, min: 0, max: 30 },
    },
    ignoredFields: { steps: 'the 4-step Lightning checkpoint always samples 4 steps; the old server forced it too' },
    output: 'jpeg',
  });
  new Endpoint(app, 'FluxPulid', {
    path: '/flux-pulid',
    description: 'FLUX.1 dev + PuLID: a new image of the reference face',
    workflow: Workflow.fromFile('workflows/flux-pulid.json'),
    timeout: '7m',
    inputs: {
      ...referenceImage('7'),
      ...prompt('9'),
      ...size('15', 1024, 1024),
      ...seed('14', 'noise_seed'),
      steps: steps(['13'], 20, 100),
      // The API client sends pulid_strength/pulid_start/pulid_end, which today's server ignored.
      pulid_weight: {
        type: 'float',
        node: '8',
        input: 'weight',
        default: 0.9,
        min: -1,
        max: 5,
        aliases: ['pulid_strength'],
        description: 'Identity weight',
      },
      start_at: { type: 'float', node: '8', input: 'start_at', default: 0.0, min: 0, max: 1, aliases: ['pulid_start'] },
      end_at: { type: 'float', node: '8', input: 'end_at', default: 1.0, min: 0, max: 1, aliases: ['pulid_end'] },
      guidance: {
        type: 'float',
        node: '10',
        input: 'guidance',
        default: 3.5,
        min: 0,
        max: 100,
        description: 'FLUX guidance',
      },
      ...faceProvider('6', 'CUDA', 'CUDA'),
    },
    ignoredFields: {
      cfg: 'FLUX.1 dev is guidance-distilled: send guidance instead',
      negative_prompt: 'the PuLID graph samples without a negative (FLUX.1 dev, guidance-distilled)',
    },
    output: 'jpeg',
  });
  // Keeps the path clients call; no face-ID adapter exists for FLUX (reference/models.md §1.3), so this is
  // XLabs' general image-prompt adapter v2, as the team's server already used.
  new Endpoint(app, 'FluxIpAdapter', {
    path: '/flux-ipadapter-faceid',
    description: 'FLUX.1 dev + XLabs IP-Adapter v2 image prompt (not face-ID: none exists for FLUX)',
    workflow: Workflow.fromFile('workflows/flux-ipadapter.json'),
    timeout: '7m',
    inputs: {
      ...referenceImage('5'),
      ...prompt('7'),
      ...negativePrompt('8', FLUX_DEFAULT_NEGATIVE),
      ...size('9', 1024, 1024),
      ...seed('10', 'noise_seed', 42),
      steps: steps(['10'], 20, 100),
      ipadapter_strength: {
        type: 'float',
        node: '6',
        input: 'ip_scale',
        default: 0.8,
        min: 0,
        max: 1,
        description: 'Image-prompt strength',
      },
      guidance_scale: {
        type: 'float',
        node: '10',
        input: 'true_gs',
        default: 3.5,
        min: 0,
        max: 100,
        description: 'True guidance of the XLabs sampler',
      },
      timestep_to_start_cfg: { type: 'int', node: '10', input: 'timestep_to_start_cfg', default: 1, min: 0, max: 100 },
      ...faceProvider('4', 'CPU', 'GPU'),
    },
    ignoredFields: { cfg: "XLabs' sampler takes its guidance as guidance_scale" },
    output: 'jpeg',
  });
  return app;
}
