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
    expect(app.jobs).toEqual({ maxActive: 100, keepSeconds: 86_400, webhookSecret: null });
    // Its 5 min (client) timeout is past 150 s: the generated clients call it as a job (client policy rule 4).
    expect(app.endpoints[0]).toMatchObject({ jobs: true, callAsJob: true, webhookUrl: null });
    const py = appPy(result);
    expect(py).toContain('JOBS_MAX_ACTIVE = 100\nJOBS_KEEP_SECONDS = 86400\nJOBS_DICT_NAME = "test-demo-jobs"');
    expect(py).toMatch(
      /@app\.function\(image=front_door_image, cpu=0\.25, memory=256, max_containers=1, timeout=600\)\n@modal\.concurrent\(max_inputs=100\)\n@modal\.asgi_app\(requires_proxy_auth=True\)\ndef jobs_api\(\):/,
    );
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
    expect(result.manifest.apps[0].jobs).toEqual({ maxActive: 5, keepSeconds: 7200, webhookSecret: 'demo-webhooks' });
    expect(result.manifest.apps[0].endpoints[0].jobs).toBe(false);
    const py = appPy(result);
    expect(py).toContain('JOBS_WEBHOOK_SECRET = "demo-webhooks"');
    expect(py).toContain(
      'secrets=[modal.Secret.from_name(JOBS_WEBHOOK_SECRET)])\ndef deliver_webhook(url: str, payload: dict):',
    );
  });

  test('bad options name the prop, the value and what is valid', () => {
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
