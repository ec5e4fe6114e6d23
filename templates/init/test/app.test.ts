import { Match, Template } from 'modal-cdk/assertions';
import * as path from 'node:path';
import buildProject from '../bin/app';

// The stack as `modal-cdk synth` builds it (cdk-like.json's workspace, client policy and context).
const template = Template.fromBuilder(buildProject, { projectDir: path.join(__dirname, '..') });

test('the app runs on an L40S with a timeout covering its endpoint', () => {
  template.hasApp('sdxl', { gpu: 'L40S', timeout: '3m' });
});

test('/generate answers JPEG within two minutes and needs a prompt', () => {
  template.hasEndpoint('/generate', {
    output: 'jpeg',
    timeout: '2m',
    clientTimeout: '2m',
    fields: Match.objectLike({ prompt: Match.objectLike({ required: true }) }),
  });
});

test('a request binds into the workflow ComfyUI runs', () => {
  const graph = template.bindRequest('/generate', { prompt: 'a lighthouse', steps: 4, seed: 7 });
  expect(graph['6'].inputs.text).toBe('a lighthouse');
  expect(graph['3'].inputs.seed).toBe(7);
  expect(graph['3'].inputs.steps).toBe(4);
});

test('the sdxl app has one endpoint (template.toJSON() is the whole manifest, e.g. for a snapshot)', () => {
  const sdxl = template.toJSON().apps.find((a) => a.id === 'sdxl');
  expect(sdxl?.endpoints.map((e) => e.path)).toEqual(['/generate']);
});
