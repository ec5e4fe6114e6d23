import * as path from 'node:path';
import { Construct, type IConstruct } from 'constructs';
import { z } from 'zod';
import { isMarked, markAs } from '../lib/identity';
import { collectWarnings, isAcknowledged, ModalCdkError, type Problem, parseProps } from '../lib/errors';
import { applyClientPolicy, clientPolicySchema, loadClientPolicy } from '../lib/policy/client-policy';
import { DNS_LABEL_MAX, webHostLabel } from '../lib/clients/web-url';
import { renderAssembly, type Assembly } from '../lib/synth/render';
import { writeAssembly } from '../lib/synth/write';
import { comfyVersionSchema, modalNameSchema, pythonVersionSchema, secretNameSchema } from './schemas';
import { DEFAULT_COMFY_VERSION } from '../lib/versions';

import {
  CONTEXT_CLIENT_POLICY,
  CONTEXT_ENV_VAR,
  CONTEXT_ENVIRONMENT,
  CONTEXT_ENVIRONMENTS,
  CONTEXT_WEB_SUFFIX,
  CONTEXT_WORKSPACE,
  unlistedEnds,
} from '../lib/context';

export {
  CONTEXT_CLIENT_POLICY,
  CONTEXT_ENV_VAR,
  CONTEXT_ENVIRONMENT,
  CONTEXT_WEB_SUFFIX,
  CONTEXT_WORKSPACE,
  OUTDIR_ENV_VAR,
} from '../lib/context';

/** The props of a ModalProject: the project's name and Modal place, and defaults for every app. */
export interface ModalProjectProps {
  /**
   * Prefix of every app's Modal name: app `wan26` of project `ryla` deploys as `ryla-wan26`.
   * @default - the project id
   */
  readonly name?: string;
  /**
   * The Modal workspace the apps deploy to; it is part of every endpoint URL.
   * @default - `modal.workspace` from cdk-like.json
   */
  readonly workspace?: string;
  /**
   * The Modal environment the apps deploy to.
   * @default - `modal.environment` from cdk-like.json, else "main"
   */
  readonly environment?: string;
  /**
   * Directory that relative workflow paths are resolved against.
   * @default - the current working directory
   */
  readonly root?: string;
  /**
   * ComfyUI release every app installs unless it sets its own (custom nodes often need a specific one).
   * A release with a committed node-schema snapshot (0.3.67, 0.3.71, 0.3.75, 0.10.0, 0.28.2) is checked
   * exactly; another is checked against the closest snapshot (a note says so) unless the app gives a
   * whole-ComfyUI dump as its `nodeSchemas` (`modal-cdk schemas dump --core`).
   * @see https://github.com/comfyanonymous/ComfyUI/releases
   * @default "0.28.2" - the newest release whose node schemas synth has (lib/comfy/object-info/)
   */
  readonly comfyVersion?: string;
  /**
   * comfy-cli release that installs ComfyUI in the image.
   * @default "1.5.3"
   */
  readonly comfyCliVersion?: string;
  /**
   * Python version of every app's image.
   * @default "3.11"
   */
  readonly pythonVersion?: string;
  /**
   * Name of the Modal Secret holding `HF_TOKEN`, used to download gated Hugging Face models.
   * @default - none: a gated `HfModel` fails synth until one is set here or on its app
   */
  readonly huggingfaceSecret?: string;
  /**
   * Modal Volume that caches Hugging Face downloads (mounted at `/cache`), shared by every app.
   * @default "hf-hub-cache"
   */
  readonly hfCacheVolume?: string;
  /**
   * Whether endpoints require Modal proxy auth (`Modal-Key`/`Modal-Secret` headers). Apps may override.
   * @default true
   */
  readonly requiresProxyAuth?: boolean;
  /**
   * Context values, read by constructs with `node.tryGetContext(key)`; merged over cdk-like.json's `context`.
   * @default - only what cdk-like.json gives
   */
  readonly context?: Record<string, unknown>;
  /**
   * Client policy file (`client-policy.yaml`), relative to `root`: client timeouts and allowed GPUs that
   * synth applies and checks (DESIGN §7).
   * @default - `clientPolicy` from cdk-like.json; none when that is not set
   */
  readonly clientPolicy?: string;
  /**
   * Tag every app (`modal.App(tags=…)`) with `modal-cdk.stack` (the project name), `modal-cdk.app` (its id)
   * and `modal-cdk.environment`, so Modal's dashboard and API can filter them. The app's content hash is
   * the deploy's version tag already (`modal deploy --tag`), so it is not repeated here.
   * @see https://modal.com/docs/reference/modal.App
   * @default false
   */
  readonly appTags?: boolean;
  /**
   * How `modal deploy` replaces a running app: `rolling` (new containers first, Modal's default) or
   * `recreate` (stop the old ones first: no two versions at once, a gap in service).
   * @see https://modal.com/docs/reference/cli/deploy
   * @default - Modal's default (rolling); no --strategy is passed
   */
  readonly deployStrategy?: 'rolling' | 'recreate';
  /**
   * The generated CI workflow's release path: deploy to `from` (e.g. staging), verify there, then
   * `promote` to `to` (e.g. main) what passed (cdk-like.json `environments` names both).
   * @default - the workflow deploys to the project's environment and verifies it
   */
  readonly releasePath?: {
    /** The environment deployed and verified first (e.g. `staging`). */
    readonly from: string;
    /** The environment promoted to (e.g. `main`). */
    readonly to: string;
  };
}

