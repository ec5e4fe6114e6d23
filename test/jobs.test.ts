import { demoStack, problemsOf } from './helpers';

// The job routes as the stack declares them (ComfyApp jobs, Endpoint jobs / webhookUrl): what the manifest
// and app.py carry. Their behaviour is tested on the real ComfyUI (test/comfyui/test_jobs.py) and with the
// real modal package (test/python/test_apps.py, test_jobs_modal.py).

const synth = (opts: Parameters<typeof demoStack>[0] = {}) => demoStack(opts).project.synth();
const appPy = (result: ReturnType<typeof synth>) => result.files.get('apps/demo/app.py')!;

describe('jobs', () => {
  test('on by default: 100 active jobs, results kept a day, a CPU front door that spawns run_job', () => {
    const result = synth();
    const app = result.manifest.apps[0];
    expect(app.jobs).toEqual({
      maxActive: 100,
      keepSeconds: 86_400,
      webhookSecret: null,
      results: { kind: 'volume', name: 'test-demo-job-results' },
    });
    // Its 5 min (client) timeout is past 150 s: the generated clients call it as a job (client policy rule 4).
    expect(app.endpoints[0]).toMatchObject({ jobs: true, callAsJob: true, webhookUrl: null });
    const py = appPy(result);
    expect(py).toContain('JOBS_MAX_ACTIVE = 100\nJOBS_KEEP_SECONDS = 86400\nJOBS_DICT_NAME = "test-demo-jobs"');
    expect(py).toContain(
      '@app.function(\n    image=front_door_image,\n    cpu=0.25,\n    memory=256,\n    max_containers=1,\n    timeout=600,\n    volumes=FRONT_DOOR_RESULTS,\n    secrets=FRONT_DOOR_SECRETS,\n)\n@modal.concurrent(max_inputs=100)\n@modal.asgi_app(requires_proxy_auth=True)\ndef jobs_api():',
    );
    // Outputs are files on the app's Volume, mounted on both sides and swept hourly; never in the Dict.
    expect(py).toContain('results_volume = modal.Volume.from_name("test-demo-job-results", create_if_missing=True)');
    expect(py).toContain('    volumes={**VOLUMES, **RESULTS_MOUNTS},');
    expect(py).toMatch(/schedule=modal\.Cron\("17 \* \* \* \*"\)\)\ndef sweep_results\(\):/);
    expect(py).not.toContain('boto3'); // only a bucket's front door presigns
    expect(py).toContain('call = ComfyUI().run_job.spawn(job_id, path, values)');
    expect(result.files.has('apps/demo/jobs.py') && result.files.has('apps/demo/webhooks.py')).toBe(true);
    // The synchronous URL is unchanged: the GPU class's web app serves no job routes.
    expect(py).toContain('    def fastapi_app(self):\n        return create_api(self.runner)\n');
  });

  test('off for the app: no front door, no run_job, endpoints answer Prefer: respond-async synchronously', () => {
    const result = synth({ app: { jobs: false } });
    expect(result.manifest.apps[0].jobs).toBeNull();
    expect(result.manifest.apps[0].endpoints[0].jobs).toBe(false);
    const py = appPy(result);
    expect(py).toContain('JOBS_MAX_ACTIVE = None');
    expect(py).not.toContain('def jobs_api');
    expect(py).not.toContain('def run_job');
    expect(JSON.parse(result.files.get('clients/endpoints.json')!).endpoints['/demo'].jobsUrl).toBeNull();
  });

  test('off for one endpoint; limits, keep time and a webhook secret as given', () => {
    const result = synth({
      app: { jobs: { maxActiveJobs: 5, keepResults: '2h', webhookSecret: 'demo-webhooks' } },
      endpoint: { jobs: false },
    });
    expect(result.manifest.apps[0].jobs).toMatchObject({
      maxActive: 5,
      keepSeconds: 7200,
      webhookSecret: 'demo-webhooks',
    });
    expect(result.manifest.apps[0].endpoints[0].jobs).toBe(false);
    const py = appPy(result);
    expect(py).toContain('JOBS_WEBHOOK_SECRET = "demo-webhooks"');
    expect(py).toContain(
      'secrets=[modal.Secret.from_name(JOBS_WEBHOOK_SECRET)])\ndef deliver_webhook(url: str, payload: dict):',
    );
  });

  test("results in the team's bucket: a CloudBucketMount (read-only for the front door), presigned by boto3, no sweep", () => {
    const result = synth({
      app: { jobs: { results: { bucket: 'team-results', secret: 'results-s3', prefix: 'comfy/' } } },
    });
    expect(result.manifest.apps[0].jobs!.results).toEqual({
      kind: 'bucket',
      bucket: 'team-results',
      secret: 'results-s3',
      prefix: 'comfy/',
      endpointUrl: null,
    });
    const py = appPy(result);
    expect(py).toContain(
      'results_secret = modal.Secret.from_name("results-s3", required_keys=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])',
    );
    expect(py).toContain('RESULTS_MOUNTS = {RESULTS_MOUNT: results_bucket(read_only=False)}');
    expect(py).toContain('FRONT_DOOR_RESULTS = {RESULTS_MOUNT: results_bucket(read_only=True)}');
    expect(py).toContain('.uv_pip_install("fastapi[standard]==0.165.0", "boto3==1.43.11")');
    expect(py).not.toContain('def sweep_results');
    // The default prefix is the app's own, under modal-cdk/.
    const plain = synth({ app: { jobs: { results: { bucket: 'team-results', secret: 'results-s3' } } } });
    expect(plain.manifest.apps[0].jobs!.results).toMatchObject({ prefix: 'modal-cdk/test-demo/' });
  });

  test('bad options name the prop, the value and what is valid', () => {
    expect(
      problemsOf(() => synth({ app: { jobs: { results: { bucket: 'Team_Results', secret: 's', prefix: 'x' } } } })),
    ).toEqual([
      expect.stringMatching(/prop 'jobs\.results\.bucket': got "Team_Results", expected a bucket name/),
      expect.stringMatching(/prop 'jobs\.results\.prefix': got "x", expected a key prefix ending with '\/'/),
    ]);
    expect(
      problemsOf(() =>
        synth({ app: { jobs: { results: { bucket: 'b-1', secret: 's', endpointUrl: 'http://minio.local' } } } }),
      ),
    ).toEqual([
      expect.stringMatching(
        /prop 'jobs\.results\.endpointUrl': got "http:\/\/minio\.local", expected the https address/,
      ),
    ]);
    expect(problemsOf(() => synth({ app: { jobs: { keepResults: '200h' } } }))).toEqual([
      expect.stringMatching(
        /prop 'jobs\.keepResults': got "200h", expected at most 6 days: the job store is a modal\.Dict/,
      ),
    ]);
    expect(problemsOf(() => synth({ app: { jobs: { maxActiveJobs: 0 } } }))).toEqual([
      expect.stringMatching(/prop 'jobs\.maxActiveJobs': got 0/),
    ]);
    expect(problemsOf(() => synth({ app: { jobs: { webhookSecret: 'not a name' } } }))).toEqual([
      expect.stringMatching(/prop 'jobs\.webhookSecret': got "not a name", expected a Modal Secret name/),
    ]);
    expect(problemsOf(() => synth({ endpoint: { webhookUrl: 'http://example.com/hook' } }))).toEqual([
      expect.stringMatching(/prop 'webhookUrl': got "http:\/\/example\.com\/hook", expected an https:\/\/ URL/),
    ]);
  });
});
