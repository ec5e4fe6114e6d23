import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_FILES } from '../package-files';
import { type NodeClass, type NodeEntry, type NodeReplacement, readNodeClass, type SchemaFile } from './node-schema';

/** The committed core snapshots, one per ComfyUI release the tests can run (test/comfyui/dump_object_info.py). */
export const CORE_SNAPSHOT_DIR = path.join(PACKAGE_FILES, 'lib', 'comfy', 'object-info');

/** A custom-node pack's schemas and who declared them (for messages). */
export interface PackSchemas {
  readonly file: SchemaFile;
  /** e.g. `custom node ryla/instantid/InstantIdNodes`. */
  readonly source: string;
}

let snapshots: Map<string, SchemaFile> | undefined;
const coreSets = new Map<string, SchemaSet>();

/** The versions that have a core snapshot, oldest first. */
export function coreVersions(): string[] {
  if (!snapshots) {
    snapshots = new Map();
    for (const name of readdirSync(CORE_SNAPSHOT_DIR).sort()) {
      const m = /^comfyui-(\d+\.\d+\.\d+)\.json$/.exec(name);
      if (m) snapshots.set(m[1], undefined as unknown as SchemaFile);
    }
  }
  return [...snapshots.keys()].sort((a, b) => versionKey(a) - versionKey(b));
}

export function versionKey(v: string): number {
  const [major = 0, minor = 0, patch = 0] = v.split('.').map(Number);
  return major * 1e8 + minor * 1e4 + patch;
}

/** The snapshot version nearest to `version` (a newer one wins a tie). */
export function closestCoreVersion(version: string): string {
  const key = versionKey(version);
  let best = '';
  for (const v of coreVersions()) {
    if (!best || Math.abs(versionKey(v) - key) <= Math.abs(versionKey(best) - key)) best = v;
  }
  return best;
}

/** The class names of core ComfyUI as the snapshot closest to `comfyVersion` has them. */
export function coreClassNames(comfyVersion: string): ReadonlySet<string> {
  return new Set(SchemaSet.for(comfyVersion).classNames());
}

let pool: Record<string, Record<string, NodeEntry>> | undefined;

/**
 * The core snapshot of a ComfyUI release that has one (its classes, model folders and inputs). Most classes
 * are the same from one release to the next, so a snapshot file names, for each class, the release whose
 * entry it shares, and `entries.json` holds each class's distinct entries under the oldest release that has
 * them (`{"KSampler": {"0.3.67": {...}}}`); test/comfyui/dump_object_info.py writes both.
 */
export function coreFile(version: string): SchemaFile {
  coreVersions();
  let file = snapshots!.get(version);
  if (!file) {
    // Our own committed data, dumped by a script: read without re-validating 500 entries on every synth.
    const read = (name: string) => JSON.parse(readFileSync(path.join(CORE_SNAPSHOT_DIR, name), 'utf8'));
    pool ??= read('entries.json') as Record<string, Record<string, NodeEntry>>;
    const raw = read(`comfyui-${version}.json`) as Partial<SchemaFile> & { nodes: Record<string, string> };
    const nodes: Record<string, NodeEntry> = {};
    for (const [name, release] of Object.entries(raw.nodes)) {
      const entry = pool[name][release];
      entry.output_node = entry.output_node === true;
      nodes[name] = entry;
    }
    file = { modelFolders: {}, modelInputs: {}, uploadInputs: {}, acceptedTypes: {}, ...raw, nodes };
    snapshots!.set(version, file);
  }
  return file;
}

/**
 * The node classes one app can use: the core snapshot closest to its ComfyUI version plus the classes its
 * custom nodes declare (a pack's entry replaces a core entry of the same name, as a pack that extends a
 * core combo does).
 */
export class SchemaSet {
  /**
   * The set for a ComfyUI version plus packs; sets without packs are shared. `whole`: a whole ComfyUI's
   * `/object_info` (`modal-cdk schemas dump --core`) that stands instead of the committed snapshot.
   */
  public static for(comfyVersion: string, packs: readonly PackSchemas[] = [], whole?: PackSchemas): SchemaSet {
    if (whole) return new SchemaSet(whole.file.comfyui ?? comfyVersion, packs, whole.file);
    const version = closestCoreVersion(comfyVersion);
    if (packs.length > 0) return new SchemaSet(version, packs);
    let set = coreSets.get(version);
    if (!set) {
      set = new SchemaSet(version, []);
      coreSets.set(version, set);
    }
    return set;
  }

  /** The ComfyUI version of the core classes (the snapshot's, or the whole dump's). */
  public readonly coreVersion: string;
  /** Model folder name → its directories under `models/`. */
  public readonly modelFolders: ReadonlyMap<string, readonly string[]>;
  /** The release's `GET /node_replacements` (old class → replacements; empty before ComfyUI 0.11 or so). */
  public readonly nodeReplacements: Readonly<Record<string, readonly NodeReplacement[]>>;
  private readonly core: SchemaFile;
  private readonly packs: readonly PackSchemas[];
  private readonly classes = new Map<string, NodeClass | null>();
  private names: string[] | undefined;

  private constructor(coreVersion: string, packs: readonly PackSchemas[], core?: SchemaFile) {
    this.coreVersion = coreVersion;
    this.core = core ?? coreFile(coreVersion);
    this.packs = packs;
    this.nodeReplacements = this.core.nodeReplacements ?? {};
    const folders = new Map<string, string[]>(Object.entries(this.core.modelFolders));
    for (const pack of packs)
      for (const [name, dirs] of Object.entries(pack.file.modelFolders))
        folders.set(name, [...new Set([...(folders.get(name) ?? []), ...dirs])]);
    this.modelFolders = folders;
  }

  /** The class, or undefined when neither the core nor a pack provides it. */
  public get(name: string): NodeClass | undefined {
    let cls = this.classes.get(name);
    if (cls === undefined) {
      const pack = [...this.packs].reverse().find((p) => Object.hasOwn(p.file.nodes, name));
      if (pack) cls = readNodeClass(name, pack.file, pack.source);
      else
        cls = Object.hasOwn(this.core.nodes, name)
          ? readNodeClass(name, this.core, `ComfyUI ${this.coreVersion}`)
          : null;
      this.classes.set(name, cls);
    }
    return cls ?? undefined;
  }

  /** Every class name, for suggestions. */
  public classNames(): string[] {
    if (!this.names)
      this.names = [
        ...new Set([...Object.keys(this.core.nodes), ...this.packs.flatMap((p) => Object.keys(p.file.nodes))]),
      ];
    return this.names;
  }

  /**
   * The model folder a `target` directory (`diffusion_models`, `unet`, `controlnet/instantid`) lands in,
   * and the prefix its files get there (`instantid/`); undefined when no folder has that directory.
   */
  public folderOf(target: string): { folder: string; prefix: string } | undefined {
    const parts = target.split('/');
    // The longest directory that matches wins (a pack folder `xlabs/ipadapters` over a plain `xlabs`).
    for (let n = parts.length; n >= 1; n--) {
      const dir = parts.slice(0, n).join('/');
      for (const [folder, dirs] of this.modelFolders) {
        if (dirs.includes(dir))
          return {
            folder,
            prefix: parts
              .slice(n)
              .map((p) => `${p}/`)
              .join(''),
          };
      }
    }
    return undefined;
  }

  /** Every directory a model target may start with. */
  public modelDirs(): string[] {
    return [...new Set([...this.modelFolders.values()].flat())].sort();
  }
}