const projectPropsSchema = z.strictObject({
  name: modalNameSchema.optional(),
  workspace: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a Modal workspace name (lower-case letters, digits, "-")')
    .optional(),
  environment: modalNameSchema.optional(),
  root: z.string().optional(),
  comfyVersion: comfyVersionSchema.default(DEFAULT_COMFY_VERSION),
  comfyCliVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'expected a pinned comfy-cli release such as "1.5.3"')
    .default('1.5.3'),
  pythonVersion: pythonVersionSchema.default('3.11'),
  huggingfaceSecret: secretNameSchema.optional(),
  hfCacheVolume: modalNameSchema.default('hf-hub-cache'),
  requiresProxyAuth: z.boolean().default(true),
  context: z.record(z.string(), z.unknown()).optional(),
  clientPolicy: z.string().min(1).optional(),
  appTags: z.boolean().default(false),
  deployStrategy: z.enum(['rolling', 'recreate']).optional(),
  releasePath: z.strictObject({ from: modalNameSchema, to: modalNameSchema }).optional(),
});

/** How `ModalProject.synth()` runs: where it writes, and whether warnings fail it. */
export interface SynthOptions {
  /** Write the assembly here (atomically). @default - nothing is written */
  readonly outdir?: string;
  /** Fail on warnings too: client-policy findings, public endpoints (`modal-cdk synth --strict`). @default false */
  readonly strict?: boolean;
  /**
   * Write into this directory instead, checked as `outdir` would be; `outdir` is not touched (the CLI's
   * commands commit it when they succeed: lib/synth/stage.ts). @default - written into `outdir`
   */
  readonly stageDir?: string;
}

/** What `synth()` returns: the assembly and the warnings it passed with (constructs' own, then the policy's). */
export interface SynthResult extends Assembly {
  /** The warnings and notes it passed with (each with its construct path, message and id). */
  readonly warnings: Problem[];
}

/**
 * The root of a modal-cdk tree, like the AWS CDK's `App`: the workspace and environment, defaults for
 * every app, and `synth()`, which validates the whole tree and renders `synth.out/`.
 */
export class ModalProject extends Construct {
  /** Whether `x` is a ModalProject (of any copy of modal-cdk: checked by symbol, not `instanceof`). */
  public static isModalProject(x: unknown): x is ModalProject {
    return isMarked(x, 'ModalProject');
  }

  /** The project that `construct` belongs to. */
  public static of(construct: IConstruct): ModalProject {
    const project = construct.node.scopes.find((s): s is ModalProject => ModalProject.isModalProject(s));
    if (!project)
      throw new ModalCdkError([
        { path: construct.node.path, message: 'this construct is not inside a ModalProject: create it under one' },
      ]);
    return project;
  }

  /** The prefix of every app's Modal name (`name`, else the construct id). */
  public readonly projectName: string;
  /** The project's root folder: workflow, node-schema and policy paths are relative to it. */
  public readonly root: string;
  /** The ComfyUI release of every app that sets none. */
  public readonly comfyVersion: string;
  /** The comfy-cli release that installs ComfyUI in every image. */
  public readonly comfyCliVersion: string;
  /** The Python version of every image. */
  public readonly pythonVersion: string;
  /** The Modal Secret with `HF_TOKEN` for gated downloads, when set. */
  public readonly huggingfaceSecret: string | undefined;
  /** The Modal Volume that caches Hugging Face downloads. */
  public readonly hfCacheVolume: string;
  /** Whether endpoints require Modal proxy auth unless their app says otherwise. */
  public readonly requiresProxyAuth: boolean;
  private readonly props: ModalProjectProps;

