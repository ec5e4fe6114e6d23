import * as path from 'node:path';
import type { ApiGraph } from '../comfy/graph-check';
import { isLink } from '../comfy/graph-check';
import type { SchemaSet } from '../comfy/schema-set';
import type { ModelEntry } from './ui-properties';

/** Where a loader input names a file: node id, class and input, for messages and TODOs. */
export interface LoaderInput {
  readonly node: string;
  readonly cls: string;
  readonly input: string;
}

/** One model file the workflow loads, as import declares it. */
export type ImportedModel =
  | {
      readonly kind: 'hf';
      readonly repo: string;
      readonly repoType: 'model' | 'dataset';
      /** The path inside the repo. */
      readonly file: string;
      /** From the URL: a branch name (`main`) is kept; synth warns that it can move. */
      readonly revision: string;
      readonly target: string;
      /** Set when the name ComfyUI lists differs from the repo file's basename. */
      readonly filename?: string;
      readonly usedBy: LoaderInput[];
    }
  | {
      readonly kind: 'url';
      readonly url: string;
      readonly target: string;
      readonly filename: string;
      readonly sha256?: string;
      readonly usedBy: LoaderInput[];
    }
  | {
      readonly kind: 'todo';
      /** The models folder the loader lists, and the name the workflow gives. */
      readonly folder: string;
      readonly name: string;
      readonly reason: string;
      readonly usedBy: LoaderInput[];
    };

/**
 * The model files the graph's loaders name (every combo input that lists a models folder, with a literal
 * value), each matched to the workflow's `models` entry of that name: a Hugging Face `resolve` URL becomes
 * an HfModel, another https URL a UrlModel; no entry, or one that cannot be used, a TODO. Never a guessed URL.
 */
export function importModels(graph: ApiGraph, schemas: SchemaSet, entries: readonly ModelEntry[]): ImportedModel[] {
  const byKey = new Map<string, ImportedModel>();
  for (const id of sortIds(Object.keys(graph))) {
    const node = graph[id];
    const cls = schemas.get(node.class_type);
    if (!cls) continue;
    for (const spec of cls.inputs) {
      const value = node.inputs[spec.name];
      if (!spec.modelFolders || typeof value !== 'string' || isLink(value)) continue;
      if (spec.options?.includes(value)) continue; // an option that is not a file (VAELoader's pixel_space)
      const where: LoaderInput = { node: id, cls: cls.name, input: spec.name };
      const model = modelFor(value, spec.modelFolders, schemas, entries);
      const key = `${model.kind === 'todo' ? model.folder : model.target}/${path.posix.basename(value)}`;
      const seen = byKey.get(`${model.kind}:${key}`);
      if (seen) seen.usedBy.push(where);
      else byKey.set(`${model.kind}:${key}`, { ...model, usedBy: [where] } as ImportedModel);
    }
  }
  return [...byKey.values()];
}

type Unplaced<T> = T extends unknown ? Omit<T, 'usedBy'> : never;

function modelFor(
  value: string,
  folders: readonly string[],
  schemas: SchemaSet,
  entries: readonly ModelEntry[],
): Unplaced<ImportedModel> {
  const base = path.posix.basename(value.replaceAll('\\', '/'));
  const entry = entries.find((e) => e.name === value) ?? entries.find((e) => e.name === base);
  const todo = (reason: string) => ({ kind: 'todo' as const, folder: folders[0], name: value, reason });
  if (!entry) return todo('the workflow has no models entry (name, url, directory) for it');
  // A name in a subfolder of the models folder (`flux/ae.safetensors`) keeps that subfolder.
  const sub = path.posix.dirname(value.replaceAll('\\', '/'));
  const target = sub === '.' ? entry.directory : `${entry.directory}/${sub}`;
  const place = schemas.folderOf(target);
  if (!place)
    return todo(
      `its models entry's directory ${JSON.stringify(entry.directory)} is not a models folder ComfyUI ${schemas.coreVersion} knows`,
    );
  if (!folders.includes(place.folder))
    return todo(
      `its models entry puts it in ${JSON.stringify(entry.directory)}, but the loader lists models/${folders.join(' or ')}`,
    );
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    return todo(`its models entry's url ${JSON.stringify(entry.url)} is not a URL`);
  }
  if (url.protocol !== 'https:') return todo(`its models entry's url ${JSON.stringify(entry.url)} is not https`);
  const hf = huggingFaceFile(url);
  if (hf) {
    return {
      kind: 'hf',
      ...hf,
      target,
      ...(path.posix.basename(hf.file) !== base && { filename: base }),
    };
  }
  const sha256 =
    entry.hash_type?.toLowerCase() === 'sha256' && /^[0-9a-fA-F]{64}$/.test(entry.hash ?? '')
      ? entry.hash!.toLowerCase()
      : undefined;
  return { kind: 'url', url: entry.url, target, filename: base, ...(sha256 && { sha256 }) };
}

/**
 * `https://huggingface.co/<owner>/<repo>/resolve/<revision>/<path>` (or `/datasets/<owner>/<repo>/…`,
 * or `/blob/` for the file's page) → repo, type, revision and path; undefined for any other URL.
 * @see https://huggingface.co/docs/hub/en/api (file URLs)
 */
export function huggingFaceFile(
  url: URL,
): { repo: string; repoType: 'model' | 'dataset'; revision: string; file: string } | undefined {
  if (url.hostname !== 'huggingface.co' && url.hostname !== 'www.huggingface.co') return undefined;
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const repoType = parts[0] === 'datasets' ? 'dataset' : 'model';
  if (parts[0] === 'datasets' || parts[0] === 'models') parts.shift();
  if (parts[0] === 'spaces') return undefined;
  const [owner, name, verb, revision, ...file] = parts;
  if (!owner || !name || (verb !== 'resolve' && verb !== 'blob') || !revision || file.length === 0) return undefined;
  return { repo: `${owner}/${name}`, repoType, revision, file: file.join('/') };
}

/** Node ids in the order a person reads them: `3` before `10`, `5:2` after `5`. */
export function sortIds(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}
