import type { AppSpec, EndpointSpec } from '../synth/spec';
import { outputProblem, smokeBody, warmBody } from '../synth/smoke';

/**
 * `modal-cdk verify`'s checks, over HTTP: per app `GET /health`, then per endpoint its smoke request twice
 * (cold: the first call after the container answered /health, so it includes ComfyUI loading the models;
 * warm: the second, with the seeds changed so ComfyUI's cache is missed), each checked for status 200,
 * the declared content type and a body in the declared format. Waits as clients do: the endpoint's
 * client timeout from the policy, redirects followed (Modal's 303 after 150 s).
 */

export interface EndpointCheck {
  readonly app: string;
  readonly path: string;
  /** skipped: no smoke request could be built (synth warned: smoke-request); the endpoint was not called. */
  readonly result: 'passed' | 'failed' | 'skipped';
  /** HTTP status of the last call made; null when none answered. */
  readonly status: number | null;
  readonly healthMs: number | null;
  readonly coldMs: number | null;
  readonly warmMs: number | null;
  /** Size of the warm (else cold) answer. */
  readonly bytes: number | null;
  /** What failed, or why it was skipped. */
  readonly problem?: string;
}

export interface VerifyOptions {
  /** Only these endpoint paths (default: every endpoint of each app). */
  readonly endpoints?: readonly string[];
  /** Headers sent with every call (proxy auth). */
  readonly headers?: Record<string, string>;
  /** Called as each endpoint is done. */
  readonly onCheck?: (check: EndpointCheck) => void;
  /**
   * Also run one endpoint per app through the job path at this base URL (the app's job front door):
   * submit, poll until it ended, fetch the result; checked as the synchronous answer is.
   */
  readonly jobsBaseUrl?: string;
  /** An app without a job path to check is skipped, not failed (verify --jobs-optional). */
  readonly jobsOptional?: boolean;
}

/**
 * Modal-Key / Modal-Secret from MODAL_PROXY_TOKEN_ID / MODAL_PROXY_TOKEN_SECRET, as the generated clients send them.
 */
export function proxyAuthHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const id = env.MODAL_PROXY_TOKEN_ID;
  const secret = env.MODAL_PROXY_TOKEN_SECRET;
  return id && secret ? { 'Modal-Key': id, 'Modal-Secret': secret } : {};
}

interface Answer {
  status: number | null;
  contentType: string;
  bytes: Uint8Array;
  ms: number;
  error?: string;
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      bytes,
      ms: Math.round(performance.now() - started),
    };
  } catch (e) {
    const error = e as Error;
    const why =
      error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : `${error.message}${(error.cause as Error | undefined)?.message ? ` (${(error.cause as Error).message})` : ''}`;
    return {
      status: null,
      contentType: '',
      bytes: new Uint8Array(),
      ms: Math.round(performance.now() - started),
      error: why,
    };
  }
}

/** Why an answer fails the endpoint's contract, or undefined. */
/** `HTTP <status>[: body]`, and what to set when Modal refused a call that carried no proxy-auth headers. */
function statusProblem(status: number | null, body: string | undefined, authSent: boolean): string {
  const hint =
    (status === 401 || status === 403) && !authSent
      ? ' (no proxy-auth headers were sent: set MODAL_PROXY_TOKEN_ID and MODAL_PROXY_TOKEN_SECRET)'
      : '';
  return `HTTP ${status}${body === undefined ? '' : `: ${body}`}${hint}`;
}

function answerProblem(endpoint: EndpointSpec, answer: Answer, authSent: boolean): string | undefined {
  if (answer.error) return answer.error;
  if (answer.status !== 200)
    return statusProblem(answer.status, Buffer.from(answer.bytes.subarray(0, 300)).toString('utf8').trim(), authSent);
  if (!answer.contentType.startsWith(endpoint.contentType))
    return `content type ${JSON.stringify(answer.contentType)}, expected ${endpoint.contentType}`;
  return outputProblem(endpoint.output, answer.bytes);
}

