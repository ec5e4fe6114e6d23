import { OUTPUT_MARKER } from '../lib/synth/write';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import buildExample from '../bin/example';
import { CONTEXT_ENV_VAR } from '../constructs/modal-project';
import type { Manifest } from '../lib/synth/spec';
import { expectVerbatimCopies, ROOT, tempDir } from './helpers';

// The small example stack (bin/example.ts), in workspace "example".
function synthExample(outdir?: string) {
  process.env[CONTEXT_ENV_VAR] = JSON.stringify({ 'modal-cdk:workspace': 'example', 'modal-cdk:environment': 'main' });
  try {
    return buildExample().synth({ outdir });
  } finally {
    delete process.env[CONTEXT_ENV_VAR];
  }
}

const assembly = synthExample();
const manifest: Manifest = JSON.parse(assembly.files.get('manifest.json')!);

describe('the example stack (bin/example.ts)', () => {
  test('file list', () => {
    expect([...assembly.files.keys()]).toEqual([
      'apps/flux/app.py',
      'apps/flux/comfy_process.py',
      'apps/flux/comfy_prompt.py',
      'apps/flux/comfy_runtime.py',
      'apps/flux/import_gate.py',
      'apps/flux/job_list.py',
      'apps/flux/job_results.py',
      'apps/flux/job_routes.py',
      'apps/flux/job_runner.py',
      'apps/flux/job_states.py',
      'apps/flux/jobs.py',
      'apps/flux/local_serve.py',
      'apps/flux/modal_cdk_snapshot/__init__.py',
      'apps/flux/modal_cdk_snapshot/prestartup_script.py',
      'apps/flux/request_binding.py',
      'apps/flux/request_files.py',
      'apps/flux/response_files.py',
      'apps/flux/webhooks.py',
      'apps/flux/workflows/flux-img2img.json',
      'apps/flux/workflows/flux-schnell.json',
      'apps/upscale/app.py',
      'apps/upscale/comfy_process.py',
      'apps/upscale/comfy_prompt.py',
      'apps/upscale/comfy_runtime.py',
      'apps/upscale/import_gate.py',
      'apps/upscale/job_list.py',
      'apps/upscale/job_results.py',
      'apps/upscale/job_routes.py',
      'apps/upscale/job_runner.py',
      'apps/upscale/job_states.py',
      'apps/upscale/jobs.py',
      'apps/upscale/local_serve.py',
      'apps/upscale/request_binding.py',
      'apps/upscale/request_files.py',
      'apps/upscale/response_files.py',
      'apps/upscale/webhooks.py',
      'apps/upscale/workflows/seedvr2-upscale.json',
      'ci/deploy-modal.yml',
      'clients/endpoints.json',
      'clients/endpoints.py',
      'clients/endpoints.ts',
      'deploy-plan.json',
      'docs/ENDPOINT-APP-MAPPING.md',
      'manifest.json',
    ]);
  });

  // The runtime and the workflows are copies of their sources: checked equal once, not snapshotted per app.
  const verbatim = (f: string) =>
    /^apps\/[^/]+\/(comfy_runtime\.py|request_files\.py|response_files\.py|import_gate\.py|modal_cdk_snapshot\/.+|workflows\/.+)$/.test(
      f,
    );

  test('files copied verbatim (runtime, workflows) equal their sources', () => {
    expect(expectVerbatimCopies(assembly.files, path.join(ROOT, 'workflows'))).toEqual(
      [...assembly.files.keys()].filter(verbatim),
    );
  });

  // One app of each kind the RYLA snapshots do not have (flux: memory snapshots; upscale: a custom node
  // that needs a GPU to import, a GPU fallback list) and the manifest; clients, docs, plan and CI are the
  // same templates as RYLA's, snapshotted there.
  test.each(['manifest.json', 'apps/flux/app.py', 'apps/upscale/app.py'])('snapshot of %s', (file) => {
    expect(assembly.files.get(file)).toMatchSnapshot();
  });

  test('manifest: project, apps, and the endpoints of each app', () => {
    expect(manifest.version).toBe('1');
    expect(manifest.project).toEqual({ name: 'example', workspace: 'example', environment: 'main' });
    expect(manifest.apps.map((a) => [a.id, a.modalName, a.entry])).toEqual([
      ['flux', 'example-flux', 'apps/flux/app.py'],
      ['upscale', 'example-upscale', 'apps/upscale/app.py'],
    ]);
    const endpointApp = Object.fromEntries(manifest.apps.flatMap((a) => a.endpoints.map((e) => [e.path, a.id])));
    expect(endpointApp).toEqual({ '/flux': 'flux', '/flux-img2img': 'flux', '/upscale': 'upscale' });
  });

  test("manifest: each app's GPU and timeouts; each endpoint's client timeout and output", () => {
    const flux = manifest.apps.find((a) => a.id === 'flux')!;
    const upscale = manifest.apps.find((a) => a.id === 'upscale')!;
    expect([flux.gpu, flux.timeoutSeconds, flux.startupTimeoutSeconds]).toEqual(['L40S', 300, 600]);
    expect([upscale.gpu, upscale.timeoutSeconds]).toEqual([['L40S', 'A100-80GB'], 600]);
    expect(flux.endpoints.map((e) => [e.path, e.clientTimeoutMs, e.output, e.contentType])).toEqual([
      ['/flux', 120_000, 'jpeg', 'image/jpeg'],
      ['/flux-img2img', 180_000, 'png', 'image/png'],
    ]);
    for (const app of manifest.apps) {
      for (const e of app.endpoints) expect(app.timeoutSeconds * 1000).toBeGreaterThanOrEqual(e.clientTimeoutMs);
    }
  });

  test('manifest: models land where ComfyUI looks for them; the custom node is pinned', () => {
    const flux = manifest.apps.find((a) => a.id === 'flux')!;
    const upscale = manifest.apps.find((a) => a.id === 'upscale')!;
    expect(flux.models.map((m) => [m.kind, `${m.target}/${m.filename}`])).toEqual([
      ['hf', 'checkpoints/flux1-schnell-fp8.safetensors'],
      ['volume', 'loras/example-style.safetensors'],
    ]);
    expect(upscale.models.map((m) => m.kind === 'hf' && [m.repo, m.placement])).toEqual([
      ['numz/SeedVR2_comfyUI', 'image'],
      ['numz/SeedVR2_comfyUI', 'image'],
    ]);
    expect(upscale.customNodes.map((n) => n.commit)).toEqual(['4490bd1f482e026674543386bb2a4d176da245b9']);
    expect(upscale.comfyVersion).toBe('0.3.71');
    expect(flux.comfyVersion).toBe('0.28.2');
  });

  test('the image layers are in cache-friendly order: the import gate after the models, local files last', () => {
    const upscale = manifest.apps.find((a) => a.id === 'upscale')!;
    expect(upscale.image.map((l) => l.kind)).toEqual([
      'apt',
      'pip',
      'env',
      'run',
      'run',
      'run',
      'hf-download',
      'hf-download',
      'local',
      'run',
      'env',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
      'local',
    ]);
    // The runtime's files, each beside /root/comfy_runtime.py where it imports them; local serve stays out.
    const runtime = upscale.image.filter(
      (l) => l.kind === 'local' && l.what === 'file' && l.source !== 'import_gate.py',
    );
    expect(runtime.map((l) => (l as { source: string }).source)).toEqual([
      'comfy_runtime.py',
      'comfy_process.py',
      'comfy_prompt.py',
      'request_binding.py',
      'request_files.py',
      'response_files.py',
      'jobs.py',
      'job_states.py',
      'job_list.py',
      'job_runner.py',
      'job_routes.py',
      'job_results.py',
      'webhooks.py',
    ]);
    // Serving containers never download: after every build step, the hubs are offline.
    expect(upscale.image[10]).toEqual({
      kind: 'env',
      comment: 'no downloads at run time: every weight is a declared model',
      vars: { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_DATASETS_OFFLINE: '1' },
    });
    const gate = upscale.image[9] as { kind: 'run'; commands: string[]; gpu?: string };
    expect(gate.commands).toEqual([
      'python /root/import_gate.py --comfy-dir /root/comfy/ComfyUI --pack ComfyUI-SeedVR2_VideoUpscaler --class LoadImage=seedvr2-upscale.json --class SaveImage=seedvr2-upscale.json --class SeedVR2LoadDiTModel=seedvr2-upscale.json --class SeedVR2LoadVAEModel=seedvr2-upscale.json --class SeedVR2VideoUpscaler=seedvr2-upscale.json --cpu',
    ]);
    expect(gate.gpu).toBeUndefined();
    expect(upscale.image[8]).toMatchObject({ kind: 'local', source: 'import_gate.py', copy: true });
  });

  test('deploy plan: one modal deploy per app with its name, environment and hash tag', () => {
    const plan = JSON.parse(assembly.files.get('deploy-plan.json')!);
    expect(plan.steps).toEqual(
      manifest.apps.map((a) => ({
        appId: a.id,
        modalName: a.modalName,
        entry: a.entry,
        hash: a.hash,
        standingCost: a.standingCost,
        coldStart: a.coldStart,
        args: ['deploy', a.entry, '--name', a.modalName, '--env', 'main', '--tag', a.hash.slice(0, 12)],
      })),
    );
  });

  test('each app hash covers exactly its own files', () => {
    const flux = manifest.apps.find((a) => a.id === 'flux')!;
    expect(flux.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(flux.hash).not.toBe(manifest.apps[1].hash);
  });

  test('output is deterministic: a second synth, written to disk, is byte-identical', () => {
    const dir = tempDir();
    synthExample(dir);
    const written = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
      .sort();
    expect(written).toEqual([...assembly.files.keys(), OUTPUT_MARKER].sort());
    for (const file of written.filter((f) => f !== OUTPUT_MARKER))
      expect(readFileSync(path.join(dir, file), 'utf8')).toBe(assembly.files.get(file));
  });

  test('no absolute local paths, timestamps or secrets values in any file', () => {
    for (const [file, content] of assembly.files) {
      expect([file, content.includes(ROOT)]).toEqual([file, false]);
      expect([file, /\b20\d\d-\d\d-\d\dT/.test(content)]).toEqual([file, false]);
      expect([file, /hf_[A-Za-z0-9]{20,}/.test(content)]).toEqual([file, false]);
    }
  });
});
