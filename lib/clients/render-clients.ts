import { appGpus } from '../policy/gpu';
import { PROBLEM_SCHEMA } from '../synth/problem-schema';
import { formatDuration } from '../duration';
import { stableJson } from '../synth/json';
import type { AppSpec, EndpointSpec, Manifest, RequestField } from '../synth/spec';
import { pyPretty } from '../synth/python';
import { loadTemplate } from '../synth/templates';
import { MODAL_CLI_VERSION, NODE_VERSION } from '../versions';
import { requestJsonSchema, SEED_MAX_JSON, SEED_MAX_PLACEHOLDER } from './request-schema';
import { endpointUrl, jobsLabel, jobsUrl, urlTemplate, webLabel, webSource } from './web-url';

/**
 * The artifacts that today drift by hand, rendered from the manifest (so from the same model as the
 * apps): the client maps and helpers, the endpoint → app mapping doc, and the CI deploy workflow.
 */
export function renderClientFiles(manifest: Manifest): Map<string, string> {
  const endpoints = manifest.apps.flatMap((app) => app.endpoints.map((e) => ({ app, e })));
  // The URLs' first part: the workspace, with the environment's web suffix when it has one.
  const workspace = webSource(manifest.project);
  const summary = ({ app, e }: { app: AppSpec; e: EndpointSpec }) => ({
    path: e.path,
    app: app.id,
    modalName: app.modalName,
    label: webLabel(app.modalName),
    clientTimeoutMs: e.clientTimeoutMs,
    serverTimeoutSeconds: app.timeoutSeconds,
    contentType: e.contentType,
    requiresProxyAuth: app.requiresProxyAuth,
    jobsLabel: app.jobs && e.jobs ? jobsLabel(app.modalName) : null,
    callAsJob: e.callAsJob,
  });
  const json = {
    version: manifest.version,
    workspace,
    environment: manifest.project.environment,
    errorSchema: PROBLEM_SCHEMA,
    endpoints: Object.fromEntries(
      endpoints.map(({ app, e }) => [
        e.path,
        {
          ...summary({ app, e }),
          urlTemplate: urlTemplate(app.modalName),
          url: endpointUrl(workspace, app.modalName, e.path),
          // The job front door (POST <path> with Prefer: respond-async, GET /jobs/{id}, …), or null.
          jobsUrl: app.jobs && e.jobs ? jobsUrl(workspace, app.modalName) : null,
          requestSchema: requestJsonSchema(e),
        },
      ]),
    ),
  };
  const typeNames = new Set<string>();
  return new Map([
    ['clients/endpoints.json', stableJson(json).replaceAll(`"${SEED_MAX_PLACEHOLDER}"`, SEED_MAX_JSON)],
    [
      'clients/endpoints.ts',
      loadTemplate('clients/endpoints.ts.hbs')({
        workspace,
        endpoints: endpoints.map(summary),
        requests: endpoints.map(({ e }) => ({
          path: e.path,
          description: e.description,
          typeName: uniqueName(e.requestClass, typeNames),
          // Another name is a property of its own, deprecated, as in the JSON Schema; a required field with
          // other names is satisfied by any of them, so none of them is required in the type.
          fields: e.fields.flatMap((f) => [
            { name: f.name, required: f.required && f.aliases.length === 0, type: tsType(f), description: fieldDoc(f) },
            ...f.aliases.map((alias) => ({
              name: alias,
              required: false,
              type: tsType(f),
              description: `@deprecated Another name for ${f.name}.`,
            })),
          ]),
        })),
      }),
    ],
    [
      'clients/endpoints.py',
      loadTemplate('clients/endpoints.py.hbs')({
        workspace,
        endpointsPy: pyPretty(
          Object.fromEntries(
            endpoints.map((x) => {
              const s = summary(x);
              return [
                s.path,
                {
                  app: s.app,
                  modal_name: s.modalName,
                  label: s.label,
                  client_timeout_ms: s.clientTimeoutMs,
                  server_timeout_seconds: s.serverTimeoutSeconds,
                  content_type: s.contentType,
                  requires_proxy_auth: s.requiresProxyAuth,
                  jobs_label: s.jobsLabel,
                  call_as_job: s.callAsJob,
                },
              ];
            }),
          ),
        ),
      }),
    ],
    [
      'docs/ENDPOINT-APP-MAPPING.md',
      loadTemplate('docs/endpoint-app-mapping.md.hbs')({
        workspace,
        environment: manifest.project.environment,
        appCount: manifest.apps.length,
        endpointCount: endpoints.length,
        jobs: manifest.apps
          .filter((a) => a.jobs !== null)
          .map((a) => ({
            app: a.id,
            url: jobsUrl(workspace, a.modalName),
            asJobs:
              a.endpoints
                .filter((e) => e.callAsJob)
                .map((e) => `\`${e.path}\``)
                .join(', ') || '—',
          })),
        rows: endpoints.map(({ app, e }) => ({
          path: e.path,
          app: app.id,
          url: endpointUrl(workspace, app.modalName, e.path),
          clientTimeout: formatDuration(e.clientTimeoutMs / 1000),
          serverTimeout: formatDuration(app.timeoutSeconds),
          gpu: appGpus(app).join(' → ') || 'CPU',
          inputs: e.fields.map(inputCell).join(', '),
        })),
        measured: endpoints
          .filter(({ e }) => e.measured)
          .map(({ e }) => ({
            path: e.path,
            device: e.measured!.device,
            peak: e.measured!.peakGpuMemoryGb,
            load: e.measured!.loadSeconds,
            warm: e.measured!.warmSeconds,
            gpu: e.measured!.gpu,
            estimated: e.measured!.estimatedWarmSeconds,
            usd: e.measured!.estimatedUsdPerRequest?.toFixed(4) ?? '-',
          })),
        standing: manifest.apps.map((a) =>
          standingRow(a.id, a.minContainers, a.bufferContainers, a.warmSchedule.length, a.standingCost, a.coldStart),
        ),
        releases: manifest.apps.map((a) => ({
          app: a.id,
          comfyVersion: a.comfyVersion,
          schemas: `${a.nodeSchemas.source} of ${a.nodeSchemas.comfyVersion}`,
        })),
      }),
    ],
    [
      'ci/deploy-modal.yml',
      loadTemplate('ci/deploy-modal.yml.hbs')({
        environment: manifest.project.releasePath?.from ?? manifest.project.environment,
        release: manifest.project.releasePath,
        nodeVersion: NODE_VERSION,
        pythonVersion: '3.11',
        modalVersion: MODAL_CLI_VERSION,
      }),
    ],
  ]);
}