  /**
   * Starts a stack: the root of its construct tree.
   * @param scope - none for a stack's root (or a parent construct)
   * @param id - the project's id: its name unless `props.name` says otherwise
   */
  constructor(scope: Construct | undefined, id: string, props: ModalProjectProps = {}) {
    super(scope as Construct, id);
    markAs(this, 'ModalProject');
    const p = parseProps(projectPropsSchema, props, id);
    const context = { ...readContextFromEnv(id), ...p.context };
    for (const [key, value] of Object.entries(context)) this.node.setContext(key, value);
    this.props = p;
    this.projectName = p.name ?? id;
    this.root = p.root ?? process.cwd();
    this.comfyVersion = p.comfyVersion;
    this.comfyCliVersion = p.comfyCliVersion;
    this.pythonVersion = p.pythonVersion;
    this.huggingfaceSecret = p.huggingfaceSecret;
    this.hfCacheVolume = p.hfCacheVolume;
    this.requiresProxyAuth = p.requiresProxyAuth;
    this.node.addValidation({ validate: () => this.validateProject() });
  }

  /** The Modal workspace: `workspace`, else cdk-like.json's (context). */
  public get workspace(): string | undefined {
    return this.props.workspace ?? this.node.tryGetContext(CONTEXT_WORKSPACE);
  }

  /** The Modal environment synthesized for: `environment`, else the CLI's `--env` (context), else `main`. */
  public get environment(): string {
    return this.props.environment ?? this.node.tryGetContext(CONTEXT_ENVIRONMENT) ?? 'main';
  }

  /** The environment's Modal web suffix (cdk-like.json environments.<env>.webSuffix), when it has one. */
  public get webSuffix(): string | undefined {
    return this.node.tryGetContext(CONTEXT_WEB_SUFFIX);
  }

  /** The first part of every web URL: the workspace, with `-<suffix>` in an environment that has one. */
  public get webSource(): string | undefined {
    return this.workspace && (this.webSuffix ? `${this.workspace}-${this.webSuffix}` : this.workspace);
  }

  /**
   * Validates every construct (collecting all problems), builds the model, renders every file and, with
   * `outdir`, writes them atomically. Throws `ModalCdkError` listing every problem; writes nothing then.
   */
  public synth(options: SynthOptions = {}): SynthResult {
    const problems: Problem[] = this.node
      .findAll()
      .flatMap((c) => c.node.validate().map((message) => ({ path: c.node.path, message })));
    if (problems.length > 0) throw new ModalCdkError(problems);
    const drafts = this.node
      .findAll()
      .filter(isComfyAppLike)
      .map((app) => app._toSpec());
    const policyFile: string | undefined = this.props.clientPolicy ?? this.node.tryGetContext(CONTEXT_CLIENT_POLICY);
    const policyPath = policyFile && path.resolve(this.root, policyFile);
    const shownAs = policyPath ? path.relative(process.cwd(), policyPath) || policyPath : 'client policy';
    const policy = policyPath ? loadClientPolicy(policyPath, shownAs) : clientPolicySchema.parse({});
    const own = new Set(
      this.node
        .findAll()
        .filter((c) => (c as { hasOwnClientTimeout?: boolean }).hasOwnClientTimeout === true)
        .map((c) => c.node.path),
    );
    const checked = applyClientPolicy(
      drafts.map((d) => d.spec),
      policy,
      shownAs,
      own,
    );
    if (checked.errors.length > 0) throw new ModalCdkError(checked.errors);
    // Warnings a construct (or a scope of it) acknowledged by id are not shown (Warnings.of(…).acknowledge).
    const byPath = new Map(this.node.findAll().map((c) => [c.node.path, c]));
    const warnings = [...collectWarnings(this), ...checked.warnings].filter(
      (w) => !(w.id && byPath.has(w.path) && isAcknowledged(byPath.get(w.path)!, w.id)),
    );
    if (options.strict && warnings.some((w) => !w.note)) {
      throw new ModalCdkError(
        warnings
          .filter((w) => !w.note)
          .map((w) => ({ path: w.path, message: `${w.message} (a warning; --strict fails on it)` })),
      );
    }
    const assembly = renderAssembly({
      project: {
        name: this.projectName,
        workspace: this.workspace!,
        environment: this.environment,
        ...(this.webSuffix && { webSuffix: this.webSuffix }),
        ...(this.props.appTags && { appTags: true }),
        ...(this.props.deployStrategy && { deployStrategy: this.props.deployStrategy }),
        ...(this.props.releasePath && { releasePath: this.props.releasePath }),
      },
      apps: drafts.map((d, i) => ({ ...d, spec: checked.apps[i] })),
    });
    if (options.outdir)
      writeAssembly(
        options.outdir,
        assembly.files,
        { protect: [this.root, process.cwd()], sources: this.sourceFiles() },
        options.stageDir,
      );
    return { ...assembly, warnings };
  }

