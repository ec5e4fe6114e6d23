import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  ComfyApp,
  type ComfyAppProps,
  Endpoint,
  type EndpointProps,
  HfModel,
  ModalProject,
  type ModalProjectProps,
  Workflow,
} from '../constructs';
import buildRyla from '../bin/ryla';
import { CONTEXT_ENV_VAR } from '../constructs/modal-project';
import { runCli } from '../lib/cli/main';
import { applyConfigContext } from '../lib/cli/synthesize';
import { loadConfig } from '../lib/cli/config';
import { ModalCdkError } from '../lib/errors';
import { stableJson } from '../lib/synth/json';

export const ROOT = path.join(__dirname, '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

/** A project rooted at the fixtures dir, so `Workflow.fromFile('workflows/tiny.json')` resolves. */
export function testProject(props: ModalProjectProps = {}): ModalProject {
  return new ModalProject(undefined, 'test', { workspace: 'acme', root: FIXTURES, ...props });
}

/**
 * A project with one app `demo` (with the checkpoint tiny.json loads) and one endpoint `/demo` on the tiny
 * workflow; parts can be overridden.
 */
export function demoStack(
  opts: { project?: ModalProjectProps; app?: Partial<ComfyAppProps>; endpoint?: Partial<EndpointProps> } = {},
) {
  const project = testProject(opts.project);
  const app = new ComfyApp(project, 'demo', { gpu: 'L40S', ...opts.app });
  tinyCheckpoint(app);
  const endpoint = new Endpoint(app, 'Demo', {
    path: '/demo',
    workflow: Workflow.fromFile('workflows/tiny.json'),
    inputs: { width: { type: 'int', node: '1', input: 'width', default: 64, min: 1, max: 4096 } },
    ...opts.endpoint,
  });
  return { project, app, endpoint };
}

/** A made-up commit of the made-up repo acme/tiny (a pinned revision: no unpinned-revision warning). */
export const TINY_REVISION = '0123456789abcdef0123456789abcdef01234567';

/** The checkpoint workflows/tiny.json loads, as an HfModel of `app` (construct id `TinyCheckpoint`). */
export function tinyCheckpoint(app: ComfyApp): HfModel {
  return new HfModel(app, 'TinyCheckpoint', {
    repo: 'acme/tiny',
    file: 'tiny.safetensors',
    revision: TINY_REVISION,
    target: 'checkpoints',
    sizeGb: 0.1,
  });
}

/** The problems a function throws as a ModalCdkError, one `[path] message` string each. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (ModalCdkError.isModalCdkError(e)) return e.problems.map((p) => `[${p.path}] ${p.message}`);
    throw e;
  }
  throw new Error('expected a ModalCdkError, but nothing was thrown');
}

export { tempDir } from './temp';

/** Runs `modal-cdk <args>` in-process with `cwd` as the working directory; returns the exit code and output. */
export async function runCliIn(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (c) => (text.out += c));
  err.on('data', (c) => (text.err += c));
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    return { code: await runCli(args, out, err), ...text };
  } finally {
    process.chdir(previous);
  }
}

/** What `npm run synth` builds: the RYLA stack with cdk-like.json's context (and client policy). */
export function synthRyla() {
  applyConfigContext(loadConfig(ROOT));
  try {
    return buildRyla().synth();
  } finally {
    delete process.env[CONTEXT_ENV_VAR];
  }
}

/**
 * The files of an assembly that synth copies verbatim (the runtime into every app, each workflow as its
 * source in canonical JSON), each checked equal to its source instead of being snapshotted per app, so a
 * snapshot diff shows what synth computed. Returns the paths it checked.
 */
export function expectVerbatimCopies(files: ReadonlyMap<string, string>, workflowsDir: string): string[] {
  const checked: string[] = [];
  for (const [file, text] of files) {
    const runtime =
      /^apps\/[^/]+\/(comfy_runtime\.py|request_files\.py|response_files\.py|import_gate\.py|modal_cdk_snapshot\/\w+\.py)$/.exec(
        file,
      );
    const workflow = /^apps\/[^/]+\/workflows\/(.+\.json)$/.exec(file);
    if (runtime) expect(text).toBe(readFileSync(path.join(ROOT, 'templates', 'runtime', runtime[1]), 'utf8'));
    else if (workflow)
      expect(text).toBe(stableJson(JSON.parse(readFileSync(path.join(workflowsDir, workflow[1]), 'utf8'))));
    else continue;
    checked.push(file);
  }
  return checked;
}
