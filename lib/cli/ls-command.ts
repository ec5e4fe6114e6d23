import { appGpus } from '../policy/gpu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseCommandArgs, parseContext, warnUnknownContext } from './args';

import { loadConfig } from './config';
import { formatDuration } from '../duration';
import { reportUsage } from './report';
import { synthFromConfig } from './synthesize';

export const LS_HELP = `Usage: modal-cdk ls [--json] [-c key=value ...]

Lists the stack's apps (id, Modal name, GPU, timeout) and each app's endpoints (path, output, server and
client timeouts), as a fresh synth computes them; writes nothing.

Options:
      --json           Print JSON: [{ id, modalName, gpu, timeout, endpoints: [{ path, output, timeout, clientTimeout }] }]
  -c, --context k=v    A context value, as for synth
  -h, --help           Show this help

Exit codes: 0 listed, 1 the stack has errors, 2 usage error.
`;

export function lsCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: { json?: boolean; help?: boolean; context?: string[] };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        context: { type: 'string', short: 'c', multiple: true },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'ls', (e as Error).message);
  }
  if (values.help) {
    out.write(LS_HELP);
    return 0;
  }
  const overrides = parseContext(values.context ?? []);
  if (typeof overrides === 'string') return reportUsage(err, 'ls', overrides);
  const base = loadConfig(process.cwd());
  warnUnknownContext(overrides, base.context, err);
  const scratch = mkdtempSync(path.join(tmpdir(), 'modal-cdk-ls-'));
  try {
    const { manifest } = synthFromConfig({ ...base, context: { ...base.context, ...overrides } }, scratch);
    const apps = manifest.apps.map((a) => ({
      id: a.id,
      modalName: a.modalName,
      gpu: a.gpu,
      timeout: formatDuration(a.timeoutSeconds),
      endpoints: a.endpoints.map((e) => ({
        path: e.path,
        output: e.output,
        timeout: formatDuration(e.timeoutSeconds),
        clientTimeout: formatDuration(e.clientTimeoutMs / 1000),
      })),
    }));
    if (values.json) {
      out.write(`${JSON.stringify(apps, null, 2)}\n`);
      return 0;
    }
    for (const a of apps) {
      out.write(`${a.id}  ${a.modalName}  ${appGpus(a).join(' → ') || 'CPU'}  timeout ${a.timeout}\n`);
      for (const e of a.endpoints)
        out.write(`  ${e.path}  ${e.output}  timeout ${e.timeout}, clients wait ${e.clientTimeout}\n`);
    }
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
