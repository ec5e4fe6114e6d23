import { Construct } from 'constructs';
import { z } from 'zod';
import { loadSchemaFile } from '../lib/comfy/schema-file';
import type { SchemaFileInput } from '../lib/comfy/node-schema';
import { closestCoreVersion, coreClassNames, type PackSchemas } from '../lib/comfy/schema-set';
import { isMarked, markAs, scopeProblems } from '../lib/identity';
import { addNote, parseProps } from '../lib/errors';
import type { CustomNodeSpec } from '../lib/synth/spec';
import { ModalProject } from './modal-project';
import { aptPackageSchema, pinnedPipPackageSchema } from './schemas';

/** The props of a CustomNode: where the pack comes from, how it installs, and its node schemas. */
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
  /**
   * The node classes this pack provides, with their ComfyUI `/object_info` entries, so that synth checks
   * the workflows that use them: a JSON file (relative to the project root, e.g.
   * `"bin/nodes/instantid.json"`) or the same object inline. Shape: `{ "nodes": { "<class>": <entry> } }`
   * plus, where `/object_info` does not say it, `modelFolders` (folders the pack registers → directories
   * under `models/`), `modelInputs` (class → input → the folder its combo lists), `uploadInputs` (class →
   * input → `image`/`video`) and `acceptedTypes` (class → input → link types it also takes). A pack that
   * changes a core class (adds schedulers to `KSampler`) lists that class too: its entry wins.
   * @see https://docs.comfy.org/development/comfyui-server/comms_routes (GET /object_info)
   * @default - none: a workflow using the pack's classes fails synth as an unknown class_type
   */
  readonly nodeSchemas?: string | SchemaFileInput;
  /**
   * The pack fails to import without a GPU (SeedVR2 does): the image's import gate, which loads every
   * custom node the way ComfyUI does and fails the build on an import error, then runs on the app's GPU.
   * @default false - the gate runs on the CPU
   */
  readonly importNeedsGpu?: boolean;
  /**
   * The pack picks (and keeps) its device when imported, e.g. ReActor's ONNX providers and RetinaFace
   * device. In a memory snapshot's GPU-less phase 1 it would pick the CPU and keep it after the restore,
   * so synth refuses `memorySnapshot` for its app (unless `gpuSnapshot`, whose phase 1 has the GPU).
   * Packs that choose their device at run time (InstantID, PuLID-Flux, x-flux, VideoHelperSuite, RES4LYF:
   * shared/data/comfyui/pack-import-without-gpu.md) start from snapshots after the device handover.
   * @default false - the pack chooses its device at run time
   */
  readonly importPicksDevice?: boolean;
}

const customNodePropsSchema = z
  .strictObject({
    repo: z
      .string()
      .regex(
        /^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9._\-/]+$/,
        'expected an https git URL such as "https://github.com/owner/repo"',
      )
      .optional(),
    commit: z
      .string()
      .regex(
        /^[0-9a-f]{40}$/,
        'expected a full 40-character lower-case commit SHA (branches and short SHAs float) — find it with `git rev-parse <ref>`',
      )
      .optional(),
    registryId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a Comfy Registry id such as "comfyui-videohelpersuite"')
      .optional(),
    version: z
      .string()
      .regex(/^\d+(\.\d+)*$/, 'expected an exact registry version such as "1.7.9"')
      .optional(),
    dir: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a directory name (letters, digits, "._-")')
      .optional(),
    pipPackages: z.array(pinnedPipPackageSchema).default([]),
    aptPackages: z.array(aptPackageSchema).default([]),
    installRequirements: z.boolean().default(true),
    nodeSchemas: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    importNeedsGpu: z.boolean().default(false),
    importPicksDevice: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    const fromGit = p.repo !== undefined || p.commit !== undefined;
    const fromRegistry = p.registryId !== undefined || p.version !== undefined;
    if (fromGit === fromRegistry) {
      ctx.addIssue({
        code: 'custom',
        path: ['repo'],
        input: p.repo,
        message: 'expected either repo + commit or registryId + version',
      });
    } else if (fromGit && (p.repo === undefined || p.commit === undefined)) {
      const missing = p.repo === undefined ? 'repo' : 'commit';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        input: undefined,
        message: `expected ${missing} too: a git node needs repo + commit (full SHA)`,
      });
    } else if (fromRegistry && (p.registryId === undefined || p.version === undefined)) {
      const missing = p.registryId === undefined ? 'registryId' : 'version';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        input: undefined,
        message: `expected ${missing} too: a registry node needs registryId + version`,
      });
    }
  });

/** The props of a CustomNode besides where it comes from (for `CustomNode.git` and `CustomNode.registry`). */
export type CustomNodeOptions = Omit<CustomNodeProps, 'repo' | 'commit' | 'registryId' | 'version'>;

