import * as path from 'node:path';
import type { AppSpec, VolumeModelSpec } from '../synth/spec';
import { modalArgs } from './modal-args';
import { modalJson, type VolumeEntry, volumeListSchema } from './modal-json';
import { classifyFailure } from './modal-output';

/** One VolumeModel of an app, and what the volume holds at its path. */
export interface VolumeFile {
  readonly app: string;
  readonly constructPath: string;
  readonly volume: string;
  /** Path from the volume's root, e.g. `loras/style.safetensors` (a file) or `loras` (a folder). */
  readonly pathInVolume: string;
  /** Absent: the volume has nothing there. */
  readonly found?: { readonly type: string; readonly sizeBytes: number };
}

/** The VolumeModels of `app` with their paths inside their volumes. */
export function volumeFiles(app: AppSpec): VolumeFile[] {
  return app.models
    .filter((m): m is VolumeModelSpec => m.kind === 'volume')
    .map((m) => {
      const mount = app.volumes.find((v) => v.name === m.volume)!.mountPath;
      return {
        app: app.id,
        constructPath: m.constructPath,
        volume: m.volume,
        pathInVolume: path.posix.relative(mount, m.source),
      };
    });
}

/**
 * Asks Modal what each VolumeModel's volume holds at its path: one `modal volume ls <volume> <folder> --json`
 * per folder. A volume or folder Modal does not find means its files are missing; any other failure
 * (auth, network) is returned as the reason nothing could be checked.
 */
export async function checkVolumeFiles(
  files: VolumeFile[],
  env: string,
  cwd: string,
): Promise<{ files: VolumeFile[] } | { error: string }> {
  const listings = new Map<string, VolumeEntry[]>();
  for (const key of new Set(files.map((f) => `${f.volume}\n${path.posix.dirname(f.pathInVolume)}`))) {
    const [volume, dir] = key.split('\n');
    const listed = await modalJson(
      modalArgs.volumeLs(volume, `/${dir === '.' ? '' : dir}`, env),
      volumeListSchema,
      cwd,
    );
    if (listed.ok) listings.set(key, listed.data);
    else if (listed.output && classifyFailure(listed.output) === 'build')
      listings.set(key, []); // not found
    else return { error: listed.reason };
  }
  return {
    files: files.map((f) => {
      const entries = listings.get(`${f.volume}\n${path.posix.dirname(f.pathInVolume)}`) ?? [];
      // Modal names entries by their path from the root; accept a bare name too.
      const entry = entries.find((e) =>
        [f.pathInVolume, path.posix.basename(f.pathInVolume)].includes(e.filename.replace(/^\/+/, '')),
      );
      return entry ? { ...f, found: { type: entry.type, sizeBytes: entry.size } } : f;
    }),
  };
}
