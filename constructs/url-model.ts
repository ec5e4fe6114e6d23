import * as path from 'node:path';
import { Construct } from 'constructs';
import { z } from 'zod';
import { targetProblems } from '../lib/comfy/model-files';
import { isMarked, markAs, scopeProblems } from '../lib/identity';
import { addNote, ModalCdkError, parseProps } from '../lib/errors';
import type { UrlModelSpec } from '../lib/synth/spec';
import { fileNameSchema, relativePathSchema } from './schemas';

/** The props of a UrlModel: the HTTPS address, its checksum, and where ComfyUI finds the file. */
export interface UrlModelProps {
  /**
   * HTTPS address of the file, downloaded once into the image at build time; pin a release, not a
   * "latest" link. For weights a custom node would otherwise fetch on first use (facexlib's from GitHub
   * releases), which a serving container must not do.
   */
  readonly url: string;
  /** ComfyUI models subfolder the file is placed in, e.g. `facexlib`. */
  readonly target: string;
  /**
   * File name inside ComfyUI's folder (what workflows and nodes refer to).
   * @default - the last segment of the URL's path
   */
  readonly filename?: string;
  /**
   * SHA-256 of the file (64 hex digits): the build fails when the download differs.
   * @default - not checked (synth says so in a note)
   */
  readonly sha256?: string;
  /** Approximate size in GB, for the startup-timeout floor and the docs. @default - unknown */
  readonly sizeGb?: number;
  /**
   * The file is a zip archive of model files (InsightFace's `buffalo_l.zip`): its files are unpacked,
   * without the archive's folders (`unzip -j`), into `target`, and the archive is not kept.
   * @default false
   */
  readonly unzip?: boolean;
}

const urlModelPropsSchema = z.strictObject({
  url: z.url({ protocol: /^https$/, error: 'expected an https:// address of the file' }),
  target: relativePathSchema,
  filename: fileNameSchema.optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits')
    .optional(),
  sizeGb: z.number().positive().optional(),
  unzip: z.boolean().default(false),
});

/**
 * A model file from a plain HTTPS address (not Hugging Face, not a volume), downloaded into the image at
 * build time with its checksum checked when one is given; a failed download fails the build.
 */
export class UrlModel extends Construct {
  /** Whether `x` is a UrlModel (of any copy of modal-cdk). */
  public static isUrlModel(x: unknown): x is UrlModel {
    return isMarked(x, 'UrlModel');
  }

  /** The HTTPS address. */
  public readonly url: string;
  /** The ComfyUI models folder it lands in. */
  public readonly target: string;
  /** The file's name in that folder. */
  public readonly filename: string;
  /** The file's expected sha256, checked at build, when given. */
  public readonly sha256?: string;
  /** Its size in GB, when given. */
  public readonly sizeGb?: number;
  /** Whether it is a zip unpacked into the target folder. */
  public readonly unzip: boolean;

  /** Adds a model file from an HTTPS address to a ComfyApp (`scope`). */
  constructor(scope: Construct, id: string, props: UrlModelProps) {
    super(scope, id);
    markAs(this, 'UrlModel');
    this.node.addValidation({ validate: () => scopeProblems(this, 'UrlModel') });
    const p = parseProps(urlModelPropsSchema, props, this.node.path);
    this.url = p.url;
    this.target = p.target;
    this.filename = p.filename ?? path.posix.basename(new URL(p.url).pathname);
    this.sha256 = p.sha256;
    this.sizeGb = p.sizeGb;
    this.unzip = p.unzip;
    if (!fileNameSchema.safeParse(this.filename).success) {
      throw new ModalCdkError([
        {
          path: this.node.path,
          message: `prop 'url': got ${JSON.stringify(p.url)}, whose path ends in no file name — set filename`,
        },
      ]);
    }
    if (p.sha256 === undefined)
      addNote(
        this,
        'url-model-unchecked',
        `model ${this.filename}: no sha256, so the build takes whatever ${p.url} serves — add sha256 to pin the file`,
      );
    // The app knows which model folders exist (its ComfyUI version and custom nodes).
    this.node.addValidation({ validate: () => targetProblems(this.node.scope, this.target) });
  }

  /** @internal */
  public _toSpec(): UrlModelSpec {
    return {
      kind: 'url',
      constructPath: this.node.path,
      url: this.url,
      target: this.target,
      filename: this.filename,
      sha256: this.sha256 ?? null,
      sizeGb: this.sizeGb ?? null,
      unzip: this.unzip,
    };
  }
}
