/**
 * ryla-qwen-image: Qwen-Image 2512 text-to-image (plain, 4-step Lightning, LoRA) and ReActor video face swap
 * (reference/models.md §3.3).
 */
import {
  ComfyApp,
  CustomNode,
  Endpoint,
  HfModel,
  type ModalProject,
  UrlModel,
  VolumeModel,
  Workflow,
} from '../../constructs';
import type { EndpointInput } from '../../constructs';
import { type Inputs, lora, negativePrompt, prompt, QWEN_DEFAULT_NEGATIVE, sampling, seed, size } from './fields';
import { COMFY_NEW, type RylaShared } from './shared';

/** Qwen-Image's supported sizes by aspect ratio; a valid `aspect_ratio` overrides width and height (as today). */
const ASPECT_RATIOS: Record<string, [number, number]> = {
  '1:1': [1328, 1328],
  '16:9': [1664, 928],
  '9:16': [928, 1664],
  '4:3': [1472, 1104],
  '3:4': [1104, 1472],
  '3:2': [1584, 1056],
  '2:3': [1056, 1584],
};

function qwenInputs(steps: number, cfg: number, lightningLora: string | undefined, triggerWord = false): Inputs {
  const aspectRatio: EndpointInput = {
    type: 'enum',
    values: Object.keys(ASPECT_RATIOS),
    required: false,
    presets: Object.fromEntries(
      Object.entries(ASPECT_RATIOS).map(([ratio, [width, height]]) => [ratio, { width, height }]),
    ),
    description: 'Sets width and height to a supported size',
  };
  return {
    ...prompt('6', 'text', { default: 'A beautiful woman', triggerWord }),
    ...negativePrompt('7', QWEN_DEFAULT_NEGATIVE),
    aspect_ratio: aspectRatio,
    ...size('8', 1328, 1328),
    ...sampling('9', steps, cfg),
    ...seed('9'),
    ...(lightningLora && {
      use_lightning_lora: {
        type: 'bool',
        node: lightningLora,
        input: 'strength_model',
        default: false,
        map: { true: 1.0, false: 0.0 },
        description: 'Apply the 4-step Lightning LoRA (then send steps 4, cfg 1)',
      },
    }),
  };
}

