import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandArgs } from './args';
import { loadConfig } from './config';
import { reportUsage } from './report';
import { commitStage, newStage } from '../synth/stage';
import { synthFromConfig } from './synthesize';

export const SERVE_HELP = `Usage: modal-cdk serve --app <id> [options]

Synthesizes fresh and serves one app's endpoints on this machine (the same FastAPI app Modal would run, with
uvicorn) against an already-running ComfyUI: no Modal account, no GPU needed for weight-free workflows.

Options:
  -a, --app <id>        The app to serve (required)
      --comfy-url <url> The running ComfyUI (default: http://127.0.0.1:8188)
      --comfy-dir <dir> That ComfyUI's directory, for image/video inputs and deleting outputs
                        (default: none: endpoints with image/video fields answer 501)
      --host <host>     Listen address (default: 127.0.0.1)
  -p, --port <n>        Listen port (default: 8000)
      --python <exe>    Python with modal, fastapi, uvicorn, websocket-client and pillow
                        (default: .venv/bin/python when present, else python3)
      --max-active-jobs <n>   Jobs queued or running at once, past which a submit is a 429
                        (default: the app's ComfyApp jobs maxActiveJobs)
      --keep-job-results <s>  Seconds a finished job's result is kept (default: the app's keepResults)
      --results-dir <dir>     Where jobs' output files are written, one folder per job, deleted once
                        expired (default: a new temporary folder, removed when serve stops)
      --allow-private-webhooks  Let job webhooks go to loopback and private addresses (local testing only);
                        their signing key is MODAL_CDK_WEBHOOK_SECRET (whsec_…), none: webhooks refused
      --warmup <what>   What runs before the first request is taken: app (the app's ComfyApp warmup, as on
                        Modal), none, or endpoint paths separated by commas, e.g. /flux,/flux-dev
                        (default: app). A failed warm-up stops serve with the node's error
  -h, --help            Show this help

Exit codes: the server's; 1 the stack has errors; 2 usage error.
`;

export async function serveCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let values: {
    app?: string;
    'comfy-url'?: string;
    'comfy-dir'?: string;
    host?: string;
    port?: string;
    python?: string;
    'max-active-jobs'?: string;
    'keep-job-results'?: string;
    'results-dir'?: string;
    'allow-private-webhooks'?: boolean;
    warmup?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseCommandArgs({
      args: argv,
      options: {
        app: { type: 'string', short: 'a' },
        'comfy-url': { type: 'string' },
        'comfy-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        python: { type: 'string' },
        'max-active-jobs': { type: 'string' },
        'keep-job-results': { type: 'string' },
        'results-dir': { type: 'string' },
        'allow-private-webhooks': { type: 'boolean' },
        warmup: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'serve', (e as Error).message);
  }
  if (values.help) {
    out.write(SERVE_HELP);
    return 0;
  }
  if (!values.app) return reportUsage(err, 'serve', 'expected --app <id>');
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port))
    return reportUsage(err, 'serve', `--port: got ${JSON.stringify(values.port)}, expected a port number`);
  for (const option of ['max-active-jobs', 'keep-job-results'] as const) {
    const value = values[option];
    if (value !== undefined && !/^[1-9]\d{0,6}$/.test(value))
      return reportUsage(err, 'serve', `--${option}: got ${JSON.stringify(value)}, expected a whole number ≥ 1`);
  }
  const config = loadConfig(process.cwd());
  const stage = newStage(config.output); // in synth.out once the app and options are checked (lib/synth/stage.ts)
  const { manifest } = synthFromConfig(config, config.output, false, stage);
  const app = manifest.apps.find((a) => a.id === values.app);
  if (!app)
    return reportUsage(
      err,
      'serve',
      `unknown app id ${JSON.stringify(values.app)}: expected one of ${manifest.apps.map((a) => a.id).join(', ')}`,
    );
  const paths = app.endpoints.map((e) => e.path);
  const unknown = (values.warmup ?? 'app')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w && !['app', 'none'].includes(w) && !paths.includes(w));
  if (unknown.length > 0)
    return reportUsage(
      err,
      'serve',
      `--warmup: got ${unknown.map((u) => JSON.stringify(u)).join(', ')}, expected app, none, or some of ${paths.join(', ')} (separated by commas)`,
    );
  // Past every check: the synth takes synth.out's place, and the app is served from there.
  const appDir = path.join(commitStage(stage), 'apps', app.id);
  const python = values.python ?? (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3');
  const args = [
    path.join(appDir, 'local_serve.py'),
    '--app-file',
    path.join(appDir, 'app.py'),
    '--comfy-url',
    values['comfy-url'] ?? 'http://127.0.0.1:8188',
    '--host',
    values.host ?? '127.0.0.1',
    '--port',
    values.port ?? '8000',
    ...(values['comfy-dir'] ? ['--comfy-dir', path.resolve(values['comfy-dir'])] : []),
    ...(values['max-active-jobs'] ? ['--max-active-jobs', values['max-active-jobs']] : []),
    ...(values['keep-job-results'] ? ['--keep-job-results', values['keep-job-results']] : []),
    ...(values['results-dir'] ? ['--results-dir', path.resolve(values['results-dir'])] : []),
    ...(values['allow-private-webhooks'] ? ['--allow-private-webhooks'] : []),
    ...(values.warmup ? ['--warmup', values.warmup] : []),
  ];
  out.write(
    `Serving ${app.id} (${app.endpoints.map((e) => e.path).join(', ')}) on http://${values.host ?? '127.0.0.1'}:${values.port ?? '8000'} against ${values['comfy-url'] ?? 'http://127.0.0.1:8188'}\n`,
  );
  const child = spawn(python, args, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      err.write(
        `modal-cdk serve: could not run ${python}: ${e.message} (pass --python, or run npm test once to create .venv)\n`,
      );
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    });
  });
}
