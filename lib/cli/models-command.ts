import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandArgs, subcommandProblem } from './args';
import { loadConfig } from './config';
import { reportUsage } from './report';
import { formatTable } from '../table';
import { runFailure, runModal } from '../deploy/apply';
import { modalArgs } from '../deploy/modal-args';
import { preflight } from '../deploy/preflight';
import { selectApps, UsageError, type Selection } from '../deploy/plan';
import { checkVolumeFiles, type VolumeFile, volumeFiles } from '../deploy/volume-check';
import { ModalCdkError } from '../errors';

export const MODELS_HELP = `Usage: modal-cdk models ls --app <id> [options]
       modal-cdk models upload --app <id> --from <dir> [--dry-run] [options]

Model files that live in Modal Volumes (VolumeModel constructs), which no image build downloads:

  ls      Lists each VolumeModel of the app: its volume, the path it expects there, and whether the volume
          has it (modal volume ls --json), with its size.
  upload  Puts each missing one there from <dir>/<path in the volume> (modal volume put), then lists the
          volume again and checks that each upload arrived whole (same size in bytes). Files already
          there are left alone.

deploy runs the ls check before deploying an app and refuses an app whose volume files are missing
(deploy --skip-volume-check deploys anyway, e.g. when the files are uploaded by another process).

Options:
  -a, --app <id>       The app (required)
      --from <dir>     upload: the local folder laid out as the volume (required for upload)
      --dry-run        upload: print the modal volume put commands, run nothing
  -e, --env <name>     Modal environment (default: cdk-like.json modal.environment, else main)
  -h, --help           Show this help

Exit codes: 0 every file present (ls) or uploaded and checked (upload); 1 files missing, an upload failed
or came out a different size, or Modal could not be asked; 2 usage error.
`;

type Out = NodeJS.WritableStream;

