import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, runCliIn, tempDir } from './helpers';

// The workflows and projects the import tests share (test/import.test.ts, test/import-versions.test.ts).
export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const CKPT_URL =
  'https://huggingface.co/stabilityai/sdxl-turbo/resolve/main/sd_xl_turbo_1.0_fp16.safetensors?download=true';

export interface Options {
  /** The loader's properties.models (default: one HF entry for its file). */
  models?: unknown[];
  /** Extra UI nodes (custom ones). */
  extra?: unknown[];
}

/**
 * A UI-format text-to-image workflow as ComfyUI's editor saves it: loader (with its models entry),
 * positive and negative CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, SaveImage.
 */
export function uiWorkflow(o: Options = {}) {
  const core = { cnr_id: 'comfy-core', ver: '0.3.75' };
  const models = o.models ?? [{ name: 'sd_xl_turbo_1.0_fp16.safetensors', url: CKPT_URL, directory: 'checkpoints' }];
  return {
    last_node_id: 9,
    last_link_id: 9,
    nodes: [
      {
        id: 4,
        type: 'CheckpointLoaderSimple',
        outputs: [
          { name: 'MODEL', type: 'MODEL', links: [1] },
          { name: 'CLIP', type: 'CLIP', links: [5, 6] },
          { name: 'VAE', type: 'VAE', links: [8] },
        ],
        properties: { ...core, models },
        widgets_values: ['sd_xl_turbo_1.0_fp16.safetensors'],
      },
      {
        id: 6,
        type: 'CLIPTextEncode',
        inputs: [{ name: 'clip', type: 'CLIP', link: 5 }],
        properties: core,
        widgets_values: ['a fox'],
      },
      {
        id: 7,
        type: 'CLIPTextEncode',
        inputs: [{ name: 'clip', type: 'CLIP', link: 6 }],
        properties: core,
        widgets_values: ['blurry'],
      },
      { id: 5, type: 'EmptyLatentImage', properties: core, widgets_values: [512, 512, 1] },
      {
        id: 3,
        type: 'KSampler',
        inputs: [
          { name: 'model', type: 'MODEL', link: 1 },
          { name: 'positive', type: 'CONDITIONING', link: 2 },
          { name: 'negative', type: 'CONDITIONING', link: 3 },
          { name: 'latent_image', type: 'LATENT', link: 4 },
        ],
        properties: core,
        widgets_values: [42, 'randomize', 4, 1.5, 'euler', 'normal', 1],
      },
      {
        id: 8,
        type: 'VAEDecode',
        inputs: [
          { name: 'samples', type: 'LATENT', link: 7 },
          { name: 'vae', type: 'VAE', link: 8 },
        ],
        properties: core,
      },
      {
        id: 9,
        type: 'SaveImage',
        inputs: [{ name: 'images', type: 'IMAGE', link: 9 }],
        properties: core,
        widgets_values: ['out'],
      },
      ...(o.extra ?? []),
    ],
    links: [
      [1, 4, 0, 3, 0, 'MODEL'],
      [2, 6, 0, 3, 1, 'CONDITIONING'],
      [3, 7, 0, 3, 2, 'CONDITIONING'],
      [4, 5, 0, 3, 3, 'LATENT'],
      [5, 4, 1, 6, 0, 'CLIP'],
      [6, 4, 1, 7, 0, 'CLIP'],
      [7, 3, 0, 8, 0, 'LATENT'],
      [8, 4, 2, 8, 1, 'VAE'],
      [9, 8, 0, 9, 0, 'IMAGE'],
    ],
    version: 0.4,
  };
}

/** Two output-only custom nodes: one from a registry pack (cnr_id), one from a git pack (aux_id). */
export const CUSTOM_NODES = [
  { id: 20, type: 'FakeNote', properties: { cnr_id: 'comfyui-fakepack', ver: '1.2.3' }, widgets_values: ['hi'] },
  { id: 21, type: 'ThingNode', properties: { aux_id: 'someone/ComfyUI-Thing', ver: 'unknown' }, widgets_values: [3] },
];
export const entry = (widget: unknown) => ({
  input: { required: widget },
  input_order: { required: Object.keys(widget as object) },
  output: [],
  output_name: [],
  output_node: true,
  name: '',
  display_name: '',
  description: '',
  category: 'test',
  python_module: 'custom_nodes.x',
});
export const CUSTOM_SCHEMAS = {
  FakeNote: entry({ text: ['STRING', { default: '' }] }),
  ThingNode: entry({ count: ['INT', { default: 1, min: 0, max: 9 }] }),
};

/** An init project whose `modal-cdk` is this checkout's constructs, with `workflow` saved at dir/in/<name>. */
export async function project(workflow: unknown, name = 'txt2img.json'): Promise<{ dir: string; file: string }> {
  const dir = tempDir();
  expect((await runCliIn(dir, ['init', '--name', 'team'])).code).toBe(0);
  const shim = path.join(dir, 'node_modules', 'modal-cdk');
  mkdirSync(shim, { recursive: true });
  writeFileSync(path.join(shim, 'package.json'), '{ "name": "modal-cdk", "main": "index.js" }\n');
  writeFileSync(
    path.join(shim, 'index.js'),
    `module.exports = require(${JSON.stringify(path.join(ROOT, 'constructs'))});\n`,
  );
  mkdirSync(path.join(dir, 'in'));
  const file = path.join(dir, 'in', name);
  writeFileSync(file, JSON.stringify(workflow, null, 2));
  return { dir, file };
}

export const read = (dir: string, rel: string) => readFileSync(path.join(dir, rel), 'utf8');
/** The code with its layout taken out (one space for any run of white space, no trailing commas), to match on. */
export const squashed = (code: string) =>
  code
    .replace(/\s+/g, ' ')
    .replace(/,\s*([}\])])/g, ' $1')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')');
