import { createInterface } from 'node:readline';
import type { DeployPlan } from '../synth/spec';
import { classifyFailure, DEPLOY_SKIPPED, failureHint, type FailureKind, webUrls } from './modal-output';

export type PlanStep = DeployPlan['steps'][number];

export interface ApplyOptions {
  /** Where `modal deploy` runs: synth.out, which the steps' entry paths are relative to. */
  readonly cwd: string;
  /** Per attempt; past it the whole process tree is killed. */
  readonly timeoutSeconds: number;
  /** Retries of a transient failure. */
  readonly retries: number;
  /** Wait before the first retry, doubled for each further one. */
  readonly retryDelaySeconds: number;
  /** Each line of output as it comes. */
  readonly onLine: (line: string) => void;
  /** Aborting kills the running deploy (SIGINT). */
  readonly signal: AbortSignal;
}

export type Outcome = 'deployed' | 'unchanged' | 'failed' | 'cancelled';

export interface AppResult {
  readonly appId: string;
  readonly outcome: Outcome;
  readonly attempts: number;
  readonly durationMs: number;
  readonly urls: string[];
  /** Why it failed, and what to do. */
  readonly reason?: string;
}

/**
 * Runs `modal <step.args>` for one app: streams its output, kills the process tree at the time limit,
 * retries transient failures with backoff (never build or auth errors), and says what happened.
 */
export async function deployApp(step: PlanStep, options: ApplyOptions): Promise<AppResult> {
  const started = performance.now();
  const result = (outcome: Outcome, attempts: number, urls: string[] = [], reason?: string): AppResult => ({
    appId: step.appId,
    outcome,
    attempts,
    urls,
    reason,
    durationMs: Math.round(performance.now() - started),
  });
  for (let attempt = 1; ; attempt++) {
    const run = await runModal(step.args, options);
    if (run.kind === 'cancelled' || options.signal.aborted)
      return result('cancelled', attempt, [], 'interrupted: the modal process was killed');
    if (run.kind === 'ok')
      return result(DEPLOY_SKIPPED.test(run.output) ? 'unchanged' : 'deployed', attempt, webUrls(run.output));
    if (run.kind === 'not-found' || run.kind === 'timeout')
      return result('failed', attempt, [], failureHint(run.kind, options.timeoutSeconds));
    const kind: FailureKind = classifyFailure(run.output);
    if (kind !== 'transient' || attempt > options.retries) {
      const exit = `modal exited with ${run.exitCode}${attempt > 1 ? ` after ${attempt} attempts` : ''}`;
      return result('failed', attempt, [], `${exit}: ${failureHint(kind)}`);
    }
    const delay = options.retryDelaySeconds * 2 ** (attempt - 1);
    options.onLine(
      `modal-cdk: transient failure (attempt ${attempt} of ${options.retries + 1}); retrying in ${delay} s`,
    );
    await sleep(delay * 1000, options.signal);
    if (options.signal.aborted) return result('cancelled', attempt, [], 'interrupted while waiting to retry');
  }
}

export type Run =
  | { kind: 'ok'; output: string; stdout: string }
  | { kind: 'failed'; exitCode: number; output: string }
  | { kind: 'timeout' }
  | { kind: 'not-found' }
  | { kind: 'cancelled' };

/**
 * What went wrong with a run that did not succeed, as the rest of a sentence after the command's name:
 * `exited with 1: <why>` (a build or usage failure: `onBuild`; auth and network: what to do), `onTimeout`,
 * `could not run: <install hint>`, or `was interrupted`. For commands that run once (deploy retries, and
 * says so through failureHint).
 */
export function runFailure(run: Exclude<Run, { kind: 'ok' }>, onBuild: string, onTimeout: string): string {
  switch (run.kind) {
    case 'failed': {
      const kind = classifyFailure(run.output);
      return `exited with ${run.exitCode}: ${kind === 'build' ? onBuild : kind === 'auth' ? failureHint(kind) : 'the network or Modal failed; try again'}`;
    }
    case 'timeout':
      return onTimeout;
    case 'not-found':
      return `could not run: ${failureHint('not-found')}`;
    case 'cancelled':
      return 'was interrupted';
  }
}

/**
 * One `modal <args>` in its own process group: each output line to `onLine`, the whole group killed at
 * the time limit or on abort. Deploy and logs both run the CLI through it; `command` runs another
 * program the same way (scale runs the project's Python with the modal package).
 */
export async function runModal(
  args: string[],
  options: Pick<ApplyOptions, 'cwd' | 'timeoutSeconds' | 'onLine' | 'signal'> & { command?: string },
): Promise<Run> {
  // execa is ESM-only: loaded here, on first deploy, so the rest of the CLI (and Jest) never loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execa } = require('execa') as typeof import('execa');
  const child = execa(options.command ?? 'modal', args, {
    cwd: options.cwd,
    reject: false,
    all: true,
    buffer: false,
    stdin: 'ignore',
    // Its own process group, so the time limit and Ctrl-C can kill everything it started.
    detached: true,
    env: { PYTHONUNBUFFERED: '1' },
  });
  const lines: string[] = [];
  // stdout alone as well, for the commands that parse modal's --json (warnings go to stderr).
  const stdout: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  const reading = new Promise<void>((resolve) => {
    if (!child.all) return resolve();
    const reader = createInterface({ input: child.all });
    reader.on('line', (line) => {
      lines.push(line);
      options.onLine(line);
    });
    reader.on('close', resolve);
  });
  let timedOut = false;
  const killTree = () => {
    if (child.pid === undefined) return;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 2000).unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killTree();
  }, options.timeoutSeconds * 1000);
  options.signal.addEventListener('abort', killTree, { once: true });
  const done = await child;
  await reading;
  clearTimeout(timer);
  options.signal.removeEventListener('abort', killTree);
  // The leader may be gone while something it started lives on: make sure the group is gone too.
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  if (options.signal.aborted) return { kind: 'cancelled' };
  if (timedOut) return { kind: 'timeout' };
  if (done.code === 'ENOENT') return { kind: 'not-found' };
  const output = lines.join('\n');
  return done.exitCode === 0
    ? { kind: 'ok', output, stdout: Buffer.concat(stdout).toString('utf8') }
    : { kind: 'failed', exitCode: done.exitCode ?? -1, output };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