  /** The workflow files the stack reads: an output directory holding one is refused (writeAssembly). */
  private sourceFiles(): string[] {
    const workflows = this.node.findAll().map((c) => (c as { workflow?: unknown }).workflow);
    return workflows.flatMap((w) =>
      isMarked(w, 'Workflow') && (w as { file?: string }).file
        ? [path.resolve(this.root, (w as { file: string }).file)]
        : [],
    );
  }

  /** `releasePath` must go from one environment to another, both of cdk-like.json's `environments` when it lists them. */
  private releasePathProblems(): string[] {
    const release = this.props.releasePath;
    if (!release) return [];
    if (release.from === release.to)
      return [
        `releasePath: got from and to both "${release.from}", expected two environments (e.g. { from: 'staging', to: '${release.from}' }): promote deploys what passed in one to the other`,
      ];
    const listed: string[] | undefined = this.node.tryGetContext(CONTEXT_ENVIRONMENTS);
    if (!listed) return [];
    return unlistedEnds(release, listed).map(
      (w) => `releasePath.${w.end}: ${w.problem} — add it to environments, or fix the name`,
    );
  }

  private validateProject(): string[] {
    const problems: string[] = [];
    if (!this.workspace) {
      problems.push(
        'workspace: got nothing, expected the Modal workspace name — set modal.workspace in cdk-like.json or workspace on ModalProject',
      );
    }
    problems.push(...this.releasePathProblems());
    const apps = this.node.findAll().filter(isComfyAppLike);
    if (apps.length === 0) problems.push('the project has no ComfyApp: add at least one');
    const byModalName = new Map<string, string>();
    const byPath = new Map<string, string>();
    for (const app of apps) {
      const other = byModalName.get(app.modalName);
      if (other)
        problems.push(
          `duplicate Modal app name "${app.modalName}": used by ${other} and ${app.node.path} — give one a different id or modalName`,
        );
      byModalName.set(app.modalName, app.node.path);
      const host = this.webSource && webHostLabel(this.webSource, app.modalName);
      if (host && host.length > DNS_LABEL_MAX) {
        problems.push(
          `Modal app name "${app.modalName}" (${app.node.path}) gives the web host label "${host}", ${host.length} characters: a DNS label holds at most ${DNS_LABEL_MAX}, so Modal would have to shorten it and the generated client URLs would be wrong — give the app a shorter id or modalName`,
        );
      }
      for (const endpoint of app.endpointPaths()) {
        const url = host ? `https://${host}.modal.run${endpoint.path}` : endpoint.path;
        if (url.length > URL_MAX) {
          problems.push(
            `endpoint path of ${endpoint.constructPath} (${endpoint.path.length} characters) makes its URL ${url.length} characters long: expected at most ${URL_MAX}, the longest URL every browser, proxy and HTTP client takes (Modal documents no limit of its own) — shorten the path`,
          );
        }
        const owner = byPath.get(endpoint.path);
        if (owner)
          problems.push(
            `duplicate endpoint path "${endpoint.path}": declared by ${owner} and ${endpoint.constructPath} — client maps are keyed by path, so each path must be unique in the project`,
          );
        byPath.set(endpoint.path, endpoint.constructPath);
      }
    }
    return problems;
  }
}

/**
 * The longest endpoint URL synth accepts: what every browser, proxy and HTTP client takes (sitemaps' and old IE's
 * ~2,000).
 */
export const URL_MAX = 2000;

/** What the project needs of an app; structural, so this file does not import ComfyApp (which imports it). */
interface ComfyAppLike extends IConstruct {
  readonly modalName: string;
  endpointPaths(): { path: string; constructPath: string }[];
  _toSpec(): Parameters<typeof renderAssembly>[0]['apps'][number];
}

function isComfyAppLike(c: IConstruct): c is ComfyAppLike {
  return isMarked(c, 'ComfyApp');
}

function readContextFromEnv(id: string): Record<string, unknown> {
  const raw = process.env[CONTEXT_ENV_VAR];
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new ModalCdkError([
      { path: id, message: `${CONTEXT_ENV_VAR}: got text that is not JSON, expected a JSON object of context values` },
    ]);
  }
}