export function addQwenImageApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'qwen-image', {
    // Not an L40S (48 GB): Qwen-Image 2512 peaks at 43.4 GB at its default 1328² (measurements/gpu-h200.json),
    // under the 25% margin of client-policy rule 5; on an H100 it is also ~2.7× faster, so cheaper per request.
    gpu: ['H100', 'A100-80GB'],
    // No memory snapshot: ReActor picks its device when imported (importPicksDevice below): its ONNX providers
    // and RetinaFace device are the CPU's in the GPU-less snapshot phase, and stay so after a restore
    // (shared/data/comfyui/pack-import-without-gpu.md, class (b)). synth refuses memorySnapshot here.
    comfyVersion: COMFY_NEW,
    volumes: [shared.models],
    secrets: shared.secrets,
    // What ReActor's requirements leave open (">=" or no version): its face stack pinned as instantid's, and
    // albumentations at its last 1.x (ReActor asks >=1.4.16). All on PyPI; UNVERIFIED on a GPU: no image was built
    // here.
    constraints: ['insightface==0.7.3', 'onnxruntime-gpu==1.21.0', 'onnx==1.17.0', 'albumentations==1.4.24'],
  });
  new CustomNode(app, 'ReActor', {
    repo: 'https://github.com/Gourieff/ComfyUI-ReActor',
    commit: '6ad6b35a4df250d14cb2abf0808c9ffedf59f747',
    nodeSchemas: 'bin/ryla/nodes/reactor.json',
    aptPackages: ['ffmpeg', 'libgl1', 'libglib2.0-0'],
    importPicksDevice: true,
  });
  new CustomNode(app, 'VideoHelperSuite', {
    repo: 'https://github.com/Kosinkadink/ComfyUI-VideoHelperSuite',
    commit: '4ee72c065db22c9d96c2427954dc69e7b908444b',
    nodeSchemas: 'bin/ryla/nodes/videohelpersuite.json',
  });

  new HfModel(app, 'QwenImage2512', {
    repo: 'Comfy-Org/Qwen-Image_ComfyUI',
    file: 'split_files/diffusion_models/qwen_image_2512_fp8_e4m3fn.safetensors',
    target: 'diffusion_models',
    sizeGb: 20.4,
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
  new HfModel(app, 'LightningLora', {
    repo: 'lightx2v/Qwen-Image-2512-Lightning',
    file: 'Qwen-Image-2512-Lightning-4steps-V1.0-fp32.safetensors',
    target: 'loras',
  });
  new HfModel(app, 'Inswapper', {
    repo: 'Gourieff/ReActor',
    repoType: 'dataset',
    file: 'models/inswapper_128.onnx',
    target: 'insightface',
  });
  // ReActor's face analyser fetches InsightFace's buffalo_l.zip on first use (reactor_core/analyzer.py) and
  // unpacks it into models/insightface/models/buffalo_l: unpacked there at build instead (size UNVERIFIED).
  new UrlModel(app, 'Buffalo', {
    url: 'https://huggingface.co/datasets/Gourieff/ReActor/resolve/main/models/buffalo_l.zip',
    target: 'insightface/models/buffalo_l',
    unzip: true,
    sizeGb: 0.29,
  });
  // ReActor's NSFW filter loads this model on first use; declared so a serving container has it (sizes UNVERIFIED).
  for (const file of ['config.json', 'model.safetensors', 'preprocessor_config.json']) {
    new HfModel(app, `NsfwDetector-${file.split('.')[0]}`, {
      repo: 'AdamCodd/vit-base-nsfw-detector',
      file,
      target: 'nsfw_detector/vit-base-nsfw-detector',
      sizeGb: file === 'model.safetensors' ? 0.35 : 0.001,
    });
  }
  new HfModel(app, 'Gfpgan', {
    repo: 'Gourieff/ReActor',
    repoType: 'dataset',
    file: 'models/facerestore_models/GFPGANv1.4.pth',
    target: 'facerestore_models',
  });
  new VolumeModel(app, 'QwenLoras', {
    volume: shared.models,
    path: 'qwen-loras',
    target: 'loras',
    filename: 'ryla-qwen',
  });

  new Endpoint(app, 'QwenImage', {
    path: '/qwen-image-2512',
    description: 'Qwen-Image 2512 text-to-image (fp8), 50 steps',
    workflow: Workflow.fromFile('workflows/qwen-image-2512.json'),
    timeout: '10m',
    inputs: qwenInputs(50, 4.0, '4'),
    output: 'jpeg',
  });
  new Endpoint(app, 'QwenImageFast', {
    path: '/qwen-image-2512-fast',
    description: 'Qwen-Image 2512 with the 4-step Lightning LoRA',
    workflow: Workflow.fromFile('workflows/qwen-image-2512-fast.json'),
    timeout: '10m',
    inputs: qwenInputs(4, 1.0, undefined),
    ignoredFields: { use_lightning_lora: 'this endpoint always applies the Lightning LoRA' },
    output: 'jpeg',
  });
  new Endpoint(app, 'QwenImageLora', {
    path: '/qwen-image-2512-lora',
    description: 'Qwen-Image 2512 with a LoRA from the ryla-models volume (qwen-loras/)',
    workflow: Workflow.fromFile('workflows/qwen-image-2512-lora.json'),
    timeout: '10m',
    inputs: {
      ...qwenInputs(50, 4.0, '12', true),
      ...lora(['4'], 'ryla-qwen', 'qwen-character-{lora_id}.safetensors', [{ node: '4', input: 'strength_model' }]),
    },
    requireOneOf: [['lora_name', 'lora_id']],
    output: 'jpeg',
  });
  new Endpoint(app, 'VideoFaceSwap', {
    path: '/video-faceswap',
    description: 'ReActor face swap on every frame of a video, audio kept (H.264 MP4)',
    workflow: Workflow.fromFile('workflows/video-faceswap.json'),
    timeout: '10m',
    inputs: {
      source_video: {
        type: 'video',
        node: '1',
        input: 'video',
        description: 'The video: a data URL or base64 (MP4 or WebM)',
      },
      reference_image: {
        type: 'image',
        node: '2',
        input: 'image',
        description: 'The face to put in: a data URL or base64',
      },
      // A float: clients send NTSC rates such as 23.976 (VHS's force_rate and frame_rate are FLOAT).
      fps: {
        type: 'float',
        node: '1',
        input: 'force_rate',
        alsoSets: [{ node: '4', input: 'frame_rate' }],
        default: 30,
        min: 1,
        max: 60,
      },
      restore_face: {
        type: 'bool',
        node: '3',
        input: 'face_restore_model',
        default: true,
        map: { true: 'GFPGANv1.4.pth', false: 'none' },
        description: 'Restore the swapped face with GFPGAN 1.4',
      },
      face_restore_visibility: {
        type: 'float',
        node: '3',
        input: 'face_restore_visibility',
        default: 1.0,
        min: 0.1,
        max: 1,
      },
      codeformer_weight: { type: 'float', node: '3', input: 'codeformer_weight', default: 0.5, min: 0, max: 1 },
    },
    output: 'mp4',
  });
  return app;
}
