import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { Problem } from '../errors';
import { failureHint } from './modal-output';

/**
 * What must hold before any Modal call: the `modal` CLI on PATH, and a token, from MODAL_TOKEN_ID and
 * MODAL_TOKEN_SECRET or from a profile in Modal's config file (MODAL_CONFIG_PATH, else ~/.modal.toml).
 * Returns one problem per missing thing.
 */
export function preflight(env: NodeJS.ProcessEnv = process.env): Problem[] {
  const problems: Problem[] = [];
  if (!onPath('modal', env.PATH ?? '')) problems.push({ path: 'modal', message: failureHint('not-found') });
  if (!hasToken(env)) {
    problems.push({
      path: 'Modal token',
      message:
        'none found: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (a token from modal.com/settings/tokens; in CI, from repository secrets), or run `modal token new` to store one in ~/.modal.toml',
    });
  }
  return problems;
}

export function onPath(command: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function hasToken(env: NodeJS.ProcessEnv): boolean {
  if (env.MODAL_TOKEN_ID && env.MODAL_TOKEN_SECRET) return true;
  const config = env.MODAL_CONFIG_PATH ?? path.join(env.HOME ?? homedir(), '.modal.toml');
  // Any profile with a non-empty token_id; which profile is active is Modal's business.
  return existsSync(config) && /^\s*token_id\s*=\s*["'][^"']+["']/m.test(readFileSync(config, 'utf8'));
}
