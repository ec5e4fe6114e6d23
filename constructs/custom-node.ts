import { Construct } from 'constructs';
import { z } from 'zod';
import { parseProps } from '../lib/errors';
import type { CustomNodeModel } from '../lib/synth/model';
import { aptPackageSchema, pinnedPipPackageSchema } from './schemas';

export interface CustomNodeProps {
  /** Git URL of the node's repository (https), e.g. `https://github.com/cubiq/ComfyUI_InstantID`. */
  readonly repo?: string;
  /** Full 40-character commit SHA to check out; branches and short SHAs float, so they are refused. */
  readonly commit?: string;
  /** Comfy Registry id (instead of `repo` + `commit`), e.g. `comfyui-videohelpersuite`. */
  readonly registryId?: string;
  /** Exact registry version, with `registryId`, e.g. `1.7.9`. */
  readonly version?: string;
  /**
   * Directory name under `custom_nodes/`.
   * @default - the repo name (without `.git`), or the registry id
   */
  readonly dir?: string;
  /**
   * Extra pinned pip packages the node needs beyond its requirements.txt (`name==version`).
   * @default []
   */
  readonly pipPackages?: string[];
  /**
   * Debian packages the node needs (e.g. `ffmpeg`).
   * @default []
   */
  readonly aptPackages?: string[];
  /**
   * Install the node's `requirements.txt` (when it has one) in its own layer.
   * @default true
   */
  readonly installRequirements?: boolean;
}

const customNodePropsSchema = z
  .strictObject({
    repo: z.string().regex(/^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9._\-/]+$/, 'expected an https git URL such as "https://github.com/owner/repo"').optional(),
    commit: z.string().regex(/^[0-9a-f]{40}$/, 'expected a full 40-character lower-case commit SHA (branches and short SHAs float) — find it with `git rev-parse <ref>`').optional(),
    registryId: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a Comfy Registry id such as "comfyui-videohelpersuite"').optional(),
    version: z.string().regex(/^\d+(\.\d+)*$/, 'expected an exact registry version such as "1.7.9"').optional(),
    dir: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a directory name (letters, digits, "._-")').optional(),
    pipPackages: z.array(pinnedPipPackageSchema).default([]),
    aptPackages: z.array(aptPackageSchema).default([]),
    installRequirements: z.boolean().default(true),
  })
  .superRefine((p, ctx) => {
    const fromGit = p.repo !== undefined || p.commit !== undefined;
    const fromRegistry = p.registryId !== undefined || p.version !== undefined;
    if (fromGit === fromRegistry) {
      ctx.addIssue({ code: 'custom', path: ['repo'], input: p.repo, message: 'expected either repo + commit or registryId + version' });
    } else if (fromGit && (p.repo === undefined || p.commit === undefined)) {
      const missing = p.repo === undefined ? 'repo' : 'commit';
      ctx.addIssue({ code: 'custom', path: [missing], input: undefined, message: `expected ${missing} too: a git node needs repo + commit (full SHA)` });
    } else if (fromRegistry && (p.registryId === undefined || p.version === undefined)) {
      const missing = p.registryId === undefined ? 'registryId' : 'version';
      ctx.addIssue({ code: 'custom', path: [missing], input: undefined, message: `expected ${missing} too: a registry node needs registryId + version` });
    }
  });

/** A ComfyUI custom node, installed at a pinned commit in its own image layer; a failed install fails the build. */
export class CustomNode extends Construct {
  public readonly dir: string;
  private readonly model: Omit<CustomNodeModel, 'constructPath'>;

  constructor(scope: Construct, id: string, props: CustomNodeProps) {
    super(scope, id);
    const p = parseProps(customNodePropsSchema, props, this.node.path);
    this.dir = p.dir ?? (p.repo ? p.repo.replace(/\/$/, '').split('/').pop()!.replace(/\.git$/, '') : p.registryId!);
    this.model = {
      dir: this.dir,
      repo: p.repo ?? null,
      commit: p.commit ?? null,
      registryId: p.registryId ?? null,
      version: p.version ?? null,
      pipPackages: p.pipPackages,
      aptPackages: p.aptPackages,
      installRequirements: p.installRequirements,
    };
  }

  /** @internal */
  public _toModel(): CustomNodeModel {
    return { ...this.model, constructPath: this.node.path };
  }
}
