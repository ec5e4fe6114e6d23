/** ryla-seedvr2: SeedVR2 7B image upscaling to a target shortest edge, PNG out (reference/models.md §3.7). */
import { ComfyApp, CustomNode, Endpoint, HfModel, type ModalProject, Workflow } from '../../constructs';
import { seed } from './fields';
import type { RylaShared } from './shared';

export function addSeedVr2App(project: ModalProject, shared: RylaShared): ComfyApp {
  const app = new ComfyApp(project, 'seedvr2', {
    gpu: 'L40S',
    comfyVersion: '0.3.71',
    volumes: [shared.models],
    secrets: shared.secrets,
  });
  new CustomNode(app, 'SeedVr2Node', {
    repo: 'https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler',
    commit: '4490bd1f482e026674543386bb2a4d176da245b9',
    nodeSchemas: 'bin/ryla/nodes/seedvr2.json',
    importNeedsGpu: true,
  });
  new HfModel(app, 'Dit7b', {
    repo: 'numz/SeedVR2_comfyUI',
    file: 'seedvr2_ema_7b_fp16.safetensors',
    target: 'SEEDVR2',
    sizeGb: 16.5,
  });
  new HfModel(app, 'Vae', {
    repo: 'numz/SeedVR2_comfyUI',
    file: 'ema_vae_fp16.safetensors',
    target: 'SEEDVR2',
    sizeGb: 0.501,
  });

  new Endpoint(app, 'Upscale', {
    path: '/seedvr2',
    description: 'SeedVR2 7B upscaling of one image',
    workflow: Workflow.fromFile('workflows/seedvr2.json'),
    timeout: '10m',
    inputs: {
      image: { type: 'image', node: '1', input: 'image', description: 'The image: a data URL or base64' },
      resolution: {
        type: 'int',
        node: '4',
        input: 'resolution',
        default: 1080,
        min: 16,
        max: 16384,
        description: 'Target shortest edge in pixels',
      },
      ...seed('4', 'seed', 4105349922, 0xffffffff),
      max_resolution: {
        type: 'int',
        node: '4',
        input: 'max_resolution',
        default: 4000,
        min: 0,
        max: 16384,
        aliases: ['max_resolution_2'],
        description: 'Cap on the longest edge (0: none)',
      },
    },
    ignoredFields: {
      scale: 'SeedVR2 upscales to a target shortest edge: send resolution (the old server ignored scale too)',
    },
    output: 'png',
  });
  return app;
}
