import { loadTemplate } from '../synth/templates';
import type { SuggestedField, SuggestedOutput } from './fields';
import type { ImportedModel } from './models';
import type { ImportedPack } from './packs';
import { Code, pascalId, type TsValue, tsCall, tsComment, tsString, tsValue } from './ts-code';

/** Where `modal-cdk import` adds the next endpoint of an app file it wrote. */
export const ENDPOINT_MARKER = '// modal-cdk import adds endpoints above this line';
/** Where `modal-cdk import` adds the next app to a project's entry file (init writes it there). */
export const ENTRY_MARKER = '// modal-cdk import adds apps above this line';

/** Everything import decided for one workflow: what the code it writes declares. */
export interface ImportSpec {
  readonly appId: string;
  readonly endpointPath: string;
  /** The workflow as the stack names it, relative to the project root (`workflows/x.json`). */
  readonly workflowFile: string;
  /** `modal-cdk`, or a relative path to the constructs inside modal-cdk's own repository. */
  readonly moduleSpecifier: string;
  /** The app's ComfyUI release when `--comfy-version` named one (else the project's default applies). */
  readonly comfyVersion?: string;
  /** Why that release, for the comment above it. */
  readonly comfyVersionReason?: string;
  /** The Modal Secret with the Comfy.org key, when the workflow's partner-API nodes are allowed. */
  readonly partnerNodesSecret?: string;
  readonly models: readonly ImportedModel[];
  /** The packs, with where each one's node schemas are written (relative to the project root). */
  readonly packs: readonly (ImportedPack & { schemasFile?: string })[];
  readonly fields: readonly SuggestedField[];
  readonly output: SuggestedOutput;
  readonly description: string;
}

export const functionName = (appId: string) => `add${pascalId(appId, 'App')}`;
export const endpointId = (path: string) => pascalId(path, 'Endpoint');

/** The construct ids the block declares, so that adding it to an app file skips those already there. */
export function constructIds(spec: ImportSpec): { models: string[]; packs: string[]; endpoint: string } {
  return {
    models: modelIds(spec.models),
    packs: spec.packs.map((p) => pascalId(p.dir, 'Pack')),
    endpoint: endpointId(spec.endpointPath),
  };
}

/** The whole app file: a function adding the ComfyApp and its endpoint to a project. */
export function renderAppFile(spec: ImportSpec): string {
  const used = new Set(['ComfyApp', 'Endpoint', 'type ModalProject', 'Workflow']);
  for (const m of spec.models) if (m.kind !== 'todo') used.add(m.kind === 'hf' ? 'HfModel' : 'UrlModel');
  if (spec.packs.some((p) => p.source.kind !== 'todo')) used.add('CustomNode');
  const imports = [...used].sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, ''))).join(', ');
  return loadTemplate('import/app.ts.hbs')({
    appId: spec.appId,
    workflow: spec.workflowFile,
    imports,
    moduleSpecifier: spec.moduleSpecifier,
    functionName: functionName(spec.appId),
    comfyVersion: spec.comfyVersion,
    comfyVersionReason: spec.comfyVersionReason,
    partnerNodesSecret: spec.partnerNodesSecret,
    multiline: spec.comfyVersion !== undefined || spec.partnerNodesSecret !== undefined,
    // Partner-API nodes and no model to load: nothing for a GPU to do.
    cpu: spec.partnerNodesSecret !== undefined && spec.models.length === 0,
    body: renderEndpointBlock(spec, new Set()),
    endpointMarker: ENDPOINT_MARKER,
  });
}

/**
 * The models, packs and endpoint of one workflow, as statements inside an app function (`app` in scope);
 * constructs whose id is in `skip` (already in the file) are left out.
 */
export function renderEndpointBlock(spec: ImportSpec, skip: ReadonlySet<string>): string {
  const ids = modelIds(spec.models);
  const models = spec.models.map((m, i) => renderModel(m, ids[i])).filter((_, i) => !skip.has(ids[i]));
  const packs = spec.packs.filter((p) => !skip.has(pascalId(p.dir, 'Pack'))).map(renderPack);
  return loadTemplate('import/endpoint.ts.hbs')({ models, packs, endpoint: renderEndpoint(spec) });
}

