/**
 * `npm run bench`: synth speed. Prints medians; a benchmark, not a test (nothing here fails on time).
 * - in-process synth of the stack `npm run synth` builds (validate + model + render, and with the write)
 * - the whole process `npm run synth` runs, without npm's own start-up: `node bin/modal-cdk.js synth`
 * - the ComfyUI node-schema checks of the 21 RYLA endpoints alone (graph, bindings, outputs)
 * - converting a 100-node UI-format workflow to API format
 * - in-process synth of a generated stack of 100 apps × 10 endpoints
 * - deploy of the 7 RYLA apps with a stand-in `modal` that takes 2 s per app (4 at a time), and a second,
 *   unchanged `deploy --all` (no Modal call at all)
 * - then test/bench/runtime.sh: the runtime's per-request overhead over a real ComfyUI's own execution time
 *   (p50/p95 over 60 requests), beside comfy-cli's `comfy run --wait`, and ComfyUI's local cold start in
 *   phases (test/bench/cold_start.py), the job list over 10,000 jobs (job_list.py) and a 200 MB job result's
 *   first byte, Range read and server memory (job_result.py) (skip them with --no-runtime)
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import buildRyla from '../../bin/ryla';
import { ComfyApp, Endpoint, HfModel, ModalProject, Workflow } from '../../constructs';
import { bindingProblems } from '../../lib/comfy/binding-check';
import { checkGraph } from '../../lib/comfy/graph-check';
import { outputProblems } from '../../lib/comfy/outputs';
import { SchemaSet } from '../../lib/comfy/schema-set';
import { convertUiWorkflow } from '../../lib/comfy/ui-convert';
import { CONTEXT_ENV_VAR } from '../../constructs/modal-project';
import { appGpus, GPU_TYPES } from '../../lib/policy/gpu';
import { type Measurements, TIME_FACTOR_VS_H200 } from '../../lib/policy/gpu-fit';

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
    new HfModel(app, 'Ckpt', {
      repo: 'Comfy-Org/flux1-schnell',
      file: 'flux1-schnell-fp8.safetensors',
      target: 'checkpoints',
      sizeGb: 17.2,
    });
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

/** A UI-format workflow of `n` nodes: an image, n - 2 scalings, each with its widgets and a link, and a save. */
function chainUi(n: number) {
  const nodes: object[] = [{ id: 1, type: 'EmptyImage', mode: 0, inputs: [], widgets_values: [64, 64, 1, 0] }];
  const links: unknown[] = [];
  for (let id = 2; id <= n; id++) {
    links.push([id - 1, id - 1, 0, id, 0, 'IMAGE']);
    const save = id === n;
    nodes.push({
      id,
      type: save ? 'SaveImage' : 'ImageScaleBy',
      mode: 0,
      inputs: [{ name: save ? 'images' : 'image', type: 'IMAGE', link: id - 1 }],
      widgets_values: save ? ['out'] : ['nearest-exact', 1],
    });
  }
  return { nodes, links };
}

const config = JSON.parse(readFileSync(path.join(ROOT, 'cdk-like.json'), 'utf8'));
process.env[CONTEXT_ENV_VAR] = JSON.stringify({ 'modal-cdk:workspace': config.modal.workspace });
const out = mkdtempSync(path.join(tmpdir(), 'modal-cdk-bench-'));

