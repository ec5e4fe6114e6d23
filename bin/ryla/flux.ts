/** ryla-flux: FLUX.1 schnell and dev text-to-image, and dev with a trained LoRA (reference/models.md §3.1). */
import { ComfyApp, Endpoint, HfModel, type ModalProject, VolumeModel, Workflow } from '../../constructs';
import { FLUX_DEFAULT_NEGATIVE, lora, negativePrompt, prompt, sampling, seed, size } from './fields';
import { addFluxDevModels, type RylaShared } from './shared';

export function addFluxApp(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'flux', {
    gpu: 'L40S',
    volumes: [shared.models],
    secrets: shared.secrets,
    // Memory snapshot: core nodes only, which import without touching CUDA (the snapshot phase has no GPU).
    memorySnapshot: true,
  });
  new HfModel(app, 'FluxSchnell', {
    repo: 'Comfy-Org/flux1-schnell',
    file: 'flux1-schnell-fp8.safetensors',
    target: 'checkpoints',
    sizeGb: 17.2,
  });
  addFluxDevModels(app);
  new VolumeModel(app, 'Loras', { volume: shared.models, path: 'loras', target: 'loras', filename: 'ryla' });

  new Endpoint(app, 'Schnell', {
    path: '/flux',
    description: 'FLUX.1 schnell text-to-image (fp8 checkpoint), 4 steps',
    workflow: Workflow.fromFile('workflows/flux-schnell.json'),
    timeout: '3m',
    inputs: {
      ...prompt('6'),
      ...negativePrompt('7', FLUX_DEFAULT_NEGATIVE),
      ...size('5', 1024, 1024),
      ...sampling('3', 4, 1.0),
      ...seed('3', 'seed', 42),
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'Dev', {
    path: '/flux-dev',
    description: 'FLUX.1 dev text-to-image, 20 steps',
    workflow: Workflow.fromFile('workflows/flux-dev.json'),
    timeout: '3m',
    inputs: {
      ...prompt('6'),
      ...negativePrompt('7', FLUX_DEFAULT_NEGATIVE),
      ...size('5', 1024, 1024),
      ...sampling('3', 20, 1.0),
      ...seed('3', 'seed', 42),
    },
    output: 'jpeg',
  });
  new Endpoint(app, 'DevLora', {
    path: '/flux-dev-lora',
    description: 'FLUX.1 dev with a LoRA from the ryla-models volume (loras/)',
    workflow: Workflow.fromFile('workflows/flux-dev-lora.json'),
    timeout: '3m',
    inputs: {
      ...prompt('6', 'text', { triggerWord: true }),
      ...negativePrompt('7', FLUX_DEFAULT_NEGATIVE),
      ...size('5', 1024, 1024),
      ...sampling('3', 20, 1.0),
      ...seed('3', 'seed', 42),
      // The trainer writes flux-character-<id>; today's server looked for character-<id> and missed it.
      ...lora(['14'], 'ryla', 'flux-character-{lora_id}.safetensors', [
        { node: '14', input: 'strength_model' },
        { node: '14', input: 'strength_clip' },
      ]),
    },
    requireOneOf: [['lora_name', 'lora_id']],
    output: 'jpeg',
  });
  return app;
}
