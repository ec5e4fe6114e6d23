import { Construct } from 'constructs';
import { z } from 'zod';
import { isMarked, markAs } from '../lib/identity';
import { parseProps } from '../lib/errors';
import { absolutePathSchema, modalNameSchema } from './schemas';

/** The props of a Volume: its Modal name and where apps mount it. */
export interface VolumeProps {
  /** The Modal Volume's name, e.g. `ryla-models`. */
  readonly name: string;
  /** Where the volume is mounted in each container that uses it, e.g. `/root/models`. */
  readonly mountPath: string;
  /**
   * Create the volume on first deploy when it does not exist. Leave false for volumes whose files are
   * uploaded separately (a missing volume then fails the deploy instead of mounting an empty one).
   * @default false
   */
  readonly createIfMissing?: boolean;
}

const volumePropsSchema = z.strictObject({
  name: modalNameSchema,
  mountPath: absolutePathSchema,
  createIfMissing: z.boolean().default(false),
});

/** A Modal Volume that apps mount and `VolumeModel`s link files from. Declare it once, on the project. */
export class Volume extends Construct {
  /** Whether `x` is a Volume (of any copy of modal-cdk). */
  public static isVolume(x: unknown): x is Volume {
    return isMarked(x, 'Volume');
  }

  /** The Modal Volume's name. */
  public readonly volumeName: string;
  /** Where apps mount it. */
  public readonly mountPath: string;
  /** Whether it is created on first use. */
  public readonly createIfMissing: boolean;

  /** Declares a Modal Volume in a ModalProject (`scope`), for VolumeModels to read. */
  constructor(scope: Construct, id: string, props: VolumeProps) {
    super(scope, id);
    markAs(this, 'Volume');
    const p = parseProps(volumePropsSchema, props, this.node.path);
    this.volumeName = p.name;
    this.mountPath = p.mountPath;
    this.createIfMissing = p.createIfMissing;
  }
}