const rows: [string, number, string][] = [];
rows.push([
  'RYLA stack (7 apps, 21 endpoints), in-process synth (no write)',
  time(20, () => buildRyla().synth()),
  '≤ 50 ms',
]);
let writes = 0;
rows.push([
  'RYLA stack, in-process synth + atomic write (into a new directory)',
  time(20, () => buildRyla().synth({ outdir: path.join(out, `a${writes++}`) })),
  '≤ 50 ms',
]);
rows.push([
  'RYLA stack, in-process synth + write, output unchanged (left as is)',
  time(20, () => buildRyla().synth({ outdir: path.join(out, 'a0') })),
  '≤ 50 ms',
]);
rows.push([
  'RYLA stack, whole process (node bin/modal-cdk.js synth)',
  time(7, () => {
    execFileSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), 'synth', '-q', '-o', path.join(out, 'b')], {
      cwd: ROOT,
    });
  }),
  '≤ 800 ms',
]);
// The node-schema checks alone, over the RYLA endpoints as synth runs them (schemas already loaded).
const ryla = buildRyla();
ryla.synth();
const endpoints = ryla.node.findAll().filter((c): c is Endpoint => c instanceof Endpoint);
rows.push([
  'ComfyUI checks of the 21 RYLA endpoints alone (graph, fields, output)',
  time(20, () => {
    for (const e of endpoints) {
      const app = e.node.scope as ComfyApp;
      const graph = e.graph();
      const manifest = e._toSpec('R');
      checkGraph(graph, app.schemas, { file: e.workflow.name, models: app.modelFiles });
      bindingProblems(
        manifest.fields.map((f) => ({ ...f, default: f.default ?? undefined, winsOver: [] })),
        graph,
        app.schemas,
        e.workflow.name,
        app.modelFiles,
      );
      outputProblems(graph, manifest.outputNode, manifest.output, app.schemas, e.workflow.name);
    }
  }),
  '≤ 30 ms',
]);
rows.push([
  'convert a 100-node UI-format workflow to API format',
  time(20, () => {
    const result = convertUiWorkflow(chainUi(100), SchemaSet.for('0.3.75'));
    if ('problems' in result) throw new Error(result.problems.join('\n'));
  }),
  '≤ 20 ms',
]);
// Side by side with cdk8s: a same-shape cdk8s app (7 charts, 21 × Deployment + Service + ConfigMap), alone
// with ts-node --swc and through the cdk8s CLI, and the built modal-cdk CLI (npm run build) on the RYLA
// stack held as a user's project holds it (importing the installed package's bundle, with its code cache).
const tsNode = path.join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js');
const cdk8s = time(7, () =>
  execFileSync(process.execPath, [tsNode, '--swc', path.join(ROOT, 'test', 'bench', 'cdk8s-app.ts')], {
    cwd: ROOT,
    env: { ...process.env, CDK8S_OUTDIR: path.join(out, 'k8s') },
  }),
);
rows.push(['cdk8s app of the same shape alone, whole process (ts-node --swc)', cdk8s, 'reference']);
// The same app as cdk8s users synthesize it: `cdk8s synth`, whose cdk8s.yaml `app` runs it with ts-node --swc
// (as modal-cdk synth runs cdk-like.json's); --no-check-upgrade: no registry lookup inside the figure.
const cdk8sProject = path.join(out, 'cdk8s-cli');
mkdirSync(cdk8sProject, { recursive: true });
writeFileSync(
  path.join(cdk8sProject, 'cdk8s.yaml'),
  `language: typescript\napp: ${JSON.stringify(`${process.execPath} ${tsNode} --swc ${path.join(ROOT, 'test', 'bench', 'cdk8s-app.ts')}`)}\n`,
);
const cdk8sCli = time(7, () =>
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s'), 'synth', '--no-check-upgrade'],
    { cwd: cdk8sProject, stdio: 'ignore' },
  ),
);
rows.push(['the same through its CLI (cdk8s synth; app: ts-node --swc)', cdk8sCli, 'reference']);
// The built CLI as of these sources (a dist/ left from an older build would measure, or fail on, old code).
execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
if (existsSync(path.join(ROOT, 'dist', 'bin', 'modal-cdk.js'))) {
  const user = rylaAsUserProject(path.join(out, 'ryla-user'));
  const codeCache = path.join(out, 'code-cache');
  const synth = () =>
    execFileSync(process.execPath, [path.join(ROOT, 'dist', 'bin', 'modal-cdk.js'), 'synth', '-q', '-o', 'synth.out'], {
      cwd: user,
      env: { ...process.env, MODAL_CDK_CACHE_DIR: codeCache },
    });
  rmSync(codeCache, { recursive: true, force: true });
  const started = performance.now();
  synth();
  rows.push(['RYLA as a user project, built CLI, first run (no code cache yet)', performance.now() - started, '']);
  const built = time(7, synth);
  rows.push([
    `RYLA as a user project, built CLI (${(built / cdk8sCli).toFixed(2)}× cdk8s synth, ${(built / cdk8s).toFixed(2)}× its app alone)`,
    built,
    '≤ 0.35× cdk8s',
  ]);
  rows.push([
    'for scale: Node starting and exiting (node -e 0)',
    time(7, () => execFileSync(process.execPath, ['-e', '0'])),
    '',
  ]);
}
rows.push([
  '100 apps × 10 endpoints, in-process synth (no write)',
  time(5, () => bigStack(100, 10).synth()),
  '≤ 1000 ms',
]);