export async function modelsCommand(argv: string[], out: Out, err: Out): Promise<number> {
  const [sub, ...rest] = argv;
  const wrong = subcommandProblem(argv, ['ls', 'upload']);
  if (wrong) return reportUsage(err, 'models', wrong);
  let values: { app?: string; from?: string; 'dry-run'?: boolean; env?: string; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args: rest,
      options: {
        app: { type: 'string', short: 'a' },
        from: { type: 'string' },
        'dry-run': { type: 'boolean' },
        env: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    return reportUsage(err, 'models', (e as Error).message);
  }
  if (sub === '--help' || sub === '-h' || values.help) {
    out.write(MODELS_HELP);
    return 0;
  }
  if (!values.app) return reportUsage(err, 'models', 'expected --app <id>');
  if (sub === 'upload' && !values.from)
    return reportUsage(err, 'models', 'upload: expected --from <dir>, the local folder laid out as the volume');
  if (sub === 'ls' && (values.from || values['dry-run']))
    return reportUsage(err, 'models', 'ls: --from and --dry-run are options of upload');
  if (values.from && !existsSync(values.from))
    return reportUsage(err, 'models', `--from: ${JSON.stringify(values.from)} does not exist`);
  const config = loadConfig(process.cwd());
  const env = values.env ?? config.modal.environment;
  let selection: Selection;
  try {
    selection = selectApps(config, process.cwd(), env, [values.app], false);
  } catch (e) {
    if (e instanceof UsageError) return reportUsage(err, 'models', e.message);
    throw e;
  }
  const app = selection.manifest.apps.find((a) => a.id === values.app)!;
  const files = volumeFiles(app);
  if (files.length === 0) {
    out.write(`${app.id} has no VolumeModel: every model file it uses is in its image.\n`);
    return 0;
  }
  const cwd = selection.outdir;
  if (!values['dry-run']) {
    const missing = preflight();
    if (missing.length > 0) throw new ModalCdkError(missing);
  }
  const checked = values['dry-run'] ? { files } : await checkVolumeFiles(files, env, cwd);
  if ('error' in checked) {
    err.write(`modal-cdk models: could not list the volumes: ${checked.error}\n`);
    return 1;
  }
  if (sub === 'ls') {
    out.write(describe(checked.files));
    const absent = checked.files.filter((f) => !f.found);
    if (absent.length > 0)
      err.write(
        `modal-cdk models: ${absent.length} missing: modal-cdk models upload --app ${app.id} --from <dir> puts them there\n`,
      );
    return absent.length === 0 ? 0 : 1;
  }
  return upload(checked.files, values.from!, env, cwd, values['dry-run'] ?? false, out, err);
}

function describe(files: VolumeFile[]): string {
  return formatTable(
    ['model', 'volume', 'path', 'on the volume'],
    files.map((f) => [
      f.constructPath,
      f.volume,
      f.pathInVolume,
      f.found ? `${f.found.type}, ${f.found.sizeBytes} bytes` : 'missing',
    ]),
  );
}

async function upload(
  files: VolumeFile[],
  from: string,
  env: string,
  cwd: string,
  dryRun: boolean,
  out: Out,
  err: Out,
): Promise<number> {
  // In a dry run nothing was listed: every file is shown as it would be put.
  const todo = files.filter((f) => !f.found);
  const local = (f: VolumeFile) => path.resolve(from, f.pathInVolume);
  const absentHere = todo.filter((f) => !existsSync(local(f)));
  if (absentHere.length > 0) {
    err.write(
      `modal-cdk models upload: not in ${from}: ${absentHere.map((f) => `${f.pathInVolume} (${f.constructPath})`).join(', ')}: expected the folder laid out as the volume\n`,
    );
    return 1;
  }
  for (const f of files.filter((f) => f.found))
    out.write(`${f.pathInVolume}: already on ${f.volume} (${f.found!.sizeBytes} bytes), left alone\n`);
  const put = (f: VolumeFile) => modalArgs.volumePut(f.volume, local(f), `/${f.pathInVolume}`, env);
  if (dryRun) {
    for (const f of todo) out.write(`Would run: modal ${put(f).join(' ')}\n`);
    return 0;
  }
  const failed = new Set<string>();
  for (const f of todo) {
    out.write(`Uploading ${f.pathInVolume} (${sizeOf(local(f))} bytes) to ${f.volume}\n`);
    const run = await runModal(put(f), {
      cwd,
      timeoutSeconds: 3600,
      signal: new AbortController().signal,
      onLine: (line) => out.write(`  ${line}\n`),
    });
    if (run.kind !== 'ok') {
      failed.add(f.pathInVolume);
      const why = runFailure(
        run,
        `see its output above (a volume that does not exist yet: modal volume create ${f.volume} --env ${env})`,
        'gave no result within 3600 s, so it was killed',
      );
      err.write(`modal-cdk models upload: ${f.pathInVolume}: modal volume put ${why}\n`);
    }
  }
  const after = await checkVolumeFiles(todo, env, cwd);
  if ('error' in after) {
    err.write(`modal-cdk models upload: could not list the volumes after uploading: ${after.error}\n`);
    return 1;
  }
  for (const f of after.files.filter((f) => !failed.has(f.pathInVolume))) {
    const expected = sizeOf(local(f));
    if (!f.found) err.write(`modal-cdk models upload: ${f.pathInVolume}: not on ${f.volume} after the upload\n`);
    else if (f.found.type === 'file' && f.found.sizeBytes !== expected)
      err.write(
        `modal-cdk models upload: ${f.pathInVolume}: ${f.found.sizeBytes} bytes on ${f.volume}, expected ${expected} (the local file): upload it again\n`,
      );
    else continue;
    failed.add(f.pathInVolume);
  }
  out.write(`${todo.length - failed.size} of ${todo.length} uploaded and checked.\n`);
  return failed.size === 0 ? 0 : 1;
}

/** Bytes of a file, or of every file under a folder. */
function sizeOf(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(file).reduce((n, name) => n + sizeOf(path.join(file, name)), 0);
}
