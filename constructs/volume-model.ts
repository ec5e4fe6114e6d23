import * as path from 'node:path';
import { Construct } from 'constructs';
import { z } from 'zod';
import { targetProblems } from '../lib/comfy/model-files';
import { isMarked, markAs, scopeProblems } from '../lib/identity';
import { parseProps } from '../lib/errors';
import type { VolumeModelSpec } from '../lib/synth/spec';
import { fileNameSchema, relativePathSchema } from './schemas';
import { Volume } from './volume';

/** The props of a VolumeModel: the Volume, the file on it, and where ComfyUI finds it. */
export interface VolumeModelProps {
  /** The volume that holds the file; the app mounts it automatically. */
  readonly volume: Volume;
  /**
   * Path of the file inside the volume, e.g. `loras/my-character.safetensors`; or of a folder, e.g. `loras`,
   * whose files ComfyUI then lists as `<filename>/<file>` (LoRAs uploaded after deploy).
   */
  readonly path: string;
  /** ComfyUI models subfolder the file is linked into, e.g. `loras`, `insightface/models`. */
  readonly target: string;
  /**
   * File name inside ComfyUI's folder (what workflows refer to).
   * @default - the basename of `path`
   */
  readonly filename?: string;
}

const volumeModelPropsSchema = z.strictObject({
  volume: z.custom<Volume>(Volume.isVolume, { message: 'expected a Volume construct' }),
  path: relativePathSchema,
  target: relativePathSchema,
  filename: fileNameSchema.optional(),
});

/**
 * A model file that already lives in a Modal Volume (uploaded LoRAs, InsightFace packs). It is linked
 * into ComfyUI's models dir each time a container starts; linking again is harmless.
 */
export class VolumeModel extends Construct {
  /** Whether `x` is a VolumeModel (of any copy of modal-cdk). */
  public static isVolumeModel(x: unknown): x is VolumeModel {
    return isMarked(x, 'VolumeModel');
  }

  /** The Volume the file is on. */
  public readonly volume: Volume;
  /** The ComfyUI models folder it is linked into. */
  public readonly target: string;
  /** The file's name in that folder. */
  public readonly filename: string;
  private readonly pathInVolume: string;

  /** Adds a model file on a Modal Volume to a ComfyApp (`scope`). */
  constructor(scope: Construct, id: string, props: VolumeModelProps) {
    super(scope, id);
    markAs(this, 'VolumeModel');
    this.node.addValidation({ validate: () => scopeProblems(this, 'VolumeModel') });
    const p = parseProps(volumeModelPropsSchema, props, this.node.path);
    this.volume = p.volume;
    this.pathInVolume = p.path;
    this.target = p.target;
    this.filename = p.filename ?? path.posix.basename(p.path);
    // The app knows which model folders exist (its ComfyUI version and custom nodes).
    this.node.addValidation({ validate: () => targetProblems(this.node.scope, this.target) });
  }

  /** @internal */
  public _toSpec(): VolumeModelSpec {
    return {
      kind: 'volume',
      constructPath: this.node.path,
      volume: this.volume.volumeName,
      source: path.posix.join(this.volume.mountPath, this.pathInVolume),
      target: this.target,
      filename: this.filename,
    };
  }
}
