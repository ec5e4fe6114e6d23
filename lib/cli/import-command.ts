import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadSchemaFile } from '../comfy/schema-file';
import { closestCoreVersion, coreClassNames, coreVersions, type PackSchemas, versionKey } from '../comfy/schema-set';
import { fieldTable, type ImportPlan, planImport } from '../import/plan';
import { templateRelease } from '../import/template-index';
import { madeWith } from '../import/ui-properties';
import {
  constructIds,
  ENDPOINT_MARKER,
  ENTRY_MARKER,
  functionName,
  renderAppFile,
  renderEndpointBlock,
} from '../import/render';
import { aboveMarker, appIdBudget, defaultAppId, entryFile, freeAppId, wireEntry } from '../import/project-files';
import { targetProblems } from '../import/project-scan';
import { webHostLabel } from '../clients/web-url';
import { stableJson } from '../synth/json';
import { formatTable } from '../table';
import { DEFAULT_COMFY_VERSION } from '../versions';
import { comfyVersionProblem, parseCommandArgs } from './args';
import { loadConfig } from './config';
import { reportError, reportUsage } from './report';

export const IMPORT_HELP = `Usage: modal-cdk import <workflow.json> [options]

Writes the stack code for a ComfyUI workflow you have (UI format, as the editor's "Save" writes it, or API
format): bin/<app>.ts with a ComfyApp, one HfModel or UrlModel per model file its loaders name (from the
URLs the editor records in each loader's properties.models), a CustomNode per pack its nodes name (cnr_id +
ver: a Comfy Registry release; aux_id: a git commit), and an Endpoint whose request fields are suggested
(prompt, negative_prompt, seed, steps, cfg, width, height, denoise, image, video, each bound with its node's
bounds). The workflow is copied into workflows/, each pack's node schemas into bin/nodes/<pack>.json, and the
new app is added to the project's entry file where \`modal-cdk init\` left the line
"${ENTRY_MARKER}" (elsewhere it prints the two lines to add). What it cannot
decide (a model with no URL, a pack with no pinned version) is a TODO in the code, and \`npm run synth\`
names it. Before writing anything it checks the project: an app id or endpoint path its code already
declares (named with file:line), an id too long for the app's web host label. Run it in the project root
(cdk-like.json).

Options:
      --app <id>                    The app id (default: from the file name, e.g. flux_dev.json → flux-dev;
                                    the next free <id>-2, … when that is another workflow's app)
      --path </endpoint>            The endpoint's URL path (default: /<app id>)
      --out <file.ts>               The app file (default: bin/<app id>.ts; a .ts file in the project, never
                                    the entry file). If it is one import wrote, the endpoint (and the models
                                    and packs it lacks) is added to it
      --custom-nodes <schemas.json> Node schemas of the workflow's custom nodes: a CustomNode nodeSchemas file
                                    or a raw /object_info dump (curl <ComfyUI>/object_info > object_info.json);
                                    repeat for several
      --comfy-url <url>             Read the custom nodes' schemas from a running ComfyUI instead
      --comfy-dir <ComfyUI folder>  Your ComfyUI folder: a pack without a pinned version in the workflow is
                                    pinned at the commit its custom_nodes/<pack> checkout is at (git HEAD)
      --comfy-version <x.y.z>       The ComfyUI release the app runs: the workflow is checked against its node
                                    schemas and the app gets comfyVersion (default: the newest release the
                                    workflow's nodes were made with that has schemas, else the project default,
                                    ${DEFAULT_COMFY_VERSION}; releases with schemas: ${coreVersions().join(', ')})
      --partner-nodes <secret>      Allow Comfy.org partner-API nodes (OpenAI, Gemini, Kling, …: they run on
                                    Comfy.org's servers, need a Comfy.org API key per prompt, and leave the GPU
                                    idle): the app gets partnerNodes with this Modal Secret (its
                                    COMFY_ORG_API_KEY). Without it such a workflow is refused, naming the nodes
      --dry-run                     Print what would be written; write nothing
      --force                       Replace files that are already there (never without it)
  -h, --help                        Show this help

Exit codes: 0 written (TODOs may remain: they are listed), 1 nothing written (a problem is printed), 2 usage error.
`;

type Out = NodeJS.WritableStream;
interface Values {
  app?: string;
  path?: string;
  out?: string;
  'custom-nodes'?: string[];
  'comfy-url'?: string;
  'comfy-dir'?: string;
  'comfy-version'?: string;
  'partner-nodes'?: string;
  'dry-run'?: boolean;
  force?: boolean;
  help?: boolean;
}

