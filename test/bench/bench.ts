/**
 * `npm run bench`: synth speed. Prints medians; a benchmark, not a test (nothing here fails on time).
 * - in-process synth of the stack `npm run synth` builds (validate + model + render, and with the write)
 * - the whole process `npm run synth` runs, without npm's own start-up: `node bin/modal-cdk.js synth`
 * - in-process synth of a generated stack of 100 apps × 10 endpoints
 * - deploy of the 7 RYLA apps with a stand-in `modal` that takes 2 s per app (4 at a time), and a second,
 *   unchanged `deploy --all` (no Modal call at all)
 * - then test/bench/runtime.sh: the runtime's per-request overhead over a real ComfyUI's own execution time
 *   (p50/p95 over 60 requests), beside comfy-cli's `comfy run --wait` (skip it with --no-runtime)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import buildRyla from '../../bin/ryla';
import { ComfyApp, Endpoint, HfModel, ModalProject, Workflow } from '../../constructs';
import { CONTEXT_ENV_VAR } from '../../constructs/modal-project';

const ROOT = path.join(__dirname, '..', '..');

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(runs: number, fn: () => void): number {
  fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

function bigStack(apps: number, endpointsPerApp: number): ModalProject {
  const project = new ModalProject(undefined, 'big', { workspace: 'bench', root: ROOT });
  const workflow = Workflow.fromFile('workflows/flux-schnell.json');
  for (let a = 0; a < apps; a++) {
    const app = new ComfyApp(project, `app-${a}`, { gpu: a % 2 ? 'L40S' : ['H100', 'A100-80GB'] });
    new HfModel(app, 'Ckpt', { repo: 'Comfy-Org/flux1-schnell', file: 'flux1-schnell-fp8.safetensors', target: 'checkpoints', sizeGb: 17.2 });
    for (let e = 0; e < endpointsPerApp; e++) {
      new Endpoint(app, `E${e}`, {
        path: `/app-${a}/e-${e}`,
        workflow,
        inputs: {
          prompt: { type: 'string', node: '6', input: 'text' },
          width: { type: 'int', node: '5', input: 'width', default: 1024, min: 256, max: 2048 },
          seed: { type: 'seed', node: '3', input: 'seed' },
        },
      });
    }
  }
  return project;
}

const config = JSON.parse(readFileSync(path.join(ROOT, 'cdk-like.json'), 'utf8'));
process.env[CONTEXT_ENV_VAR] = JSON.stringify({ 'modal-cdk:workspace': config.modal.workspace });
const out = mkdtempSync(path.join(tmpdir(), 'modal-cdk-bench-'));

const rows: [string, number, string][] = [];
rows.push(['RYLA stack (7 apps, 21 endpoints), in-process synth (no write)', time(20, () => buildRyla().synth()), '≤ 50 ms']);
rows.push(['RYLA stack, in-process synth + atomic write', time(20, () => buildRyla().synth({ outdir: path.join(out, 'a') })), '≤ 50 ms']);
rows.push(['RYLA stack, whole process (node bin/modal-cdk.js synth)', time(7, () => {
  execFileSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), 'synth', '-q', '-o', path.join(out, 'b')], { cwd: ROOT });
}), '≤ 800 ms']);
rows.push(['100 apps × 10 endpoints, in-process synth (no write)', time(5, () => bigStack(100, 10).synth()), '≤ 1000 ms']);


// Deploy: the whole `modal-cdk deploy` process in a project of the RYLA stack, the stand-in first on PATH.
const project = path.join(out, 'deploy');
const standin = path.join(project, 'standin');
mkdirSync(standin, { recursive: true });
writeFileSync(path.join(project, 'cdk-like.json'), JSON.stringify({ ...config, app: `ts-node --swc ${path.join(ROOT, 'bin', 'ryla.ts')}`, clientPolicy: path.join(ROOT, 'client-policy.yaml') }));
writeFileSync(path.join(standin, 'mode.default'), 'slow:2');
const deployEnv = {
  ...process.env,
  PATH: `${path.join(ROOT, 'test', 'fixtures', 'standin')}${path.delimiter}${process.env.PATH}`,
  MODAL_TOKEN_ID: 'ak-bench', MODAL_TOKEN_SECRET: 'as-bench', STANDIN_DIR: standin, STANDIN_LOG: path.join(standin, 'log'),
};
const deploy = (...args: string[]) => execFileSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), 'deploy', '--all', '--yes', ...args], { cwd: project, env: deployEnv, stdio: 'ignore' });
const modalCalls = () => (existsSync(path.join(standin, 'log')) ? readFileSync(path.join(standin, 'log'), 'utf8').trim().split('\n').length : 0);
let t = performance.now();
deploy('--concurrency', '4');
rows.push([`deploy --all --concurrency 4, 7 apps × 2 s stand-in (${modalCalls()} modal calls)`, performance.now() - t, '≤ 5000 ms (14 s one by one)']);
const before = modalCalls();
const unchanged = time(5, () => deploy());
rows.push([`deploy --all again, nothing changed (${modalCalls() - before} modal calls)`, unchanged, '≤ 1500 ms, 0 calls']);

console.log(`modal-cdk bench (median ms; node ${process.version}, ${require('node:os').cpus().length} cores)`);
for (const [name, ms, target] of rows) console.log(`  ${name.padEnd(72)} ${ms.toFixed(1).padStart(8)} ms   target ${target}`);

if (!process.argv.includes('--no-runtime')) {
  console.log('');
  execFileSync('bash', [path.join(ROOT, 'test', 'bench', 'runtime.sh')], { cwd: ROOT, stdio: 'inherit' });
}