const TS_TYPES: Record<RequestField['type'], string> = {
  string: 'string',
  image: 'string',
  video: 'string',
  int: 'number',
  float: 'number',
  seed: 'number',
  bool: 'boolean',
  enum: 'string',
};

function tsType(f: RequestField): string {
  const base = f.type === 'enum' ? f.values!.map((v) => JSON.stringify(v)).join(' | ') : TS_TYPES[f.type];
  const value = f.maxItems !== undefined ? `${base} | ${base}[]` : base;
  // null means left out for any field a request need not send (docs/generated-app.md "The request contract").
  return f.required ? value : `${value} | null`;
}

/** The doc comment of a field: its description, default, bounds and other names. */
function fieldDoc(f: RequestField): string {
  const parts = [
    f.description,
    f.default !== undefined ? `Default: ${JSON.stringify(f.default)}.` : undefined,
    f.min !== undefined || f.max !== undefined
      ? `Range: ${f.min ?? '-∞'}..${f.max ?? '∞'}${f.clamp ? ' (clamped)' : ''}.`
      : undefined,
    f.aliases.length > 0 ? `Also accepted as ${f.aliases.join(', ')}.` : undefined,
  ];
  return parts
    .filter((p): p is string => Boolean(p))
    .map((p) => (/[.!?]$/.test(p) ? p : `${p}.`))
    .join(' ');
}

/** `prompt*`, `length|num_frames [81]`: name, required mark, other names, default. */
function inputCell(f: RequestField): string {
  const names = [f.name, ...f.aliases].join('\\|');
  const text = String(f.default ?? '').replace(/\s+/g, ' ');
  const shown = text.length > 24 ? `${text.slice(0, 23)}…` : text;
  const dflt = shown !== '' ? ` [${shown.replace(/\|/g, '\\|')}]` : '';
  return `\`${names}\`${f.required ? '*' : ''}${dflt}`;
}

function uniqueName(name: string, taken: Set<string>): string {
  let unique = name;
  for (let n = 2; taken.has(unique); n++) unique = `${name}${n}`;
  taken.add(unique);
  return unique;
}

/** One app's row of the mapping doc's standing-cost table (deploy prints the same spec figures as a sentence: plan.ts). */
export function standingRow(
  app: string,
  minContainers: number,
  bufferContainers: number,
  scheduleEntries: number,
  c: AppSpec['standingCost'],
  cold: AppSpec['coldStart'],
): Record<string, string> {
  const usd = (v: number | null) => (v === null ? 'no catalog price' : `$${v.toFixed(2)}`);
  return {
    app,
    gpu: c.gpu,
    warm:
      scheduleEntries > 0
        ? `${c.averageWarmContainers} on average (warm schedule, ${scheduleEntries} entries; floor ${minContainers})`
        : String(minContainers),
    perDay: usd(c.usdPerDay),
    per30Days: usd(c.usdPer30Days),
    buffer: bufferContainers > 0 ? `${bufferContainers}: ${usd(c.bufferUsdPerBusyHour)} per busy hour` : '0',
    coldStart: `≈ ${formatDuration(cold.estimatedSeconds)} (${cold.modelGb} GB, ${cold.warmedEndpoints} warmed)`,
  };
}