export async function importCommand(argv: string[], out: Out, err: Out): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string' },
        path: { type: 'string' },
        out: { type: 'string' },
        'custom-nodes': { type: 'string', multiple: true },
        'comfy-url': { type: 'string' },
        'comfy-dir': { type: 'string' },
        'comfy-version': { type: 'string' },
        'partner-nodes': { type: 'string' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'import', (e as Error).message);
  }
  if (values.help) {
    out.write(IMPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1)
    return reportUsage(err, 'import', `expected one workflow file, got ${positionals.length || 'none'}`);
  const file = positionals[0];
  const root = process.cwd();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(root);
  } catch (e) {
    return reportError(e, err);
  }
  const packageName = readPackageName(root);
  // The default id, or (when another workflow's app has it) the first free `<id>-<n>`, said in the report.
  const fallback = freeAppId(
    root,
    defaultAppId(file, config.modal.workspace, packageName),
    `workflows/${path.basename(file)}`,
    appIdBudget(config.modal.workspace, packageName),
  );
  const appId = values.app ?? fallback.id;
  const idNote =
    values.app === undefined && fallback.changed
      ? `app id "${appId}": the default id "${defaultAppId(file, config.modal.workspace, packageName)}" is another workflow's app (bin/${defaultAppId(file, config.modal.workspace, packageName)}.ts), so import took the next free one — pass --app <id> to choose it`
      : undefined;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(appId))
    return reportUsage(
      err,
      'import',
      `--app: got ${JSON.stringify(appId)}, expected lower-case letters, digits and "-" (it names the Modal app)`,
    );
  const endpointPath = values.path ?? `/${appId}`;
  if (!/^\/[A-Za-z0-9._\-/]*$/.test(endpointPath) || endpointPath === '/health')
    return reportUsage(
      err,
      'import',
      `--path: got ${JSON.stringify(endpointPath)}, expected a URL path such as "/flux-dev"`,
    );
  if (values['comfy-url'] && !/^https?:\/\//.test(values['comfy-url']))
    return reportUsage(
      err,
      'import',
      `--comfy-url: got ${JSON.stringify(values['comfy-url'])}, expected a URL with its scheme, e.g. http://${values['comfy-url']}`,
    );
  const outFile = values.out ?? `bin/${appId}.ts`;
  const target = targetProblems({
    root,
    entry: entryFile(config.app),
    appId,
    endpointPath,
    outFile,
    budget: appIdBudget(config.modal.workspace, packageName),
    hostLabel: webHostLabel(config.modal.workspace ?? 'my-workspace', `${packageName ?? 'app'}-${appId}`),
  });
  if (target.usage) return reportUsage(err, 'import', target.usage);
  const partner = values['partner-nodes'];
  if (partner !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(partner))
    return reportUsage(
      err,
      'import',
      `--partner-nodes: got ${JSON.stringify(partner)}, expected the name of a Modal Secret (letters, digits, ".", "_", "-"), never the key itself`,
    );
  const chosen = values['comfy-version'];
  const badVersion = comfyVersionProblem(chosen);
  if (badVersion) return reportUsage(err, 'import', badVersion);
  const comfyDir = values['comfy-dir'] && path.resolve(values['comfy-dir']);
  if (comfyDir && !existsSync(comfyDir))
    return reportUsage(err, 'import', `--comfy-dir: ${comfyDir} does not exist, expected your ComfyUI folder`);

  let templateNote: string | undefined;
  const fail = (problems: string[]) => {
    err.write(`modal-cdk import: nothing written:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    if (templateNote) err.write(`Note: ${templateNote}\n`);
    return 1;
  };
  if (target.problems.length > 0) return fail(target.problems);
  let workflow: unknown;
  let workflowText: string;
  try {
    workflowText = readFileSync(path.resolve(file), 'utf8');
    workflow = JSON.parse(workflowText.replace(/^\uFEFF/, ''));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? `not valid JSON (${(e as Error).message})`;
    return fail([`${file}: ${reason}, expected a workflow saved from ComfyUI (Save, or Export (API))`]);
  }

  // The release: --comfy-version, else the newest one the workflow's nodes were made with that has schemas.
  // A packaged template's index (index.json beside it) may ask for a newer release than its nodes name.
  const nodesMade = chosen === undefined ? madeWith(workflow) : undefined;
  const template = chosen === undefined ? templateRelease(path.resolve(file)) : undefined;
  const raised =
    nodesMade !== undefined && template?.snapshot && versionKey(template.snapshot) > versionKey(nodesMade)
      ? template.snapshot
      : undefined;
  const made = raised ?? nodesMade;
  const version = closestCoreVersion(chosen ?? made ?? DEFAULT_COMFY_VERSION);
  templateNote =
    template && !template.snapshot && versionKey(version) < versionKey(template.min)
      ? `the template index beside ${path.basename(file)} (index.json) gives minComfyUIVersion ${template.min}, newer than every release modal-cdk has node schemas of (${coreVersions().join(', ')}): the app would run ${version}, older than its publisher supports — dump ${template.min}'s schemas from a ComfyUI of that release (modal-cdk schemas dump --url <ComfyUI> --core) and give them as the app's nodeSchemas with comfyVersion '${template.min}'`
      : undefined;
  const packs: PackSchemas[] = [];
  const problems: string[] = [];
  for (const given of values['custom-nodes'] ?? []) {
    const loaded = loadSchemaFile(path.resolve(given), root, `--custom-nodes ${given}`, coreClassNames(version));
    if ('errors' in loaded) problems.push(...loaded.errors.map((e) => `--custom-nodes ${given}: ${e}`));
    else packs.push(loaded.pack);
  }
  if (values['comfy-url']) {
    try {
      const { dumpSchemas } = await import('./schemas-command');
      const dumped = await dumpSchemas(values['comfy-url'].replace(/\/+$/, ''));
      const loaded = loadSchemaFile(dumped, root, `--comfy-url ${values['comfy-url']}`);
      if ('errors' in loaded) problems.push(...loaded.errors);
      else packs.push(loaded.pack);
    } catch (e) {
      problems.push(`--comfy-url ${values['comfy-url']}: ${(e as Error).message} — is ComfyUI running there?`);
    }
  }
  if (problems.length > 0) return fail(problems);

  const workflowFile = `workflows/${path.basename(file)}`;
  const ownRepo = packageName === 'modal-cdk';
  const plan = planImport({
    workflow,
    fileName: path.basename(file),
    appId,
    endpointPath,
    workflowFile,
    moduleSpecifier: ownRepo
      ? path.posix.relative(path.posix.dirname(outFile), 'constructs').replace(/^(?!\.)/, './')
      : 'modal-cdk',
    partnerNodesSecret: partner,
    comfyVersion: chosen ?? version,
    pinVersion:
      chosen !== undefined
        ? "the ComfyUI release the workflow's node schemas were checked against (import --comfy-version)."
        : raised !== undefined
          ? `the oldest ComfyUI release modal-cdk has node schemas of that meets the template index's minComfyUIVersion ${template?.min} (index.json beside the workflow), newer than the ${nodesMade} its nodes were made with (their properties.ver).`
          : made !== undefined
            ? `the newest ComfyUI release the workflow's nodes were made with (their properties.ver) that modal-cdk has node schemas of, or the first with every class the workflow names; its nodes were checked against it.`
            : undefined,
    packs,
    comfyDir,
    howToDump: `dump them from a ComfyUI that has the packs: \`curl http://127.0.0.1:8188/object_info > object_info.json\` (or \`modal-cdk schemas dump --url http://127.0.0.1:8188 --out nodes.json\`), then pass --custom-nodes object_info.json; or pass --comfy-url http://127.0.0.1:8188`,
  });
  if ('problems' in plan) return fail(plan.problems);
  if (idNote) plan.notes.unshift(idNote);
  if (templateNote) plan.notes.push(templateNote);

  // What to write: every file new, the same as there, or --force; an app file import wrote gains the endpoint.
  const writes: { file: string; text: string; action: string; preview?: string }[] = [];
  const refused: string[] = [];
  const put = (rel: string, text: string) => {
    const target = path.join(root, rel);
    if (!existsSync(target)) writes.push({ file: rel, text, action: 'wrote' });
    else if (readFileSync(target, 'utf8') === text) return;
    else if (values.force) writes.push({ file: rel, text, action: 'replaced' });
    else refused.push(rel);
  };
  put(workflowFile, workflowText);
  for (const p of plan.spec.packs) if (p.schemasFile && p.schemas) put(p.schemasFile, stableJson(p.schemas));
  const appTarget = path.join(root, outFile);
  const existing = existsSync(appTarget) && !values.force ? readFileSync(appTarget, 'utf8') : undefined;
  let addedTo = false;
  if (existing?.split('\n').some((l) => l.trim() === ENDPOINT_MARKER)) {
    const ids = constructIds(plan.spec);
    if (existing.includes(`'${ids.endpoint}'`))
      return fail([
        `${outFile} already has an endpoint ${ids.endpoint}: pass another --path, --app <id> for an app of its own, or --force to rewrite the file`,
      ]);
    const skip = new Set([...ids.models, ...ids.packs].filter((id) => existing.includes(`'${id}'`)));
    const block = renderEndpointBlock(plan.spec, skip);
    const text = aboveMarker(existing, ENDPOINT_MARKER, () => block)!;
    writes.push({ file: outFile, text, action: 'added the endpoint to' });
    addedTo = true;
  } else put(outFile, renderAppFile(plan.spec));
  if (refused.length > 0)
    return fail(
      refused.map(
        (f) => `${f} is already there (and differs): pass --force to replace it, or --app / --out to write another`,
      ),
    );

  const entry = addedTo ? undefined : wireEntry(root, config.app, outFile, functionName(appId));
  if (entry?.text)
    writes.push({ file: entry.file, text: entry.text, action: 'added the app to', preview: entry.added });

  if (values['dry-run']) {
    const would: Record<string, string> = { wrote: 'write', replaced: 'replace' };
    for (const w of writes) {
      const shown =
        w.preview ?? (w.file.endsWith('.ts') ? w.text : `${w.text.slice(0, 300)}${w.text.length > 300 ? '\n…' : ''}\n`);
      out.write(`--- would ${would[w.action] ?? w.action.replace(/^added/, 'add')} ${w.file}:\n${shown}\n`);
    }
  } else {
    for (const w of writes) {
      mkdirSync(path.dirname(path.join(root, w.file)), { recursive: true });
      writeFileSync(path.join(root, w.file), w.text);
    }
  }
  report(out, plan, writes, values['dry-run'] === true, entry?.manual);
  return 0;
}

