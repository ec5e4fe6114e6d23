import { MODAL_CLI_VERSION } from '../versions';

/**
 * Reading what `modal deploy` prints (reference/modal.md §5.1): web URLs, Modal's "nothing changed" line,
 * and why a failed deploy failed, which decides whether it is retried.
 */

/** Printed, with exit code 0, when the app is already deployed as it is: a success. */
export const DEPLOY_SKIPPED = /Deployment skipped: no changes detected/;

/** The web endpoint URLs in the output (not the dashboard's modal.com links). */
export function webUrls(output: string): string[] {
  return [...new Set(output.match(/https:\/\/[A-Za-z0-9.-]+\.modal\.run\b[^\s'"]*/g) ?? [])].sort();
}

/**
 * `auth`: Modal refused or lacked the credentials. `transient`: the network or Modal's servers failed
 * (retried with backoff). `build`: anything else: the app, its image or its config (never retried: it
 * would fail the same way).
 */
export type FailureKind = 'auth' | 'transient' | 'build';

const AUTH =
  /Token missing|Could not authenticate|Token validation failed|invalid token|Unauthenticated|UNAUTHENTICATED|PERMISSION_DENIED|Permission denied for/i;
const TRANSIENT =
  /Could not connect to the Modal server|ECONNRESET|ETIMEDOUT|ECONNREFUSED|EAI_AGAIN|Connection (?:reset|refused|aborted|closed)|\b(?:502|503|504)\b|Bad Gateway|Service Unavailable|Gateway Timeout|Internal Server Error|UNAVAILABLE|DEADLINE_EXCEEDED|temporarily unavailable|try again later/i;

export function classifyFailure(output: string): FailureKind {
  if (AUTH.test(output)) return 'auth';
  if (TRANSIENT.test(output)) return 'transient';
  return 'build';
}

/** One line that says what went wrong and what to do, for the summary and the error message. */
export function failureHint(kind: FailureKind | 'timeout' | 'not-found', timeoutSeconds?: number): string {
  switch (kind) {
    case 'auth':
      return 'Modal refused the credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (a token from modal.com/settings/tokens), or run `modal token new`';
    case 'transient':
      return 'the network or Modal failed (retried with backoff); try again later';
    case 'build':
      return "the deploy failed: see the app's output above (not retried: it would fail the same way)";
    case 'timeout':
      return `no result within ${timeoutSeconds} s, so the modal process tree was killed (the CLI is known to hang); raise --timeout or deploy.timeoutSeconds if the build is just slow`;
    case 'not-found':
      return `the modal CLI is not on PATH: install it with \`pip install modal==${MODAL_CLI_VERSION}\` (the version the tests pin)`;
  }
}
