import { readFileSync } from 'node:fs';
import { expectedRylaDoc, RYLA_DOC } from '../bin/update-docs';
import type { Manifest } from '../lib/synth/spec';
import * as path from 'node:path';
import { expectVerbatimCopies, ROOT, synthRyla } from './helpers';

const assembly = synthRyla();
const manifest: Manifest = JSON.parse(assembly.files.get('manifest.json')!);
const app = (id: string) => manifest.apps.find((a) => a.id === id)!;
const endpoints = manifest.apps.flatMap((a) => a.endpoints.map((e) => ({ ...e, app: a })));

// seeds/002 §1: the 7 split apps and their 21 endpoints.
const SEED_APPS: Record<string, string[]> = {
  'ryla-flux': ['/flux', '/flux-dev', '/flux-dev-lora'],
  'ryla-instantid': ['/sdxl-instantid', '/sdxl-turbo', '/sdxl-lightning', '/flux-pulid', '/flux-ipadapter-faceid'],
  'ryla-qwen-image': ['/qwen-image-2512', '/qwen-image-2512-fast', '/qwen-image-2512-lora', '/video-faceswap'],
  'ryla-qwen-edit': ['/qwen-image-edit-2511', '/qwen-image-inpaint-2511'],
  'ryla-z-image': ['/z-image-simple', '/z-image-danrisi', '/z-image-lora'],
  'ryla-wan26': ['/wan2.6', '/wan2.6-r2v', '/wan2.6-lora'],
  'ryla-seedvr2': ['/seedvr2'],
};

// seeds/002 §14 (= ENDPOINT_TIMEOUT_MS of modal-client.ts): client timeouts in minutes; 3 for the rest.
const CLIENT_TIMEOUT_MIN: Record<string, number> = {
  '/z-image-simple': 10,
  '/z-image-danrisi': 10,
  '/z-image-lora': 10,
  '/qwen-image-2512': 10,
  '/qwen-image-2512-fast': 10,
  '/qwen-image-2512-lora': 10,
  '/seedvr2': 10,
  '/video-faceswap': 10,
  '/wan2.6': 10,
  '/wan2.6-r2v': 10,
  '/wan2.6-lora': 10,
  '/sdxl-instantid': 7,
  '/flux-pulid': 7,
  '/flux-ipadapter-faceid': 7,
  '/qwen-image-edit-2511': 7,
  '/qwen-image-inpaint-2511': 7,
};

// Node types the workflows may use: core ComfyUI and the pinned custom nodes (reference/models.md §2, §3).
const KNOWN_NODE_TYPES = new Set([
  'CheckpointLoaderSimple',
  'UNETLoader',
  'CLIPLoader',
  'DualCLIPLoader',
  'VAELoader',
  'LoraLoader',
  'LoraLoaderModelOnly',
  'CLIPTextEncode',
  'FluxGuidance',
  'FluxKontextImageScale',
  'FluxKontextMultiReferenceLatentMethod',
  'EmptySD3LatentImage',
  'EmptyLatentImage',
  'EmptyHunyuanLatentVideo',
  'KSampler',
  'KSamplerAdvanced',
  'SamplerCustom',
  'SamplerCustomAdvanced',
  'KSamplerSelect',
  'BasicScheduler',
  'SDTurboScheduler',
  'BetaSamplingScheduler',
  'BasicGuider',
  'RandomNoise',
  'ModelSamplingAuraFlow',
  'ModelSamplingSD3',
  'CFGNorm',
  'TextEncodeQwenImageEditPlus',
  'VAEEncode',
  'VAEDecode',
  'SetLatentNoiseMask',
  'LoadImage',
  'LoadImageMask',
  'SaveImage',
  'ControlNetLoader',
  'ImageScale',
  'GetImageSize',
  'ImageCompositeMasked',
  'ImageFromBatch',
  'WanVaceToVideo',
  'TrimVideoLatent',
  'LoadVideo',
  'GetVideoComponents',
  'SaveAnimatedWEBP',
  // custom nodes
  'InstantIDModelLoader',
  'InstantIDFaceAnalysis',
  'ApplyInstantIDAdvanced',
  'PulidFluxModelLoader',
  'PulidFluxEvaClipLoader',
  'PulidFluxInsightFaceLoader',
  'ApplyPulidFlux',
  'LoadFluxIPAdapter',
  'ApplyFluxIPAdapter',
  'XlabsSampler',
  'VHS_LoadVideo',
  'VHS_VideoCombine',
  'ReActorFaceSwap',
  'ClownsharKSampler_Beta',
  'Sigmas Rescale',
  'SeedVR2LoadDiTModel',
  'SeedVR2LoadVAEModel',
  'SeedVR2VideoUpscaler',
]);

