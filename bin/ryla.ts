/**
 * The RYLA stack: the team's 7 Modal apps and 21 endpoints (seeds/002 §1), with today's HTTP contract
 * (reference/ryla-contract.md). `npm run synth` builds it (cdk-like.json "app").
 */
import * as path from 'node:path';
import { ModalProject, Volume } from '../constructs';
import { runApp } from '../lib/run-app';
import { addFluxApp } from './ryla/flux';
import { addInstantIdApp } from './ryla/instantid';
import { addQwenEditApp } from './ryla/qwen-edit';
import { addQwenImageApp } from './ryla/qwen-image';
import { addSeedVr2App } from './ryla/seedvr2';
import { addWanApp } from './ryla/wan26';
import { addZImageApp } from './ryla/z-image';

export default function buildRyla(): ModalProject {
  const project = new ModalProject(undefined, 'ryla', {
    root: path.join(__dirname, '..'),
    huggingfaceSecret: 'huggingface',
    // The release ryla-flux has run on; the apps that need newer nodes pin their own.
    comfyVersion: '0.3.67',
    // Today's clients send no auth headers; turn this on once they send Modal-Key/Modal-Secret.
    requiresProxyAuth: false,
  });
  const shared = {
    models: new Volume(project, 'Models', { name: 'ryla-models', mountPath: '/root/models' }),
    secrets: ['huggingface'],
  };
  addFluxApp(project, shared);
  addInstantIdApp(project, shared);
  addQwenImageApp(project, shared);
  addQwenEditApp(project, shared);
  addZImageApp(project, shared);
  addWanApp(project, shared);
  addSeedVr2App(project, shared);
  return project;
}

if (require.main === module) runApp(buildRyla);