// Deploy: the whole `modal-cdk deploy` process in a project of the RYLA stack, the stand-in first on PATH.
const project = path.join(out, 'deploy');
const standin = path.join(project, 'standin');
mkdirSync(standin, { recursive: true });
writeFileSync(
  path.join(project, 'cdk-like.json'),
  JSON.stringify({
    ...config,
    app: `ts-node --swc ${path.join(ROOT, 'bin', 'ryla.ts')}`,
    clientPolicy: path.join(ROOT, 'client-policy.yaml'),
  }),
);
writeFileSync(path.join(standin, 'mode.default'), 'slow:2');
const deployEnv = {
  ...process.env,
  PATH: `${path.join(ROOT, 'test', 'fixtures', 'standin')}${path.delimiter}${process.env.PATH}`,
  MODAL_TOKEN_ID: 'ak-bench',
  MODAL_TOKEN_SECRET: 'as-bench',
  STANDIN_DIR: standin,
  STANDIN_LOG: path.join(standin, 'log'),
};
// --skip-volume-check: the orchestration alone (the volume check is one `modal volume ls` per folder).
const deploy = (...args: string[]) =>
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'bin', 'modal-cdk.js'), 'deploy', '--all', '--yes', '--skip-volume-check', ...args],
    { cwd: project, env: deployEnv, stdio: 'ignore' },
  );
const modalCalls = () =>
  existsSync(path.join(standin, 'log')) ? readFileSync(path.join(standin, 'log'), 'utf8').trim().split('\n').length : 0;
const t = performance.now();
deploy('--concurrency', '4');
rows.push([
  `deploy --all --concurrency 4, 7 apps × 2 s stand-in (${modalCalls()} modal calls)`,
  performance.now() - t,
  '≤ 5000 ms (14 s one by one)',
]);
const before = modalCalls();
const unchanged = time(5, () => deploy());
rows.push([
  `deploy --all again, nothing changed (${modalCalls() - before} modal calls)`,
  unchanged,
  '≤ 1500 ms, 0 calls',
]);

rmSync(out, { recursive: true, force: true });

console.log(`modal-cdk bench (median ms; node ${process.version}, ${require('node:os').cpus().length} cores)`);
for (const [name, ms, target] of rows)
  console.log(`  ${name.padEnd(72)} ${ms.toFixed(1).padStart(8)} ms   target ${target}`);

