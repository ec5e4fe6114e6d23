/**
 * The stack: one Modal app serving one ComfyUI workflow as an HTTP endpoint. `npm run synth` builds it into
 * synth.out/ (the Modal app, clients, docs); `npm run deploy -- --all` deploys it. Every prop is documented
 * in modal-cdk's constructs.
 */
import * as path from 'node:path';
import { ComfyApp, Endpoint, HfModel, ModalProject, Warnings, Workflow } from 'modal-cdk';

export default function buildProject(): ModalProject {
  const project = new ModalProject(undefined, '{{name}}', { root: path.join(__dirname, '..') });
  const app = new ComfyApp(project, 'sdxl', { gpu: 'L40S', timeout: '3m', maxContainers: 2 });
  const sdxl = new HfModel(app, 'SdxlTurbo', {
    repo: 'stabilityai/sdxl-turbo',
    file: 'sd_xl_turbo_1.0_fp16.safetensors',
    target: 'checkpoints',
    sizeGb: 6.94,
  });
  // Pin the file: set revision to a commit SHA from huggingface.co/stabilityai/sdxl-turbo/commits/main, then remove
  // this line.
  Warnings.of(sdxl).acknowledge('hf-unpinned-revision', 'a new project: pin the revision before the first deploy');
  new Endpoint(app, 'Generate', {
    path: '/generate',
    description: 'SDXL Turbo text-to-image, 1 to 4 steps',
    workflow: Workflow.fromFile('workflows/sdxl-turbo.json'),
    timeout: '2m',
    inputs: {
      prompt: { type: 'string', node: '6', input: 'text', minLength: 1, maxLength: 2000, description: 'What to draw' },
      steps: { type: 'int', node: '3', input: 'steps', default: 1, min: 1, max: 4 },
      seed: { type: 'seed', node: '3', input: 'seed' },
    },
    output: 'jpeg',
  });
  // modal-cdk import adds apps above this line
  return project;
}
