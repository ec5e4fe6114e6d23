import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { comfyVersionProblem, parseCommandArgs } from './args';
import { type ApiGraph, checkGraph, type GraphNote, isApiGraph } from '../comfy/graph-check';
import { loadSchemaFile } from '../comfy/schema-file';
import { closestCoreVersion, coreClassNames, coreVersions, type PackSchemas, SchemaSet } from '../comfy/schema-set';
import { convertUiWorkflow, isUiWorkflow } from '../comfy/ui-convert';
import { DEFAULT_COMFY_VERSION } from '../versions';
import { reportUsage } from './report';

export const WORKFLOW_HELP = `Usage: modal-cdk workflow <convert|check> <file.json> [options]

Work on one ComfyUI workflow file against ComfyUI's node schemas (no project or cdk-like.json needed).

Commands:
  convert <ui.json>    Convert a UI-format workflow (ComfyUI's "Save") to API format (what "Export (API)"
                       writes and /prompt takes) and print it on stdout. Exit 1, listing every problem,
                       when it cannot be converted exactly (an unknown class, widget values that do not
                       match the schema, a broken link, …): it never guesses.
  check <file.json>    Print every schema problem of a workflow (API or UI format): unknown classes,
                       missing required inputs, broken or mistyped links, values outside bounds or
                       options. Exit 1 if there is any. Model file names are not checked here (they
                       depend on an app's declared models: npm run synth checks them).

Options:
      --custom-nodes <schemas.json>  Node schemas of a custom-node pack, as a CustomNode's nodeSchemas
                                     file ({ "nodes": { "<class>": <its /object_info entry> }, ... });
                                     repeat for several packs
      --comfy-version <x.y.z>        The ComfyUI release to check against (default: ${DEFAULT_COMFY_VERSION},
                                     the default of new projects). Releases with node schemas:
                                     ${coreVersions().join(', ')}; another release is checked
                                     against the closest of them, with a note
  -h, --help                         Show this help

Exit codes: 0 success, 1 problems found (one per line on stderr), 2 usage error.
`;

export function workflowCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let parsed: {
    values: { 'custom-nodes'?: string[]; 'comfy-version'?: string; help?: boolean };
    positionals: string[];
  };
  try {
    parsed = parseCommandArgs({
      args: argv,
      options: {
        'custom-nodes': { type: 'string', multiple: true },
        'comfy-version': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return reportUsage(err, 'workflow', (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(WORKFLOW_HELP);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'convert' && command !== 'check')
    return reportUsage(
      err,
      'workflow',
      `expected a sub-command, convert or check, got ${command === undefined ? 'nothing' : JSON.stringify(command)}`,
    );
  if (file === undefined || extra.length > 0)
    return reportUsage(
      err,
      'workflow',
      `expected one workflow file, got ${file === undefined ? 'none' : positionals.slice(1).length}`,
    );
  const version = values['comfy-version'] ?? DEFAULT_COMFY_VERSION;
  const badVersion = comfyVersionProblem(version);
  if (badVersion) return reportUsage(err, 'workflow', badVersion);

  const problems: string[] = [];
  const packs: PackSchemas[] = [];
  for (const schemas of values['custom-nodes'] ?? []) {
    const loaded = loadSchemaFile(schemas, process.cwd(), `custom nodes ${schemas}`, coreClassNames(version));
    if ('errors' in loaded) problems.push(...loaded.errors.map((e) => `--custom-nodes ${schemas}: ${e}`));
    else packs.push(loaded.pack);
    if ('rawDump' in loaded && loaded.rawDump) {
      err.write(
        `modal-cdk workflow: note: --custom-nodes ${schemas} is a raw /object_info dump: took its ${loaded.rawDump.kept} classes that ComfyUI ${closestCoreVersion(version)} does not have, left out ${loaded.rawDump.dropped} core ones\n`,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path.resolve(file), 'utf8').replace(/^\uFEFF/, '')); // a BOM is skipped, as the editor does
  } catch (e) {
    problems.push(
      `${file}: ${(e as NodeJS.ErrnoException).code ?? `not valid JSON (${(e as Error).message})`}, expected a workflow JSON file`,
    );
  }
  if (problems.length > 0) return fail(problems, err);
  const schemas = SchemaSet.for(version, packs);
  if (closestCoreVersion(version) !== version)
    err.write(
      `modal-cdk workflow: note: no node schemas of ComfyUI ${version} (known: ${coreVersions().join(', ')}): checking against ${schemas.coreVersion}, the closest\n`,
    );
  const name = path.basename(file);
  let graph: ApiGraph;
  if (isUiWorkflow(value)) {
    const converted = convertUiWorkflow(value, schemas);
    if ('problems' in converted)
      return fail(
        converted.problems.map((p) => `${name}: ${p}`),
        err,
      );
    graph = converted.graph;
    for (const note of converted.notes) err.write(`modal-cdk workflow: note: ${name}: ${note.message}\n`);
  } else if (command === 'convert') {
    return fail(
      [`${name}: not a UI-format workflow (it has no "nodes" list): an API-format file needs no conversion`],
      err,
    );
  } else if (!isApiGraph(value)) {
    return fail(
      [
        `${name}: neither a UI-format workflow ({ "nodes": [...], "links": [...] }) nor an API-format graph ({ "<id>": { "class_type": "...", "inputs": {...} } })`,
      ],
      err,
    );
  } else {
    graph = value;
  }
  if (command === 'convert') {
    out.write(`${JSON.stringify(graph, null, 2)}\n`);
    return 0;
  }
  const notes: GraphNote[] = [];
  const found = checkGraph(graph, schemas, { file: name, notes });
  for (const note of notes) err.write(`modal-cdk workflow: note: ${note.message}\n`);
  if (found.length > 0) return fail(found, err);
  out.write(
    `${name}: no problems (${Object.keys(graph).length} nodes, node schemas of ComfyUI ${schemas.coreVersion}${packs.length ? ` + ${packs.length} custom-node file(s)` : ''})\n`,
  );
  return 0;
}

function fail(problems: string[], err: NodeJS.WritableStream): number {
  err.write(
    `modal-cdk workflow: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`,
  );
  return 1;
}
