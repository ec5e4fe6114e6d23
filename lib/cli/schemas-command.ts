import { existsSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { closestCoreVersion, coreClassNames, coreFile, coreVersions } from '../comfy/schema-set';
import { stableJson } from '../synth/json';
import { parseCommandArgs, subcommandProblem } from './args';
import { reportUsage } from './report';

export const SCHEMAS_HELP = `Usage: modal-cdk schemas dump --url <ComfyUI URL> [--core] [--out <file.json>]

Writes the node schemas of a running ComfyUI's custom nodes in the shape CustomNode nodeSchemas and
\`workflow check --custom-nodes\` take: its /object_info entries of the classes that are not core in its
ComfyUI release (read from /system_stats; the closest core snapshot), plus what /object_info does not say,
where the server has it: \`modelFolders\` (the model folders of /models that core ComfyUI does not have) and
\`modelInputs\` (a combo that lists the files of a folder, from /models/<folder>, names that folder; its file
list is emptied, since synth lists the app's own models). A raw /object_info dump
(\`curl <URL>/object_info > object_info.json\`) is taken as it is, too.

With --core, it writes the whole /object_info instead (core and custom classes, every model folder and
model input, /node_replacements where the server has it), marked \`"core": true\` with the server's
release: for a ComfyUI release modal-cdk has no snapshot of, give it to the app as
\`ComfyApp({ comfyVersion: '<that release>', nodeSchemas: '<the file>' })\` and synth checks the app against
it instead of the closest snapshot. Releases with a snapshot: ${coreVersions().join(', ')}.

Options:
      --url <url>      The ComfyUI server, e.g. http://127.0.0.1:8188 (required)
      --core           The whole ComfyUI (core classes too), for an app's nodeSchemas (default: only
                       the classes that are not core, for a CustomNode's nodeSchemas)
      --out <file>     Write the file there (default: print it)
  -h, --help           Show this help

Exit codes: 0 written, 1 the server could not be read, 2 usage error.
`;

type Out = NodeJS.WritableStream;
type Entry = { input?: Record<string, Record<string, unknown> | undefined> } & Record<string, unknown>;

export async function schemasCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const [sub, ...rest] = argv;
  const wrong = subcommandProblem(argv, ['dump']);
  if (wrong) return reportUsage(err, 'schemas', wrong);
  let values: { url?: string; out?: string; core?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: sub === 'dump' ? rest : argv,
      options: {
        url: { type: 'string' },
        out: { type: 'string' },
        core: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'schemas', (e as Error).message);
  }
  if (values.help) {
    out.write(SCHEMAS_HELP);
    return 0;
  }
  const url = values.url?.replace(/\/+$/, '');
  if (!url || !/^https?:\/\/[^/\s]+/.test(url)) {
    return reportUsage(
      err,
      'schemas',
      `--url: got ${JSON.stringify(values.url ?? null)}, expected the ComfyUI server's URL, e.g. http://127.0.0.1:8188`,
    );
  }
  if (/\/(api\/)?object_info$/.test(url))
    return reportUsage(
      err,
      'schemas',
      `--url: got ${JSON.stringify(values.url)}, the /object_info route itself: expected the server's URL, e.g. ${url.replace(/\/(api\/)?object_info$/, '')} (modal-cdk reads /object_info and the model folders itself)`,
    );
  if (values.out) {
    const target = path.resolve(values.out);
    if (existsSync(target) && statSync(target).isDirectory())
      return reportUsage(
        err,
        'schemas',
        `--out: got ${JSON.stringify(values.out)}, a directory: expected a file to write, e.g. ${path.join(values.out, 'nodes.json')}`,
      );
    if (!existsSync(path.dirname(target)))
      return reportUsage(
        err,
        'schemas',
        `--out: got ${JSON.stringify(values.out)}, whose folder ${path.dirname(values.out) || '.'} does not exist: create it first (mkdir -p ${path.dirname(values.out)})`,
      );
  }
  let file: Record<string, unknown>;
  try {
    file = await dumpSchemas(url, values.core === true);
  } catch (e) {
    err.write(`modal-cdk schemas dump: could not read ${url}: ${(e as Error).message} — is ComfyUI running there?\n`);
    return 1;
  }
  const text = stableJson(file);
  if (values.out) {
    writeFileSync(values.out, text);
    const count = Object.keys(file.nodes as object).length;
    const what = values.core ? `class(es) of ComfyUI ${file.comfyui}` : 'custom-node class(es)';
    out.write(`Wrote ${count} ${what} of ${url} to ${values.out}.\n`);
  } else {
    out.write(text);
  }
  return 0;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered HTTP ${response.status}`);
  return response.json();
}

/**
 * The schema file of the server's custom nodes: classes not in the core snapshot, their folders and model
 * inputs. `whole`: every class, folder and model input, marked as a whole ComfyUI of the served release.
 */
export async function dumpSchemas(url: string, whole = false): Promise<Record<string, unknown>> {
  const objectInfo = (await getJson(`${url}/object_info`)) as Record<string, Entry>;
  const stats = (await getJson(`${url}/system_stats`).catch(() => ({}))) as { system?: { comfyui_version?: string } };
  const served = stats.system?.comfyui_version;
  const release = served && /^\d+\.\d+\.\d+$/.test(served) ? served : undefined;
  if (whole && !release)
    throw new Error(
      `its /system_stats gave no ComfyUI release x.y.z (got ${JSON.stringify(served ?? null)}), which a whole dump must record`,
    );
  const version = release ? closestCoreVersion(release) : coreVersions().at(-1)!;
  const coreClasses = whole ? new Set<string>() : coreClassNames(version);
  const nodes = Object.fromEntries(Object.entries(objectInfo).filter(([name]) => !coreClasses.has(name)));
  // Model folders: /models and /models/<folder> (ComfyUI's own routes); a server without them gives none.
  const folders = ((await getJson(`${url}/models`).catch(() => [])) as unknown[]).filter(
    (f): f is string => typeof f === 'string',
  );
  const files = new Map<string, string[]>();
  for (const folder of folders) {
    const listed = (await getJson(`${url}/models/${encodeURIComponent(folder)}`).catch(() => [])) as unknown[];
    files.set(
      folder,
      listed.filter((f): f is string => typeof f === 'string'),
    );
  }
  const snapshot = coreFile(version);
  const coreFolders = new Set(Object.keys(snapshot.modelFolders));
  const modelFolders = Object.fromEntries(
    folders
      .filter((f) => whole || !coreFolders.has(f))
      .map((f) => [f, whole ? (snapshot.modelFolders[f] ?? [f]) : [f]]),
  );
  const modelInputs: Record<string, Record<string, string | string[]>> = {};
  // A core loader whose folder holds no file lists nothing to match: the closest snapshot knows its folder.
  if (whole)
    for (const [cls, inputs] of Object.entries(snapshot.modelInputs))
      for (const [input, folder] of Object.entries(inputs))
        if (nodes[cls]?.input?.required?.[input] ?? nodes[cls]?.input?.optional?.[input])
          modelInputs[cls] = { ...modelInputs[cls], [input]: folder };
  for (const [cls, entry] of Object.entries(nodes)) {
    for (const group of ['required', 'optional'] as const) {
      for (const [input, spec] of Object.entries(entry.input?.[group] ?? {})) {
        const options = comboOptions(spec);
        if (!options) continue;
        const folder = [...files].find(
          ([, listed]) => listed.length > 0 && listed.every((f) => options.includes(f)),
        )?.[0];
        if (!folder) continue;
        modelInputs[cls] = { ...modelInputs[cls], [input]: folder };
      }
    }
  }
  // A model input's file list is emptied: synth lists the app's own models there.
  for (const [cls, inputs] of Object.entries(modelInputs))
    for (const input of Object.keys(inputs)) {
      const spec = nodes[cls].input?.required?.[input] ?? nodes[cls].input?.optional?.[input];
      if (comboOptions(spec)) emptyCombo(spec);
    }
  if (whole) {
    const replacements = await getJson(`${url}/node_replacements`).catch(() => undefined);
    return {
      comfyui: release,
      core: true,
      source: `modal-cdk schemas dump --core of ${url} (ComfyUI ${release}: every class, core and custom)`,
      modelFolders,
      modelInputs,
      ...(replacements && typeof replacements === 'object' ? { nodeReplacements: replacements } : {}),
      nodes,
    };
  }
  return {
    source: `modal-cdk schemas dump of ${url} (ComfyUI ${served ?? 'version unknown'}; classes not in the core snapshot of ${version})`,
    modelFolders,
    modelInputs,
    nodes,
  };
}

/** A combo's options (V1 `[[...], {...}]` or V3 `["COMBO", {options}]`), else undefined. */
function comboOptions(spec: unknown): string[] | undefined {
  if (!Array.isArray(spec)) return undefined;
  if (Array.isArray(spec[0])) return spec[0].map(String);
  const options = (spec[1] as { options?: unknown } | undefined)?.options;
  return spec[0] === 'COMBO' && Array.isArray(options) ? options.map(String) : undefined;
}

function emptyCombo(spec: unknown): void {
  const list = spec as unknown[];
  if (Array.isArray(list[0])) list[0] = [];
  else (list[1] as { options: unknown[] }).options = [];
}
