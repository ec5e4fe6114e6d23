/**
 * A cdk8s app of the RYLA stack's shape, for `npm run bench`'s side-by-side: 7 charts (one per app), each
 * with a Deployment, a Service and a ConfigMap (its workflows) per endpoint: 21 endpoints, 63 objects,
 * synthesized to YAML as cdk8s users run it (`ts-node --swc`). Output: $CDK8S_OUTDIR.
 */
import { ApiObject, App, Chart } from 'cdk8s';

const SHAPE: Record<string, number> = {
  flux: 3,
  instantid: 5,
  'qwen-image': 4,
  'qwen-edit': 2,
  'z-image': 3,
  wan26: 3,
  seedvr2: 1,
};

const app = new App({ outdir: process.env.CDK8S_OUTDIR ?? 'dist' });
for (const [id, endpoints] of Object.entries(SHAPE)) {
  const chart = new Chart(app, id);
  for (let e = 0; e < endpoints; e++) {
    const name = `${id}-e${e}`;
    const labels = { app: id, endpoint: name };
    new ApiObject(chart, `${name}-workflow`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-workflow` },
      data: { 'workflow.json': JSON.stringify({ 1: { class_type: 'SaveImage', inputs: {} } }) },
    });
    new ApiObject(chart, `${name}-deployment`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'comfyui', image: 'comfyui:0.3.75', resources: { limits: { 'nvidia.com/gpu': 1 } } }],
          },
        },
      },
    });
    new ApiObject(chart, `${name}-service`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 8000 }] },
    });
  }
}
app.synth();