function modelIds(models: readonly ImportedModel[]): string[] {
  const seen = new Map<string, number>();
  return models.map((m) => {
    const name = m.kind === 'todo' ? m.name : m.kind === 'hf' ? (m.filename ?? m.file) : m.filename;
    const base = pascalId(name.replace(/^.*\//, '').replace(/\.[A-Za-z0-9]+$/, ''));
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}${n}`;
  });
}

const I = '  '; // the indent of statements in the app function

function usedBy(m: ImportedModel): string {
  return m.usedBy.map((u) => `node ${u.node} ${u.cls}.${u.input}`).join(', ');
}

function renderModel(m: ImportedModel, id: string): string {
  if (m.kind === 'todo') {
    const example = `new HfModel(app, ${tsString(id)}, { repo: '<owner>/<repo>', file: ${tsString(m.name.replace(/^.*\//, ''))}, revision: '<commit SHA>', target: ${tsString(m.folder)} })`;
    return tsComment(
      `TODO: models/${m.folder}/${m.name} (${usedBy(m)}): ${m.reason}. Declare where it comes from (synth names it until then), e.g. ${example}`,
      I,
    );
  }
  const props: Record<string, TsValue | undefined> =
    m.kind === 'hf'
      ? {
          repo: m.repo,
          repoType: m.repoType === 'dataset' ? 'dataset' : undefined,
          file: m.file,
          revision: m.revision,
          target: m.target,
          filename: m.filename,
        }
      : { url: m.url, target: m.target, filename: m.filename, sha256: m.sha256 };
  const lines = [`${I}// For ${usedBy(m)}.`];
  if (m.kind === 'hf' && !/^[0-9a-f]{40}$/.test(m.revision))
    lines.push(
      tsComment(
        `revision ${tsString(m.revision)} is a branch, as the workflow's URL has it: pin the commit SHA from huggingface.co/${m.repo}/commits/${m.revision} (synth warns until then).`,
        I,
      ),
    );
  if (m.kind === 'url' && !m.sha256)
    lines.push(tsComment("No sha256 in the workflow: add the file's, so that a changed download fails the build.", I));
  lines.push(tsCall(`new ${m.kind === 'hf' ? 'HfModel' : 'UrlModel'}`, [new Code('app'), id, props], I));
  return lines.join('\n');
}

function renderPack(p: ImportSpec['packs'][number]): string {
  const id = pascalId(p.dir, 'Pack');
  const options = p.schemasFile ? { nodeSchemas: p.schemasFile } : {};
  const classes = `${p.classes.join(', ')}`;
  const schemasNote = p.schemasFile ? '' : ' No node schemas were given for them: synth cannot check their nodes.';
  switch (p.source.kind) {
    case 'registry':
      return [
        tsComment(`For ${classes}: Comfy Registry ${p.source.id} ${p.source.version}.${schemasNote}`, I),
        tsCall('CustomNode.registry', [new Code('app'), id, p.source.id, p.source.version, options], I),
      ].join('\n');
    case 'git':
      return [
        tsComment(`For ${classes}: the commit from ${p.source.from}.${schemasNote}`, I),
        tsCall('CustomNode.git', [new Code('app'), id, p.source.repo, p.source.commit, options], I),
      ].join('\n');
    default: {
      const example = `CustomNode.git(app, ${tsString(id)}, 'https://github.com/<owner>/<repo>', '<40-character commit SHA>', ${tsValue(options)})`;
      return tsComment(
        `TODO: ${classes}: ${p.source.reason}. Synth reports their nodes as unknown until the pack is declared, e.g. ${example}`,
        I,
      );
    }
  }
}

function renderEndpoint(spec: ImportSpec): string {
  const inputs: Record<string, TsValue> = {};
  for (const f of spec.fields) {
    inputs[f.name] = {
      type: f.type,
      node: f.node,
      input: f.input,
      alsoSets: f.alsoSets.length > 0 ? f.alsoSets.map((t) => ({ node: t.node, input: t.input })) : undefined,
      default: f.default,
      min: f.min,
      max: f.max,
      minLength: f.minLength,
      description: f.description,
    };
  }
  const props: Record<string, TsValue | undefined> = {
    path: spec.endpointPath,
    description: spec.description,
    workflow: new Code(`Workflow.fromFile(${tsString(spec.workflowFile)})`),
    timeout: '2m',
    inputs,
    output: spec.output.output,
    outputNode: spec.output.outputNode,
  };
  const fieldsNote = tsComment(
    "timeout: how long one request may run (past 150 s Modal answers with a redirect, client policy rule 4). inputs: the request fields import suggests, each bound with its node's bounds and the workflow's value as the default: rename, drop or add to them.",
    I,
  );
  return `${fieldsNote}\n${I}new Endpoint(app, ${tsString(endpointId(spec.endpointPath))}, ${tsValue(props, I, ' '.repeat(200))});`;
}