// The GPU measurements rule 5 checks against, beside the stack's timeouts (measurements/gpu-h200.json).
const measured = JSON.parse(readFileSync(path.join(ROOT, 'measurements', 'gpu-h200.json'), 'utf8')) as Measurements;
console.log(
  `\nGPU measurements (${measured.device}, driver ${measured.driver}, torch ${measured.torch}, ComfyUI ${measured.comfyui}, ${measured.date}; random-weight models, default request size)`,
);
console.log(
  `  ${'endpoint'.padEnd(24)} ${'size'.padEnd(11)} load s  first s  warm s  peak GB   app GPU  est. warm s  timeout  client  est. $/warm request`,
);
const rylaApps = ryla.synth().manifest.apps;
for (const app of rylaApps) {
  for (const e of app.endpoints) {
    const m = measured.endpoints[e.path];
    if (!m) continue;
    const gpu = (appGpus(app)[0] ?? 'CPU').split(':')[0];
    const warm = m.warmSeconds * (TIME_FACTOR_VS_H200[gpu] ?? 1);
    const rate = GPU_TYPES[gpu]?.usdPerSecond;
    console.log(
      `  ${e.path.padEnd(24)} ${(m.width ? `${m.width}×${m.height}${m.frames ? `×${m.frames}` : ''}` : 'input').padEnd(11)} ${m.loadSeconds.toFixed(2).padStart(6)}  ${m.firstSeconds.toFixed(2).padStart(7)}  ${m.warmSeconds.toFixed(2).padStart(6)}  ${m.peakGpuMemoryGb.toFixed(2).padStart(7)}   ${gpu.padEnd(7)}  ${warm.toFixed(2).padStart(11)}  ${`${e.timeoutSeconds}s`.padStart(7)}  ${`${e.clientTimeoutMs / 1000}s`.padStart(6)}  ${rate ? (warm * rate).toFixed(5) : '-'}`,
    );
  }
}
const unmeasured = rylaApps.flatMap((a) => a.endpoints.map((e) => e.path)).filter((p) => !measured.endpoints[p]);
console.log(`  not measured (${unmeasured.length}): ${unmeasured.join(', ')}`);

// The warm-up (ComfyApp warmup) against the lazy path, on one card (measurements/gpu-h100-warmup.json).
const warmup = JSON.parse(
  readFileSync(path.join(ROOT, 'measurements', 'gpu-h100-warmup.json'), 'utf8'),
) as Measurements;
console.log(
  `\nWarm-up before the first request (${warmup.device}, ComfyUI ${warmup.comfyui}, ${warmup.date}; ready ${warmup.readySeconds} s after process start)`,
);
console.log(`  ${'endpoint'.padEnd(18)} lazy first s  warm s  warm-up s  first after warm-up s  (vs warm)`);
for (const [at, m] of Object.entries(warmup.endpoints)) {
  const after = m.firstAfterWarmupSeconds ?? Number.NaN;
  console.log(
    `  ${at.padEnd(18)} ${m.firstSeconds.toFixed(2).padStart(12)}  ${m.warmSeconds.toFixed(2).padStart(6)}  ${(m.warmupSeconds ?? Number.NaN).toFixed(2).padStart(9)}  ${after.toFixed(2).padStart(21)}  (${(((after - m.warmSeconds) / m.warmSeconds) * 100).toFixed(1)} %)`,
  );
}

if (!process.argv.includes('--no-runtime')) {
  console.log('');
  execFileSync('bash', [path.join(ROOT, 'test', 'bench', 'runtime.sh')], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * The RYLA stack as another team's project would hold it: its files copied into `dir`, importing
 * 'modal-cdk' (node_modules/modal-cdk → this package, so the built dist/) instead of ../constructs, with
 * cdk-like.json's `app` as here. Returns `dir`.
 */
function rylaAsUserProject(dir: string): string {
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'modal-cdk'));
  for (const part of ['bin/ryla.ts', 'bin/ryla', 'workflows', 'client-policy.yaml', 'measurements'])
    cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  for (const file of [
    'bin/ryla.ts',
    ...readdirSync(path.join(dir, 'bin', 'ryla'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `bin/ryla/${f}`),
  ]) {
    const source = readFileSync(path.join(dir, file), 'utf8')
      .replace(/'(\.\.\/)+constructs'/g, "'modal-cdk'")
      .replace(/^import \{ runApp \}.*\n/m, '')
      .replace(/^if \(require\.main === module\).*\n/m, '');
    writeFileSync(path.join(dir, file), source);
  }
  writeFileSync(path.join(dir, 'cdk-like.json'), JSON.stringify({ ...config, app: 'ts-node --swc bin/ryla.ts' }));
  return dir;
}