function report(
  out: Out,
  plan: ImportPlan,
  writes: { file: string; action: string }[],
  dryRun: boolean,
  manual?: string,
) {
  const s = plan.spec;
  const lines = [
    `${dryRun ? 'Would import' : 'Imported'} ${s.workflowFile} as app "${s.appId}", endpoint ${s.endpointPath} (answers ${s.output.output}).`,
  ];
  if (!dryRun) for (const w of writes) lines.push(`  ${w.action} ${w.file}`);
  lines.push('', 'Models:');
  for (const m of s.models)
    lines.push(
      m.kind === 'hf'
        ? `  HfModel   ${m.target}/${m.filename ?? path.posix.basename(m.file)} ← ${m.repo}@${m.revision}/${m.file}`
        : m.kind === 'url'
          ? `  UrlModel  ${m.target}/${m.filename} ← ${m.url}${m.sha256 ? ' (sha256 checked)' : ''}`
          : `  TODO      ${m.folder}/${m.name}: ${m.reason}`,
    );
  if (s.models.length === 0) lines.push('  none');
  if (s.packs.length > 0) {
    lines.push('', 'Custom nodes:');
    for (const p of s.packs)
      lines.push(
        `  ${p.source.kind === 'registry' ? `registry ${p.source.id}@${p.source.version}` : p.source.kind === 'git' ? `git ${p.source.repo} @ ${p.source.commit.slice(0, 12)} (from ${p.source.from})` : 'TODO'}: ${p.classes.join(', ')}`,
      );
  }
  lines.push(
    '',
    'Request fields (edit them in the Endpoint):',
    formatTable(['field', 'type', 'sets', 'default', 'bounds'], fieldTable(s.fields)).trimEnd().replace(/^/gm, '  '),
  );
  if (plan.notes.length > 0) lines.push('', 'Notes:', ...plan.notes.map((n) => `  ${n}`));
  if (plan.todos.length > 0)
    lines.push(
      '',
      `Left for you (${plan.todos.length}; a model or pack is a TODO comment in the code, and synth names it until it is declared):`,
      ...plan.todos.map((t) => `  ${t}`),
    );
  if (manual) lines.push('', `To build the app with the project, ${manual}`);
  lines.push('', dryRun ? 'Nothing was written (--dry-run).' : 'Next: npm run synth');
  out.write(`${lines.join('\n')}\n`);
}

function readPackageName(root: string): string | undefined {
  try {
    return JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).name;
  } catch {
    return undefined;
  }
}
