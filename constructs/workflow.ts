import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { isMarked, markAs } from '../lib/identity';
import type { GraphNote } from '../lib/comfy/graph-check';
import type { SchemaSet } from '../lib/comfy/schema-set';
import { convertUiWorkflow, type DroppedNodes, isUiWorkflow } from '../lib/comfy/ui-convert';

/** A ComfyUI graph in API format: node id → `{ class_type, inputs }`. */
export type WorkflowGraph = Record<string, WorkflowNode>;
/** One node of an API-format workflow. */
export interface WorkflowNode {
  /** The node's class (`KSampler`). */
  class_type: string;
  /** Input name → a literal, or a link `[node id, output slot]`. */
  inputs: Record<string, unknown>;
  /** What the editor shows; ComfyUI ignores it. */
  _meta?: {
    /** The node's title in the editor. */
    title?: string;
  };
}

const graphSchema = z.record(
  z.string(),
  z.looseObject({
    class_type: z.string().min(1),
    inputs: z.record(z.string(), z.unknown()),
  }),
);

/** A workflow in API format (with the UI nodes conversion left out, for a UI-format one), or what is wrong. */
export type ResolvedWorkflow =
  | {
      /** The API-format graph. */
      graph: WorkflowGraph;
      /** UI nodes the conversion left out, and why. */
      dropped?: DroppedNodes;
      /** What the conversion noticed (widgets added or dropped, nodes newer than the app's release). */
      notes?: readonly GraphNote[];
    }
  | {
      /** What is wrong with it. */
      errors: string[];
    };

/** A workflow's JSON, loaded once on first use: an API-format graph, a UI-format workflow, or what is wrong. */
export type WorkflowLoad =
  | {
      /** An API-format graph. */
      graph: WorkflowGraph;
    }
  | {
      /** A UI-format workflow, converted when the app's schemas are known. */
      ui: unknown;
    }
  | {
      /** Why it could not be read. */
      error: string;
    };

/**
 * A ComfyUI workflow: API format (ComfyUI's "Export (API)"), or UI format (ComfyUI's "Save"), which synth
 * converts to API format with the node schemas of the app that runs it (DESIGN §12). Not a construct: like
 * `Code.fromAsset`
 * in the AWS CDK it is a value that endpoints refer to. Several endpoints may share one workflow.
 * Loading and checking happen at synth, so a bad file is reported with the endpoint that uses it.
 */
export class Workflow {
  /** Whether `x` is a Workflow (of any copy of modal-cdk). */
  public static isWorkflow(x: unknown): x is Workflow {
    return isMarked(x, 'Workflow');
  }

  /**
   * A workflow JSON file, in API or UI format. A relative path is resolved against the project root
   * (`ModalProject` prop `root`).
   * @see https://docs.comfy.org/specs/workflow_json
   */
  public static fromFile(file: string): Workflow {
    return new Workflow(path.basename(file), file, undefined);
  }

  /** A workflow given as an object; `name` is the file name it gets in `synth.out/` (`flux.json`). */
  public static fromJson(name: string, graph: unknown): Workflow {
    return new Workflow(name.endsWith('.json') ? name : `${name}.json`, undefined, graph);
  }

  /** The file name in `synth.out/apps/<id>/workflows/`. */
  public readonly name: string;
  /** The file it was read from, as given (relative paths are relative to the project root). */
  public readonly file: string | undefined;
  private readonly given: unknown;
  private loaded: WorkflowLoad | undefined;
  private readonly converted = new WeakMap<SchemaSet, ResolvedWorkflow>();

  private constructor(name: string, file: string | undefined, given: unknown) {
    this.name = name;
    this.file = file;
    this.given = given;
    markAs(this, 'Workflow');
  }

  /** The parsed workflow, or what is wrong with it. */
  public load(root: string): WorkflowLoad {
    if (!this.loaded) this.loaded = this.file === undefined ? check(this.given) : read(path.resolve(root, this.file));
    return this.loaded;
  }

  /**
   * The graph in API format: as given, or converted from UI format with `schemas` (an app's), with why
   * each UI node the export left out is not in it (`dropped`). Returns every problem when it is not valid
   * or cannot be converted.
   */
  public resolve(root: string, schemas: SchemaSet | undefined): ResolvedWorkflow {
    const loaded = this.load(root);
    if ('error' in loaded) return { errors: [loaded.error] };
    if ('graph' in loaded) return loaded;
    if (!schemas)
      return {
        errors: [
          'a UI-format workflow is converted with the node schemas of its app: use it in an Endpoint of a ComfyApp',
        ],
      };
    let result = this.converted.get(schemas);
    if (!result) {
      const converted = convertUiWorkflow(loaded.ui, schemas);
      if ('problems' in converted)
        result = { errors: converted.problems.map((p) => `cannot convert it from UI format: ${p}`) };
      else if (Object.keys(converted.graph).length === 0)
        result = {
          errors: ['the UI-format workflow has no node that ComfyUI runs (only notes, muted or bypassed nodes)'],
        };
      else result = { graph: converted.graph as WorkflowGraph, dropped: converted.dropped, notes: converted.notes };
      this.converted.set(schemas, result);
    }
    return result;
  }
}

function read(file: string): WorkflowLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  try {
    // A UTF-8 byte order mark (Windows editors write one) is skipped, as the editor reading the file (UTF-8 decode)
    // skips it.
    return check(JSON.parse(text.replace(/^\uFEFF/, '')));
  } catch (e) {
    return {
      error: `not valid JSON (${(e as Error).message}): fix the file, or re-export it from ComfyUI with "Export (API)"`,
    };
  }
}

function check(value: unknown): WorkflowLoad {
  if (isUiWorkflow(value)) return { ui: value };
  const result = graphSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
    return {
      error: `not an API-format graph${where}: expected { "<node id>": { "class_type": "...", "inputs": { ... } } }`,
    };
  }
  if (Object.keys(result.data).length === 0) return { error: 'the graph has no nodes' };
  return { graph: result.data as WorkflowGraph };
}