/** Checks one app's endpoints at `baseUrl` (no trailing slash), one call at a time. */
export async function verifyApp(app: AppSpec, baseUrl: string, options: VerifyOptions = {}): Promise<EndpointCheck[]> {
  const endpoints = app.endpoints.filter((e) => !options.endpoints || options.endpoints.includes(e.path));
  const checks: EndpointCheck[] = [];
  const done = (check: EndpointCheck) => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const headers = options.headers ?? {};
  // A cold container boots before it answers: allow its startup timeout, plus the time to schedule it.
  const health = await call(`${baseUrl}/health`, { headers }, (app.startupTimeoutSeconds + 60) * 1000);
  const authSent = 'Modal-Key' in headers;
  const healthProblem =
    health.error ?? (health.status === 200 ? undefined : statusProblem(health.status, undefined, authSent));
  for (const endpoint of endpoints) {
    const base = { app: app.id, path: endpoint.path, healthMs: health.ms };
    if (healthProblem) {
      done({
        ...base,
        result: 'failed',
        status: health.status,
        coldMs: null,
        warmMs: null,
        bytes: null,
        problem: `GET /health: ${healthProblem}`,
      });
      continue;
    }
    const smoke = smokeBody(endpoint);
    if ('error' in smoke) {
      done({ ...base, result: 'skipped', status: null, coldMs: null, warmMs: null, bytes: null, problem: smoke.error });
      continue;
    }
    const post = (body: Record<string, unknown>) =>
      call(
        `${baseUrl}${endpoint.path}`,
        { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) },
        endpoint.clientTimeoutMs,
      );
    const cold = await post(smoke.body);
    const coldProblem = answerProblem(endpoint, cold, authSent);
    if (coldProblem) {
      done({
        ...base,
        result: 'failed',
        status: cold.status,
        coldMs: cold.ms,
        warmMs: null,
        bytes: cold.bytes.length,
        problem: coldProblem,
      });
      continue;
    }
    const warm = await post(warmBody(endpoint, smoke.body));
    const warmProblem = answerProblem(endpoint, warm, authSent);
    done({
      ...base,
      result: warmProblem ? 'failed' : 'passed',
      status: warm.status,
      coldMs: cold.ms,
      warmMs: warm.ms,
      bytes: warm.bytes.length,
      ...(warmProblem ? { problem: `second call: ${warmProblem}` } : {}),
    });
  }
  // The job path, once per app: the first endpoint that takes jobs and has a smoke request.
  const viaJob = options.jobsBaseUrl && !healthProblem && endpoints.find((e) => e.jobs && !('error' in smokeBody(e)));
  if (viaJob) done(await verifyJob(app, viaJob, options.jobsBaseUrl!, headers));
  else if (options.jobsBaseUrl && !healthProblem)
    done({
      app: app.id,
      path: '(job path)',
      result: options.jobsOptional ? 'skipped' : 'failed',
      status: null,
      healthMs: null,
      coldMs: null,
      warmMs: null,
      bytes: null,
      problem: `the job path was not checked: ${
        app.jobs === null
          ? 'the app has jobs: false'
          : endpoints.some((e) => e.jobs)
            ? 'no endpoint that takes jobs has a smoke request (declare smokeRequest)'
            : 'none of its endpoints takes jobs (jobs: false)'
      }${options.jobsOptional ? '' : ' — pass --jobs-optional to verify such apps without it, or leave out --jobs'}`,
    });
  return checks;
}

/** The `id` of a job's 202 answer, or undefined when the body is not the job JSON. */
function jobIdOf(answer: Answer): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(answer.bytes).toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A body as a message shows it: JSON or text (its start), else its size and type, never binary as text. */
function bodyText(answer: Answer): string {
  const text = /json|text|xml|html/.test(answer.contentType) || answer.contentType === '';
  const head = Buffer.from(answer.bytes.subarray(0, 300));
  if (text && !head.includes(0)) return head.toString('utf8');
  return `${answer.bytes.length} bytes of ${answer.contentType || 'binary data'}`;
}

/** Submits the endpoint's smoke request as a job, polls it to its end and checks its result. */
async function verifyJob(
  app: AppSpec,
  endpoint: EndpointSpec,
  base: string,
  headers: Record<string, string>,
): Promise<EndpointCheck> {
  const started = performance.now();
  const check = (
    result: 'passed' | 'failed',
    status: number | null,
    bytes: number | null,
    problem?: string,
  ): EndpointCheck => ({
    app: app.id,
    path: `${endpoint.path} (job)`,
    result,
    status,
    healthMs: null,
    coldMs: Math.round(performance.now() - started),
    warmMs: null,
    bytes,
    ...(problem && { problem }),
  });
  const body = (smokeBody(endpoint) as { body: Record<string, unknown> }).body;
  const submitted = await call(
    `${base}${endpoint.path}`,
    {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify(body),
    },
    30_000,
  );
  const id = submitted.status === 202 ? jobIdOf(submitted) : undefined;
  if (submitted.error || id === undefined)
    return check(
      'failed',
      submitted.status,
      null,
      `submit (Prefer: respond-async): expected 202 with a job id, got ${submitted.error ?? statusProblem(submitted.status, bodyText(submitted), 'Modal-Key' in headers)}`,
    );
  // A job may wait queued behind others: twice the client timeout in all.
  const deadline = performance.now() + 2 * endpoint.clientTimeoutMs;
  for (;;) {
    const polled = await call(`${base}/jobs/${id}`, { headers }, 30_000);
    const job =
      polled.status === 200
        ? (JSON.parse(Buffer.from(polled.bytes).toString('utf8')) as { status: string; error?: unknown })
        : undefined;
    if (!job)
      return check('failed', polled.status, null, `GET /jobs/${id}: ${polled.error ?? `HTTP ${polled.status}`}`);
    if (job.status === 'failed' || job.status === 'cancelled')
      return check(
        'failed',
        polled.status,
        null,
        `job ${id} ${job.status}: ${JSON.stringify(job.error ?? null).slice(0, 300)}`,
      );
    if (job.status === 'succeeded') break;
    if (performance.now() > deadline)
      return check(
        'failed',
        polled.status,
        null,
        `job ${id} still ${job.status} after ${(2 * endpoint.clientTimeoutMs) / 1000} s`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const result = await call(`${base}/jobs/${id}/result`, { headers }, 60_000);
  const problem = answerProblem(endpoint, result, 'Modal-Key' in headers);
  return check(
    problem ? 'failed' : 'passed',
    result.status,
    result.bytes.length,
    problem && `GET /jobs/${id}/result: ${problem}`,
  );
}
