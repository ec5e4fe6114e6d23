import type { CustomNodeSpec, HfModelSpec, ImageLayer, UrlModelSpec } from './spec';

/** Where comfy-cli installs ComfyUI in the image (as in Modal's ComfyUI example). */
export const COMFY_DIR = '/root/comfy/ComfyUI';
/** ComfyUI's own port inside the container; only the runtime talks to it, on loopback. */
export const COMFY_PORT = 8188;
/** Where the shared Hugging Face cache volume is mounted, at build and at run time. */
export const HF_CACHE_MOUNT = '/cache';
/** Where image-placed Hugging Face files are cached (inside the image). */
export const HF_IMAGE_CACHE = '/root/.cache/huggingface/hub';
/**
 * The runtime every app's image carries (templates/runtime/, each at /root/<file>), in image order, each with
 * its layer's comment. Synth copies them into apps/<id>/ too, beside local_serve.py and import_gate.py.
 */
export const RUNTIME_FILES: Readonly<Record<string, string>> = {
  'comfy_runtime.py': 'runtime',
  'comfy_process.py': 'runtime: the ComfyUI process and its health',
  'comfy_prompt.py': 'runtime: running a prompt',
  'request_binding.py': 'runtime: binding a request into the workflow',
  'request_files.py': 'runtime: request-file checks',
  'response_files.py': 'runtime: response files (format, no embedded graph)',
  'jobs.py': 'runtime: jobs (records and progress in the job store)',
  'job_states.py': "runtime: jobs' statuses and refusals",
  'job_list.py': 'runtime: the job list and queue positions',
  'job_runner.py': 'runtime: the GPU side of jobs (run_job, progress)',
  'job_routes.py': 'runtime: job routes (the HTTP side of jobs)',
  'job_results.py': 'runtime: job results (output files on a Volume or bucket)',
  'webhooks.py': 'runtime: job webhooks (Standard Webhooks signatures)',
};
/** Where the workflows are put in the container. */
export const WORKFLOWS_REMOTE = '/root/workflows';
/** The app's pins for packages its custom nodes leave open (synth writes apps/<id>/constraints.txt). */
export const CONSTRAINTS_REMOTE = '/root/constraints.txt';
/** The import gate (templates/runtime/import_gate.py), copied into the image for its build step. */
export const IMPORT_GATE_REMOTE = '/root/import_gate.py';
/** modal-cdk's ComfyUI extension for memory snapshots (templates/runtime/modal_cdk_snapshot/). */
export const SNAPSHOT_EXTENSION = 'modal_cdk_snapshot';

/**
 * Python packages every app needs: FastAPI for the routes, the HF client, websocket-client for the runtime.
 * FastAPI and websocket-client are the versions the tests run the generated app and runtime with
 * (requirements-test.txt; a test keeps them equal).
 */
export const BASE_PIP_PACKAGES = [
  'fastapi[standard]==0.165.0',
  'huggingface_hub[hf_transfer]==0.34.4',
  'websocket-client==1.8.0',
];

/** The job front door's image (a CPU function of the app): FastAPI only, the same release as the GPU side's. */
export const FRONT_DOOR_PIP_PACKAGES = [BASE_PIP_PACKAGES[0]];
/** The front door's presigning of job outputs in the team's bucket (ComfyApp jobs.results); the tests' release. */
export const BUCKET_PIP_PACKAGES = ['boto3==1.43.11'];

export interface ImageInputs {
  comfyVersion: string;
  comfyCliVersion: string;
  aptPackages: string[];
  pythonPackages: string[];
  /** Pins every pip install of the image honours (the app's constraints.txt). */
  constraints: string[];
  customNodes: CustomNodeSpec[];
  hfModels: HfModelSpec[];
  /** Files from plain HTTPS addresses, downloaded into ComfyUI's models folders. */
  urlModels: UrlModelSpec[];
  /** Each node class the app's workflows use, with a workflow that uses it (for the import gate). */
  workflowClasses: { cls: string; workflow: string }[];
  /** The GPU a build step that needs one runs on; none for an app on the CPU. */
  gpu: string | undefined;
  /** Whether the app starts from a memory snapshot (ComfyUI then gets modal-cdk's snapshot extension). */
  memorySnapshot: boolean;
}

/**
 * The image, layer by layer, in cache-friendly order: what changes least comes first, so adding a
 * model or a node rebuilds only the layers after it. Local files come last, uncopied (Modal mounts them
 * at container start, so editing a workflow rebuilds nothing).
 */