/** A ComfyUI custom node, installed at a pinned commit in its own image layer; a failed install fails the build. */
export class CustomNode extends Construct {
  /** Whether `x` is a CustomNode (of any copy of modal-cdk). */
  public static isCustomNode(x: unknown): x is CustomNode {
    return isMarked(x, 'CustomNode');
  }

  /**
   * A pack from its git repository at a full commit SHA: `CustomNode.git(app, 'KJNodes',
   * 'https://github.com/kijai/ComfyUI-KJNodes', '<sha>')`. The same as `new CustomNode` with `repo` + `commit`.
   */
  public static git(
    scope: Construct,
    id: string,
    repo: string,
    commit: string,
    options: CustomNodeOptions = {},
  ): CustomNode {
    return new CustomNode(scope, id, { ...options, repo, commit });
  }

  /**
   * A pack from the Comfy Registry at an exact release, installed with comfy-cli's `comfy node install
   * <id>@<version>`: `CustomNode.registry(app, 'Vhs', 'comfyui-videohelpersuite', '1.7.9')`. The same as
   * `new CustomNode` with `registryId` + `version`.
   * @see https://docs.comfy.org/registry/overview
   */
  public static registry(
    scope: Construct,
    id: string,
    registryId: string,
    version: string,
    options: CustomNodeOptions = {},
  ): CustomNode {
    return new CustomNode(scope, id, { ...options, registryId, version });
  }

  /** The pack's folder under `custom_nodes/`. */
  public readonly dir: string;
  /** Whether the pack needs a GPU to import (its import gate runs on the app's GPU). */
  public get importNeedsGpu(): boolean {
    return this.spec.importNeedsGpu;
  }
  /** Whether the pack keeps the device it saw when imported (a CPU snapshot would keep it on the CPU). */
  public get importPicksDevice(): boolean {
    return this.spec.importPicksDevice;
  }
  private readonly spec: Omit<CustomNodeSpec, 'constructPath'>;
  private readonly nodeSchemas: string | Record<string, unknown> | undefined;
  private loaded: { pack: PackSchemas } | { errors: string[] } | undefined;

  /** Adds a custom-node pack to a ComfyApp (`scope`); `CustomNode.git` and `CustomNode.registry` say it shorter. */
  constructor(scope: Construct, id: string, props: CustomNodeProps) {
    super(scope, id);
    markAs(this, 'CustomNode');
    this.node.addValidation({ validate: () => scopeProblems(this, 'CustomNode') });
    const p = parseProps(customNodePropsSchema, props, this.node.path);
    this.dir =
      p.dir ??
      (p.repo
        ? p.repo
            .replace(/\/$/, '')
            .split('/')
            .pop()!
            .replace(/\.git$/, '')
        : p.registryId!);
    this.spec = {
      dir: this.dir,
      repo: p.repo ?? null,
      commit: p.commit ?? null,
      registryId: p.registryId ?? null,
      version: p.version ?? null,
      pipPackages: p.pipPackages,
      aptPackages: p.aptPackages,
      installRequirements: p.installRequirements,
      importNeedsGpu: p.importNeedsGpu,
      importPicksDevice: p.importPicksDevice,
    };
    this.nodeSchemas = p.nodeSchemas;
    this.node.addValidation({
      validate: () => {
        const schemas = this.schemas(ModalProject.of(this).root);
        return schemas && 'errors' in schemas ? schemas.errors : [];
      },
    });
  }

  /** How messages name the pack's nodeSchemas: the file as given, or `(inline)`. */
  public get nodeSchemasLabel(): string {
    return typeof this.nodeSchemas === 'string' ? this.nodeSchemas : '(inline)';
  }

  /**
   * The pack's node schemas (read and checked once), undefined when it declares none, or what is wrong
   * with them. `root`: the project root that a file path is relative to.
   */
  public schemas(root: string):
    | {
        /** The classes the pack provides. */
        pack: PackSchemas;
      }
    | {
        /** What is wrong with the file. */
        errors: string[];
      }
    | undefined {
    if (this.nodeSchemas === undefined) return undefined;
    if (!this.loaded) {
      // A raw /object_info dump holds ComfyUI's own classes too: only the others are the pack's.
      const version = closestCoreVersion(
        (this.node.scope as { comfyVersion?: string }).comfyVersion ?? ModalProject.of(this).comfyVersion,
      );
      const loaded = loadSchemaFile(this.nodeSchemas, root, `custom node ${this.node.path}`, coreClassNames(version));
      if ('rawDump' in loaded && loaded.rawDump) {
        addNote(
          this,
          'raw-object-info',
          `nodeSchemas ${this.nodeSchemasLabel} is a raw /object_info dump: took its ${loaded.rawDump.kept} classes that ComfyUI ${version} does not have, left out ${loaded.rawDump.dropped} core ones`,
        );
      }
      this.loaded = loaded;
    }
    return this.loaded;
  }

  /** @internal */
  public _toSpec(): CustomNodeSpec {
    return { ...this.spec, constructPath: this.node.path };
  }
}
