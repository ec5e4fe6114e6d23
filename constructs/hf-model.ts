import * as path from 'node:path';
import { Construct } from 'constructs';
import { z } from 'zod';
import { targetProblems } from '../lib/comfy/model-files';
import { isMarked, markAs, scopeProblems } from '../lib/identity';
import { addWarning, parseProps } from '../lib/errors';
import type { HfModelSpec } from '../lib/synth/spec';
import { fileNameSchema, relativePathSchema } from './schemas';

/** The props of an HfModel: which Hugging Face file, and where ComfyUI finds it. */
export interface HfModelProps {
  /** Hugging Face repo id, e.g. `Comfy-Org/flux1-schnell`. */
  readonly repo: string;
  /**
   * Kind of Hugging Face repo: most files are in `model` repos; some packs (e.g. ReActor's face models) are
   * in a `dataset` repo.
   * @default "model"
   */
  readonly repoType?: 'model' | 'dataset';
  /** Path of the file inside the repo, e.g. `split_files/vae/ae.safetensors`. */
  readonly file: string;
  /**
   * Commit SHA (or tag) to download; pin it so an upstream push cannot change the image. Anything but a
   * full 40-character commit SHA (a branch such as `main`, a tag, nothing) is a synth warning
   * (`hf-unpinned-revision`, acknowledgeable): the file can change under the same name.
   * @default - the repo's default branch at build time (not reproducible)
   * @see https://huggingface.co/docs/huggingface_hub/guides/download#from-specific-version
   */
  readonly revision?: string;
  /** ComfyUI models subfolder the file is linked into, e.g. `checkpoints`, `diffusion_models`, `loras`. */
  readonly target: string;
  /**
   * File name inside ComfyUI's folder (what workflows refer to).
   * @default - the basename of `file`
   */
  readonly filename?: string;
  /**
   * The repo is gated and needs a token: the download then uses the Hugging Face secret
   * (`huggingfaceSecret` of the app or project), and synth fails when none is set.
   * @default false
   */
  readonly gated?: boolean;
  /**
   * Size in GB as Hugging Face shows it; used to choose `placement` and in docs.
   * @default - unknown
   */
  readonly sizeGb?: number;
  /**
   * Where the file lives: `image` bakes it into an image layer; `volume` downloads it once into the
   * shared Hugging Face cache volume and links it (large files: images over ~5 GB load slowly).
   * @default - "volume" when sizeGb is at least 5 or unknown, else "image"
   */
  readonly placement?: 'image' | 'volume';
}

/** Size from which a model goes to the cache volume rather than into the image. */
export const VOLUME_PLACEMENT_MIN_GB = 5;

const hfModelPropsSchema = z.strictObject({
  repo: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a Hugging Face repo id "owner/name"'),
  repoType: z.enum(['model', 'dataset']).default('model'),
  file: relativePathSchema,
  revision: z
    .string()
    .regex(/^[A-Za-z0-9._\-/]+$/, 'expected a commit SHA or tag')
    .optional(),
  target: relativePathSchema,
  filename: fileNameSchema.optional(),
  gated: z.boolean().default(false),
  sizeGb: z.number().positive().optional(),
  placement: z.enum(['image', 'volume']).optional(),
});

/** A model file from Hugging Face, downloaded at image build with `hf_hub_download` and linked into ComfyUI. */
export class HfModel extends Construct {
  /** Whether `x` is a HfModel (of any copy of modal-cdk). */
  public static isHfModel(x: unknown): x is HfModel {
    return isMarked(x, 'HfModel');
  }

  /** The Hugging Face repository. */
  public readonly repo: string;
  /** The file's path in the repository. */
  public readonly file: string;
  /** Whether the repository needs a token (the app's huggingfaceSecret). */
  public readonly gated: boolean;
  /** The ComfyUI models folder it is linked into. */
  public readonly target: string;
  /** The file's name in that folder. */
  public readonly filename: string;
  private readonly spec: Omit<HfModelSpec, 'constructPath'>;

  /** Adds a Hugging Face model file to a ComfyApp (`scope`). */
  constructor(scope: Construct, id: string, props: HfModelProps) {
    super(scope, id);
    markAs(this, 'HfModel');
    this.node.addValidation({ validate: () => scopeProblems(this, 'HfModel') });
    const p = parseProps(hfModelPropsSchema, props, this.node.path);
    this.repo = p.repo;
    this.file = p.file;
    this.gated = p.gated;
    this.target = p.target;
    this.filename = p.filename ?? path.posix.basename(p.file);
    const placement =
      p.placement ?? (p.sizeGb !== undefined && p.sizeGb < VOLUME_PLACEMENT_MIN_GB ? 'image' : 'volume');
    this.spec = {
      kind: 'hf',
      repo: p.repo,
      repoType: p.repoType,
      file: p.file,
      revision: p.revision ?? null,
      target: p.target,
      filename: this.filename,
      gated: p.gated,
      sizeGb: p.sizeGb ?? null,
      placement,
    };
    if (!/^[0-9a-f]{40}$/.test(p.revision ?? '')) {
      const given =
        p.revision === undefined
          ? 'no revision (the default branch at build time)'
          : `revision ${JSON.stringify(p.revision)}, a branch or tag`;
      addWarning(
        this,
        'hf-unpinned-revision',
        `${p.repo}/${p.file}: ${given} can move, so the file can change under the same name between two image builds — set revision to the 40-character commit SHA of the file's repo (its history on huggingface.co)`,
      );
    }
    // The app knows which model folders exist (its ComfyUI version and custom nodes).
    this.node.addValidation({ validate: () => targetProblems(this.node.scope, this.target) });
  }

  /** @internal */
  public _toSpec(): HfModelSpec {
    return { ...this.spec, constructPath: this.node.path };
  }
}