describe('the RYLA stack (npm run synth)', () => {
  test('one directory per app with its app.py, runtime and workflows; manifest and plan', () => {
    const files = [...assembly.files.keys()];
    expect(files.filter((f) => !f.startsWith('apps/'))).toEqual([
      'ci/deploy-modal.yml',
      'clients/endpoints.json',
      'clients/endpoints.py',
      'clients/endpoints.ts',
      'deploy-plan.json',
      'docs/ENDPOINT-APP-MAPPING.md',
      'manifest.json',
    ]);
    for (const a of manifest.apps) {
      expect(files).toEqual(
        expect.arrayContaining([
          `apps/${a.id}/app.py`,
          `apps/${a.id}/comfy_runtime.py`,
          `apps/${a.id}/request_files.py`,
          ...a.endpoints.map((e) => `apps/${a.id}/${e.workflow}`),
        ]),
      );
    }
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

  // Snapshots guard what a reviewer reads in a PR: the manifest, the plan, one app of each kind (flux: core
  // nodes only; instantid: custom nodes, pins, URL models), the clients, docs and CI workflow. The other
  // apps' settings, the constraints files and the request schemas are checked by the tests of meaning
  // here, test/python/test_apps.py (each app imported with the real modal) and the contract tests.
  const SNAPSHOTTED = [
    'manifest.json',
    'deploy-plan.json',
    'apps/flux/app.py',
    'apps/instantid/app.py',
    'clients/endpoints.ts',
    'clients/endpoints.py',
    'docs/ENDPOINT-APP-MAPPING.md',
    'ci/deploy-modal.yml',
  ];
  test.each(SNAPSHOTTED)('snapshot of %s', (file) => {
    expect(assembly.files.get(file)).toMatchSnapshot();
  });

  test('7 apps named ryla-<id>, with exactly the 21 endpoints of the seed, each under its seed app', () => {
    expect(manifest.apps.map((a) => a.id)).toEqual([
      'flux',
      'instantid',
      'qwen-image',
      'qwen-edit',
      'z-image',
      'wan26',
      'seedvr2',
    ]);
    for (const a of manifest.apps) expect(a.modalName).toBe(`ryla-${a.id}`);
    const byApp = Object.fromEntries(manifest.apps.map((a) => [a.modalName, a.endpoints.map((e) => e.path)]));
    expect(byApp).toEqual(SEED_APPS);
    expect(endpoints).toHaveLength(21);
  });

  test('GPUs from the model sizes (reference/models.md) and the H200 measurements (rule 5), ComfyUI pinned per app', () => {
    expect(Object.fromEntries(manifest.apps.map((a) => [a.id, [a.gpu, a.comfyVersion]]))).toEqual({
      flux: ['L40S', '0.3.67'],
      instantid: ['L40S', '0.3.67'], // FLUX patch nodes break on newer cores
      'qwen-image': [['H100', 'A100-80GB'], '0.10.0'], // 43.4 GB measured peak: over an L40S's 48 GB with rule 5's margin
      'qwen-edit': [['A100-80GB', 'H100'], '0.10.0'], // bf16 edit model: ~51 GB of weights
      'z-image': ['L40S', '0.10.0'], // Z-Image needs ≥ 0.3.73, RES4LYF ≥ 0.8.0
      wan26: [['H100', 'A100-80GB'], '0.10.0'],
      seedvr2: ['L40S', '0.3.71'],
    });
  });

  test("client timeouts are the seed's, and each app's timeout covers them (no server 408 before the client gives up)", () => {
    for (const e of endpoints) {
      expect([e.path, e.clientTimeoutMs]).toEqual([e.path, (CLIENT_TIMEOUT_MIN[e.path] ?? 3) * 60_000]);
      expect(e.app.timeoutSeconds * 1000).toBeGreaterThanOrEqual(e.clientTimeoutMs);
      expect(e.timeoutSeconds).toBeLessThanOrEqual(e.app.timeoutSeconds);
    }
    expect(Object.fromEntries(manifest.apps.map((a) => [a.id, a.timeoutSeconds]))).toEqual({
      flux: 300,
      instantid: 420,
      'qwen-image': 600,
      'qwen-edit': 420,
      'z-image': 600,
      wan26: 600,
      seedvr2: 600,
    });
  });

  test("clients and docs: the seeds' URLs (https://ryla--ryla-<app>-comfyui-fastapi-app.modal.run<path>) and timeouts, one docs row per endpoint", () => {
    const clients = JSON.parse(assembly.files.get('clients/endpoints.json')!).endpoints;
    expect(clients['/wan2.6'].url).toBe('https://ryla--ryla-wan26-comfyui-fastapi-app.modal.run/wan2.6');
    for (const e of endpoints) {
      expect(clients[e.path]).toMatchObject({
        url: `https://ryla--${e.app.modalName}-comfyui-fastapi-app.modal.run${e.path}`,
        clientTimeoutMs: (CLIENT_TIMEOUT_MIN[e.path] ?? 3) * 60_000,
      });
    }
    const doc = assembly.files.get('docs/ENDPOINT-APP-MAPPING.md')!;
    const rows = doc
      .slice(0, doc.indexOf('## Measured GPU cost'))
      .split('\n')
      .filter((l) => l.startsWith('| `/'));
    expect(rows).toHaveLength(21);
    expect(rows.find((r) => r.startsWith('| `/wan2.6` '))!.split(' | ')).toEqual([
      '| `/wan2.6`',
      '`wan26`',
      'https://ryla--ryla-wan26-comfyui-fastapi-app.modal.run/wan2.6',
      '10m',
      '10m',
      'H100 → A100-80GB',
      expect.stringContaining('`length\\|num_frames` [33]'),
    ]);
    expect(rows.find((r) => r.startsWith('| `/flux` '))).toContain('| 3m | 5m | L40S |');
  });

  test('volumes ryla-models at /root/models and hf-hub-cache at /cache, runtime secret huggingface, no proxy auth (clients send none)', () => {
    for (const a of manifest.apps) {
      expect(a.volumes).toEqual(
        expect.arrayContaining([
          { name: 'ryla-models', mountPath: '/root/models', createIfMissing: false },
          expect.objectContaining({ name: 'hf-hub-cache', mountPath: '/cache' }),
        ]),
      );
      expect(a.secrets).toEqual(['huggingface']);
      expect(a.requiresProxyAuth).toBe(false);
    }
  });

  test('responses: bytes that match their content type (today: PNG labelled image/jpeg)', () => {
    const byType = (type: string) =>
      endpoints
        .filter((e) => e.contentType === type)
        .map((e) => e.path)
        .sort();
    expect(byType('video/mp4')).toEqual(['/video-faceswap']);
    expect(byType('image/webp')).toEqual(['/wan2.6', '/wan2.6-lora', '/wan2.6-r2v']);
    expect(byType('image/png')).toEqual(['/seedvr2']);
    expect(byType('image/jpeg')).toHaveLength(16);
    for (const e of endpoints.filter((x) => x.contentType === 'image/webp')) {
      const graph = JSON.parse(assembly.files.get(`apps/${e.app.id}/${e.workflow}`)!);
      expect(graph[e.outputNode].class_type).toBe('SaveAnimatedWEBP'); // animated, passed through unconverted
    }
  });

  test('every model is a single file of a named repo, in the folder its loader reads; every custom node at a full SHA', () => {
    for (const a of manifest.apps) {
      for (const m of a.models) {
        if (m.kind !== 'hf') continue;
        expect(m.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
        expect(m.file).not.toMatch(/[*?]/);
        expect(m.revision === null || /^[0-9a-f]{40}$/.test(m.revision)).toBe(true);
      }
      for (const n of a.customNodes) expect(n.commit).toMatch(/^[0-9a-f]{40}$/);
    }
    const folders = Object.fromEntries(manifest.apps.flatMap((a) => a.models.map((m) => [m.filename, m.target])));
    expect(folders).toMatchObject({
      'flux1-dev.safetensors': 'diffusion_models',
      'ip-adapter.bin': 'instantid',
      'pulid_flux_v0.9.1.safetensors': 'pulid',
      'ip_adapter.safetensors': 'xlabs/ipadapters',
      'glintr100.onnx': 'insightface/models/antelopev2',
      'inswapper_128.onnx': 'insightface',
      'seedvr2_ema_7b_fp16.safetensors': 'SEEDVR2',
      'z_image_turbo_bf16.safetensors': 'diffusion_models',
      ryla: 'loras',
    });
    expect(app('instantid').models.find((m) => m.filename === 'flux1-dev.safetensors')).toMatchObject({
      gated: true,
      repo: 'black-forest-labs/FLUX.1-dev',
    });
    expect(app('qwen-image').models.find((m) => m.filename === 'inswapper_128.onnx')).toMatchObject({
      repoType: 'dataset',
    });
  });

  test('each workflow uses real node types, and every binding names a literal input of a node it has', () => {
    for (const e of endpoints) {
      const graph = JSON.parse(assembly.files.get(`apps/${e.app.id}/${e.workflow}`)!);
      for (const node of Object.values<{ class_type: string }>(graph))
        expect([e.path, KNOWN_NODE_TYPES.has(node.class_type)]).toEqual([e.path, true]);
      for (const f of e.fields) {
        for (const t of f.targets) {
          const value = graph[t.node]?.inputs?.[t.input];
          expect([e.path, f.name, value !== undefined && !Array.isArray(value)]).toEqual([e.path, f.name, true]);
        }
      }
    }
  });

  test("today's field names and defaults (reference/ryla-contract.md §3)", () => {
    const field = (p: string, name: string) => endpoints.find((e) => e.path === p)!.fields.find((f) => f.name === name);
    expect(field('/flux', 'steps')?.default).toBe(4);
    expect(field('/flux-dev', 'steps')?.default).toBe(20);
    expect(field('/flux', 'seed')?.default).toBe(42);
    expect(field('/flux-pulid', 'seed')?.default).toBeUndefined(); // random
    expect(field('/flux-pulid', 'pulid_weight')).toMatchObject({ default: 0.9, aliases: ['pulid_strength'] });
    expect(field('/sdxl-instantid', 'cfg')?.default).toBe(7);
    expect(field('/qwen-image-2512', 'steps')?.default).toBe(50);
    expect(field('/qwen-image-2512-fast', 'steps')?.default).toBe(4);
    expect(field('/video-faceswap', 'fps')?.default).toBe(30);
    expect(field('/wan2.6', 'length')).toMatchObject({ default: 33, aliases: ['num_frames'] });
    expect([field('/wan2.6', 'width')?.default, field('/wan2.6', 'height')?.default]).toEqual([832, 480]);
    expect(field('/wan2.6-r2v', 'reference_videos')).toMatchObject({
      type: 'video',
      maxItems: 3,
      aliases: ['reference_video'],
      required: true,
    });
    expect(field('/seedvr2', 'seed')?.default).toBe(4105349922);
    for (const p of ['/flux-dev-lora', '/qwen-image-2512-lora', '/z-image-lora', '/wan2.6-lora']) {
      expect(endpoints.find((e) => e.path === p)!.requireOneOf).toEqual([['lora_name', 'lora_id']]);
    }
  });

  test("docs/ryla-stack.md's endpoint table is the one the stack generates (npm run docs rewrites it)", () => {
    const readme = readFileSync(RYLA_DOC, 'utf8');
    expect(readme).toContain('| `ryla-wan26` | H100 → A100-80GB | 10m | `/wan2.6-r2v` | image/webp | 10m |');
    expect(readme).toBe(expectedRylaDoc());
  });
});

describe('the RYLA import gates', () => {
  const gateOf = (id: string) =>
    manifest.apps
      .find((a) => a.id === id)!
      .image.find((l) => l.kind === 'run' && l.commands[0].includes('import_gate.py')) as {
      commands: string[];
      gpu?: string;
    };

  test("each app checks its packs and every class its workflows use; SeedVR2 (it needs a GPU to import) on the app's GPU", () => {
    expect(gateOf('seedvr2').gpu).toBe('L40S');
    expect(gateOf('seedvr2').commands[0]).not.toContain('--cpu');
    expect(gateOf('instantid').gpu).toBeUndefined();
    expect(gateOf('instantid').commands[0]).toMatch(
      /--pack ComfyUI_InstantID --pack ComfyUI_PuLID_Flux_ll --pack x-flux-comfyui .*--class ApplyPulidFlux=flux-pulid.json .* --cpu$/,
    );
    for (const app of manifest.apps) {
      const classes = new Set(
        app.endpoints.flatMap((e) =>
          Object.values(
            JSON.parse(assembly.files.get(`apps/${app.id}/${e.workflow}`)!) as { class_type: string }[],
          ).map((n) => n.class_type),
        ),
      );
      const gated = [...gateOf(app.id).commands[0].matchAll(/--class '?([^=']+)=/g)].map((m) => m[1]); // shell-quoted when it has a space
      expect(gated).toEqual([...classes].sort());
    }
  });
});

describe('RYLA pins and offline serving', () => {
  test('instantid writes its pins to constraints.txt, which every later pip install honours', () => {
    expect(assembly.files.get('apps/instantid/constraints.txt')).toBe(
      'insightface==0.7.3\nonnxruntime-gpu==1.21.0\nfacexlib==0.3.0\ntimm==1.0.15\nftfy==6.3.1\n',
    );
    const image = manifest.apps.find((a) => a.id === 'instantid')!.image;
    const env = image.findIndex((l) => l.kind === 'env' && 'PIP_CONSTRAINT' in l.vars);
    const firstNode = image.findIndex((l) => l.comment.startsWith('custom node'));
    expect(env).toBeGreaterThan(0);
    expect(env).toBeLessThan(firstNode);
    expect(assembly.files.has('apps/flux/constraints.txt')).toBe(false);
  });

  test('every app serves offline, after all of its downloads', () => {
    for (const app of manifest.apps) {
      const offline = app.image.findIndex((l) => l.kind === 'env' && l.vars.HF_HUB_OFFLINE === '1');
      const lastDownload = app.image.map((l) => l.kind).lastIndexOf('hf-download');
      expect(offline).toBeGreaterThan(lastDownload);
    }
  });
});