export function buildImageLayers(i: ImageInputs): ImageLayer[] {
  const layers: ImageLayer[] = [
    {
      kind: 'apt',
      comment: 'system packages',
      packages: unique([
        'git',
        ...(i.urlModels.length > 0 ? ['curl'] : []),
        ...(i.urlModels.some((m) => m.unzip) ? ['unzip'] : []),
        ...i.aptPackages,
      ]),
    },
    {
      kind: 'pip',
      comment: 'Python packages (pinned)',
      packages: unique([...BASE_PIP_PACKAGES, `comfy-cli==${i.comfyCliVersion}`, ...i.pythonPackages]),
    },
  ];
  if (i.hfModels.length > 0)
    layers.push({ kind: 'env', comment: 'fast Hugging Face downloads', vars: { HF_HUB_ENABLE_HF_TRANSFER: '1' } });
  layers.push({
    kind: 'run',
    comment: `ComfyUI ${i.comfyVersion}`,
    commands: [`comfy --skip-prompt install --fast-deps --nvidia --version ${i.comfyVersion}`],
  });
  if (i.constraints.length > 0) {
    layers.push(
      {
        kind: 'local',
        comment: 'pins for what the custom nodes leave open (constraints.txt)',
        what: 'file',
        source: 'constraints.txt',
        remote: CONSTRAINTS_REMOTE,
        copy: true,
      },
      { kind: 'env', comment: 'every later pip install honours them', vars: { PIP_CONSTRAINT: CONSTRAINTS_REMOTE } },
    );
  }
  for (const node of i.customNodes) layers.push(...customNodeLayers(node));
  for (const model of i.hfModels) {
    layers.push({
      kind: 'hf-download',
      comment: `model ${model.repo}/${model.file} -> models/${model.target}/${model.filename}`,
      model,
    });
  }
  for (const model of i.urlModels) layers.push(urlDownloadLayer(model));
  layers.push(...importGateLayers(i));
  // Serving containers never download: a weight a node would fetch on first use fails fast instead.
  layers.push({
    kind: 'env',
    comment: 'no downloads at run time: every weight is a declared model',
    vars: { HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_DATASETS_OFFLINE: '1' },
  });
  layers.push(
    ...Object.entries(RUNTIME_FILES).map(
      ([file, comment]): ImageLayer => ({
        kind: 'local',
        comment,
        what: 'file',
        source: file,
        remote: `/root/${file}`,
        copy: false,
      }),
    ),
    { kind: 'local', comment: 'workflows', what: 'dir', source: 'workflows', remote: WORKFLOWS_REMOTE, copy: false },
  );
  if (i.memorySnapshot) {
    layers.push({
      kind: 'local',
      comment: 'memory snapshots: hides the GPU from ComfyUI until the restore',
      what: 'dir',
      source: SNAPSHOT_EXTENSION,
      remote: `${COMFY_DIR}/custom_nodes/${SNAPSHOT_EXTENSION}`,
      copy: false,
    });
  }
  return layers;
}

/** curl fails on any HTTP error (-f), retries, follows redirects; sha256sum --check fails on a mismatch. */
function urlDownloadLayer(model: UrlModelSpec): ImageLayer {
  const folder = `${COMFY_DIR}/models/${model.target}`;
  const dest = model.unzip ? `/tmp/${model.filename}` : `${folder}/${model.filename}`;
  return {
    kind: 'run',
    comment: `model ${model.url} -> models/${model.target}/${model.unzip ? ' (unzipped)' : model.filename}${model.sha256 ? ' (sha256 checked)' : ''}`,
    commands: [
      `curl -fsSL --retry 3 --create-dirs -o ${sh(dest)} ${sh(model.url)}`,
      ...(model.sha256 ? [`echo ${sh(`${model.sha256}  ${dest}`)} | sha256sum --check --strict -`] : []),
      ...(model.unzip ? [`unzip -j -o ${sh(dest)} -d ${sh(folder)}`, `rm ${sh(dest)}`] : []),
    ],
  };
}

function customNodeLayers(node: CustomNodeSpec): ImageLayer[] {
  const dir = `${COMFY_DIR}/custom_nodes/${node.dir}`;
  const name = node.repo ? `${node.dir} @ ${node.commit!.slice(0, 12)}` : `${node.registryId}@${node.version}`;
  const layers: ImageLayer[] = [];
  if (node.aptPackages.length > 0)
    layers.push({ kind: 'apt', comment: `custom node ${name}: system packages`, packages: node.aptPackages });
  if (node.repo) {
    layers.push({
      kind: 'run',
      comment: `custom node ${name}`,
      commands: [`git clone ${sh(node.repo)} ${sh(dir)}`, `git -C ${sh(dir)} checkout --detach ${node.commit}`],
    });
    if (node.installRequirements) {
      // `if` rather than `|| true`: a node without requirements.txt is fine, a failing install is not.
      layers.push({
        kind: 'run',
        comment: `custom node ${name}: requirements`,
        commands: [
          `if [ -f ${sh(`${dir}/requirements.txt`)} ]; then python -m pip install -r ${sh(`${dir}/requirements.txt`)}; fi`,
        ],
      });
    }
  } else {
    layers.push({
      kind: 'run',
      comment: `custom node ${name}`,
      commands: [`comfy node install --fast-deps ${node.registryId}@${node.version}`],
    });
  }
  if (node.pipPackages.length > 0)
    layers.push({ kind: 'pip', comment: `custom node ${name}: extra packages`, packages: node.pipPackages });
  return layers;
}

/** Single-quotes a shell word unless it is plainly safe. */
export function sh(word: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * The import gate: ComfyUI loads its nodes as the server does, and the build fails when a custom node does
 * not import or a workflow's class is registered by nothing (ComfyUI would only log "IMPORT FAILED"). After
 * the models, so editing a workflow rebuilds only this step; on the app's GPU when a pack needs one.
 */
function importGateLayers(i: ImageInputs): ImageLayer[] {
  const gpu = i.customNodes.some((n) => n.importNeedsGpu) ? i.gpu : undefined;
  const args = [
    `--comfy-dir ${sh(COMFY_DIR)}`,
    ...i.customNodes.map((n) => `--pack ${sh(n.dir)}`),
    ...i.workflowClasses.map((c) => `--class ${sh(`${c.cls}=${c.workflow}`)}`),
    ...(gpu ? [] : ['--cpu']),
  ];
  return [
    {
      kind: 'local',
      comment: 'import gate script (a build step runs it)',
      what: 'file',
      source: 'import_gate.py',
      remote: IMPORT_GATE_REMOTE,
      copy: true,
    },
    {
      kind: 'run',
      comment: `import gate: ${i.customNodes.length} custom node(s) import, ${i.workflowClasses.length} workflow class(es) registered`,
      commands: [`python ${IMPORT_GATE_REMOTE} ${args.join(' ')}`],
      ...(gpu && { gpu }),
    },
  ];
}
