import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir } from './helpers';

// The deploy-side commands as a user runs them: the real CLI in its own process, in a project whose
// stack is bin/example.ts (apps flux and upscale), with the recording stand-in `modal`
// (test/fixtures/standin/modal) first on PATH.
const BIN = path.join(ROOT, 'bin', 'modal-cdk.js');
const STANDIN = path.join(ROOT, 'test', 'fixtures', 'standin');
const NODE_DIR = path.dirname(process.execPath);

export interface Project {
  dir: string;
  standin: string;
}

export function project(config: Record<string, unknown> = {}): Project {
  const dir = tempDir('modal-cdk-deploy-');
  writeFileSync(
    path.join(dir, 'cdk-like.json'),
    JSON.stringify({
      app: `ts-node --swc ${path.join(ROOT, 'bin', 'example.ts')}`,
      modal: { workspace: 'acme' },
      deploy: { retryDelaySeconds: 0.05 },
      ...config,
    }),
  );
  const standin = path.join(dir, 'standin');
  // The example's flux app has a VolumeModel: its file is on the stand-in's volume, so deploy's check passes.
  mkdirSync(path.join(standin, 'volumes', 'example-models', 'loras'), { recursive: true });
  writeFileSync(path.join(standin, 'volumes', 'example-models', 'loras', 'example-style.safetensors'), 'lora bytes');
  return { dir, standin };
}

/** modal.<name> behaviours of the stand-in (see test/fixtures/standin/modal). */
export function modes(p: Project, byModalName: Record<string, string>) {
  for (const [name, mode] of Object.entries(byModalName)) writeFileSync(path.join(p.standin, `mode.${name}`), mode);
}

export interface Call {
  argv: string[];
  cwd: string;
  pid: number;
  token: boolean;
}
/** The stand-in's calls, but for deploy's read-only volume check (`modal volume ls`) unless `all`. */
export function calls(p: Project, all = false): Call[] {
  const log = path.join(p.standin, 'log');
  const logged: Call[] = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
  return all ? logged : logged.filter((c) => !(c.argv[0] === 'volume' && c.argv[1] === 'ls'));
}

export const TOKEN = { MODAL_TOKEN_ID: 'ak-test', MODAL_TOKEN_SECRET: 'as-test' };

export function start(
  p: Project,
  args: string[],
  env: Record<string, string | undefined> = TOKEN,
  withStandin = true,
): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: p.dir,
    env: {
      PATH: withStandin
        ? `${STANDIN}${path.delimiter}${NODE_DIR}${path.delimiter}/usr/bin:/bin`
        : `${NODE_DIR}${path.delimiter}/usr/bin:/bin`,
      HOME: p.dir, // no ~/.modal.toml
      STANDIN_DIR: p.standin,
      STANDIN_LOG: path.join(p.standin, 'log'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = { out: '', err: '' };
  child.stdout!.on('data', (c) => (text.out += c));
  child.stderr!.on('data', (c) => (text.err += c));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, ...text }))) };
}

export const deploy = (p: Project, args: string[], env?: Record<string, string | undefined>, withStandin?: boolean) =>
  start(p, ['deploy', ...args], env, withStandin).done;
export const state = (p: Project, env = 'main') =>
  JSON.parse(readFileSync(path.join(p.dir, '.modal-cdk', 'state', `${env}.json`), 'utf8'));
export const hasState = (p: Project, env = 'main') =>
  existsSync(path.join(p.dir, '.modal-cdk', 'state', `${env}.json`));
export const manifest = (p: Project) =>
  JSON.parse(readFileSync(path.join(p.dir, 'synth.out', 'manifest.json'), 'utf8'));
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
