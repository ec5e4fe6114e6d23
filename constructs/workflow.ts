import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

/** A ComfyUI graph in API format: node id → `{ class_type, inputs }`. */
export type WorkflowGraph = Record<string, WorkflowNode>;
export interface WorkflowNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

const graphSchema = z.record(
  z.string(),
  z.looseObject({
    class_type: z.string().min(1),
    inputs: z.record(z.string(), z.unknown()),
  }),
);

/** Where a workflow's JSON comes from, and its parse, loaded once on first use. */
export type WorkflowLoad = { graph: WorkflowGraph } | { error: string };

/**
 * A ComfyUI workflow in API format (ComfyUI: "Export (API)"). Not a construct: like `Code.fromAsset`
 * in the AWS CDK it is a value that endpoints refer to. Several endpoints may share one workflow.
 * Loading and checking happen at synth, so a bad file is reported with the endpoint that uses it.
 */
export class Workflow {
  /**
   * A workflow JSON file. A relative path is resolved against the project root
   * (`ModalProject` prop `root`).
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

  private constructor(name: string, file: string | undefined, given: unknown) {
    this.name = name;
    this.file = file;
    this.given = given;
  }

  /** The checked graph, or what is wrong with it. */
  public load(root: string): WorkflowLoad {
    if (!this.loaded) this.loaded = this.file === undefined ? check(this.given) : read(path.resolve(root, this.file));
    return this.loaded;
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
    return check(JSON.parse(text));
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message}): fix the file, or re-export it from ComfyUI with "Export (API)"` };
  }
}

function check(value: unknown): WorkflowLoad {
  if (value && typeof value === 'object' && 'nodes' in value && 'links' in value) {
    return { error: 'this is a UI-format workflow (it has "nodes" and "links"): export it from ComfyUI with "Export (API)" instead' };
  }
  const result = graphSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
    return { error: `not an API-format graph${where}: expected { "<node id>": { "class_type": "...", "inputs": { ... } } }` };
  }
  if (Object.keys(result.data).length === 0) return { error: 'the graph has no nodes' };
  return { graph: result.data as WorkflowGraph };
}
