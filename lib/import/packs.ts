import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { SchemaFile } from '../comfy/node-schema';
import type { PackSchemas } from '../comfy/schema-set';
import type { PackRef } from './ui-properties';

/** One custom-node pack the workflow needs, as import declares it. */
export interface ImportedPack {
  /** The construct id and the file name of its node schemas (`bin/nodes/<dir>.json`). */
  readonly dir: string;
  /** How it is pinned: a git commit, a registry release, or not at all (a TODO says why). */
  readonly source:
    | { readonly kind: 'git'; readonly repo: string; readonly commit: string; readonly from: string }
    | { readonly kind: 'registry'; readonly id: string; readonly version: string }
    | { readonly kind: 'todo'; readonly reason: string };
  /** The workflow's classes from this pack. */
  readonly classes: string[];
  /** Its node schemas, from the files given (only the workflow's classes), or undefined when none has them. */
  readonly schemas?: SchemaFile;
}

const RELEASE = /^\d+(\.\d+)*$/;
const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * The packs behind the graph's custom classes (those not in the app's ComfyUI): each pack the nodes name
 * (`cnr_id` + release → a registry pin; `aux_id` → a git pin at the commit `ver` or the `--comfy-dir`
 * folder's HEAD gives), and one TODO pack for the classes no node names a pack for.
 */
export function importPacks(
  customClasses: readonly string[],
  refs: ReadonlyMap<string, PackRef>,
  given: readonly PackSchemas[],
  comfyDir: string | undefined,
): ImportedPack[] {
  const packs: ImportedPack[] = [];
  const claimed = new Set<string>();
  for (const ref of [...refs.values()].sort((a, b) => packName(a).localeCompare(packName(b)))) {
    const classes = ref.classes.filter((c) => customClasses.includes(c)).sort();
    if (classes.length === 0) continue; // a pack the editor named for a class ComfyUI itself has now
    for (const c of classes) claimed.add(c);
    packs.push({ dir: packName(ref), source: pinOf(ref, comfyDir), classes, schemas: schemasFor(classes, given) });
  }
  const unnamed = customClasses.filter((c) => !claimed.has(c)).sort();
  if (unnamed.length > 0)
    packs.push({
      dir: 'UnnamedPack',
      source: {
        kind: 'todo',
        reason: `the workflow does not say which pack provides ${unnamed.join(', ')} (no cnr_id or aux_id: an API-format file, or a node saved by an old editor): give its repo + commit, or registryId + version`,
      },
      classes: unnamed,
      schemas: schemasFor(unnamed, given),
    });
  return packs;
}

function packName(ref: PackRef): string {
  const name = ref.cnrId ?? ref.auxId!.split('/').pop()!;
  return name.replace(/[^A-Za-z0-9._-]+/g, '-');
}

function pinOf(ref: PackRef, comfyDir: string | undefined): ImportedPack['source'] {
  if (ref.cnrId && ref.ver && RELEASE.test(ref.ver)) return { kind: 'registry', id: ref.cnrId, version: ref.ver };
  const what = ref.cnrId ? `registry pack ${ref.cnrId}` : `pack ${ref.auxId}`;
  if (ref.auxId && ref.ver && FULL_SHA.test(ref.ver))
    return { kind: 'git', repo: `https://github.com/${ref.auxId}`, commit: ref.ver, from: 'the workflow (ver)' };
  if (comfyDir) {
    const local = localCheckout(ref, comfyDir);
    if (local) return local;
  }
  const found = ref.ver && ref.ver !== 'unknown' ? `version ${JSON.stringify(ref.ver)}` : 'no version';
  return {
    kind: 'todo',
    reason: `the workflow gives the ${what} ${found}, not a release or a full commit SHA${comfyDir ? `, and ${comfyDir}/custom_nodes has no git checkout of it` : ''} — pass --comfy-dir <your ComfyUI folder> to pin the commit its checkout is at, or set repo + commit (git rev-parse HEAD in the pack's folder)`,
  };
}

/** The pack's folder under `<comfyDir>/custom_nodes` (by its git remote or its name) and its HEAD commit. */
function localCheckout(ref: PackRef, comfyDir: string): ImportedPack['source'] | undefined {
  const root = path.join(comfyDir, 'custom_nodes');
  if (!existsSync(root)) return undefined;
  const wanted = [ref.auxId?.split('/').pop(), ref.cnrId].filter(Boolean).map((n) => n!.toLowerCase());
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || !existsSync(path.join(root, entry.name, '.git'))) continue;
    const dir = path.join(root, entry.name);
    const remote = git(dir, 'config', '--get', 'remote.origin.url') ?? '';
    const repo = remote.replace(/\.git$/, '').replace(/^git@github\.com:/, 'https://github.com/');
    const byRemote = ref.auxId !== undefined && repo.toLowerCase().endsWith(`/${ref.auxId.toLowerCase()}`);
    if (!byRemote && !wanted.includes(entry.name.toLowerCase())) continue;
    const commit = git(dir, 'rev-parse', 'HEAD');
    const https = /^https:\/\//.test(repo) ? repo : ref.auxId ? `https://github.com/${ref.auxId}` : undefined;
    if (commit && FULL_SHA.test(commit) && https)
      return { kind: 'git', repo: https, commit, from: `${path.join('custom_nodes', entry.name)} (git HEAD)` };
  }
  return undefined;
}

function git(dir: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The given schemas of these classes (the last file that has a class wins, as in an app), or undefined. */
function schemasFor(classes: readonly string[], given: readonly PackSchemas[]): SchemaFile | undefined {
  const file: SchemaFile = { modelFolders: {}, modelInputs: {}, uploadInputs: {}, acceptedTypes: {}, nodes: {} };
  for (const c of classes) {
    const pack = [...given].reverse().find((p) => Object.hasOwn(p.file.nodes, c));
    if (!pack) continue;
    file.nodes[c] = pack.file.nodes[c];
    for (const key of ['modelInputs', 'uploadInputs', 'acceptedTypes'] as const)
      if (pack.file[key][c]) (file[key] as Record<string, unknown>)[c] = pack.file[key][c];
    Object.assign(file.modelFolders, pack.file.modelFolders);
  }
  return Object.keys(file.nodes).length > 0 ? file : undefined;
}
