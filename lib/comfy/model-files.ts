import { show } from '../errors';
import { closest } from './closest';
import { SchemaSet } from './schema-set';

/** A model file an app declares: its ComfyUI `target` directory and file name (HfModel, VolumeModel). */
export interface DeclaredModel {
  readonly target: string;
  readonly filename: string;
  /** A VolumeModel may link a folder: ComfyUI then lists its files as `<filename>/<file>`. */
  readonly mayBeFolder: boolean;
}

/**
 * The model files one app provides, by ComfyUI models folder, as ComfyUI will list them: a model with
 * target `controlnet/instantid` is `instantid/<filename>` in folder `controlnet`; `unet` is a directory of
 * `diffusion_models`.
 */
export class ModelFiles {
  private readonly files = new Map<string, Set<string>>();
  private readonly folders = new Map<string, Set<string>>();

  constructor(models: readonly DeclaredModel[], schemas: SchemaSet) {
    for (const m of models) {
      const where = schemas.folderOf(m.target);
      if (!where) continue; // an unknown target is its own problem
      const name = `${where.prefix}${m.filename}`;
      if (!this.files.has(where.folder)) this.files.set(where.folder, new Set());
      this.files.get(where.folder)!.add(name);
      if (m.mayBeFolder) {
        if (!this.folders.has(where.folder)) this.folders.set(where.folder, new Set());
        this.folders.get(where.folder)!.add(`${name}/`);
      }
    }
  }

  /** Whether ComfyUI will list `name` in `folder` (a file in a linked volume folder counts). */
  public provides(folder: string, name: string): boolean {
    if (this.files.get(folder)?.has(name)) return true;
    for (const prefix of this.folders.get(folder) ?? [])
      if (name.startsWith(prefix) && name.length > prefix.length) return true;
    return false;
  }

  /** The names the app provides in `folder` (volume folders as `<name>/…`), sorted. */
  public list(folder: string): string[] {
    return [...(this.files.get(folder) ?? []), ...[...(this.folders.get(folder) ?? [])].map((p) => `${p}…`)].sort();
  }
}

/**
 * What is wrong with a model's `target` for the app it is in (`scope`: its parent, a ComfyApp whose
 * `schemas` say which folders ComfyUI and the app's custom nodes know), or nothing.
 */
export function targetProblems(scope: unknown, target: string): string[] {
  const schemas = (scope as { schemas?: unknown } | undefined)?.schemas;
  if (!(schemas instanceof SchemaSet) || schemas.folderOf(target)) return [];
  const suggestions = closest(target.split('/')[0], schemas.modelDirs()).join(', ');
  return [
    `target: got ${show(target)}, expected a models folder that ComfyUI ${schemas.coreVersion} or the app's custom nodes know (closest: ${suggestions}) — fix the spelling, or declare the folder in the custom node's nodeSchemas (modelFolders)`,
  ];
}
