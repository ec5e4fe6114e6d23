import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { ModalCdkError } from '../errors';
import { STATE_DIR } from './state';

/**
 * One deploy per environment at a time: `.modal-cdk/locks/<env>.lock`, created exclusively, holding the
 * owner's pid and host. A lock whose process is gone (same host) is stale and taken over.
 */
export function acquireLock(root: string, env: string): () => void {
  const file = path.join(root, STATE_DIR, 'locks', `${env}.lock`);
  mkdirSync(path.dirname(file), { recursive: true });
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
      rmSync(file, { force: true }); // stale: its process is gone; take it over
      continue;
    }
    const who = holder ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unreadable lock file';
    throw new ModalCdkError([
      {
        path: path.relative(root, file),
        message: `another deploy to environment "${env}" is running (${who}): wait for it to finish; if that process is gone, delete ${path.relative(root, file)}`,
      },
    ]);
  }
  throw new ModalCdkError([
    {
      path: path.relative(root, file),
      message: `could not take the deploy lock for "${env}": another deploy took it first; try again`,
    },
  ]);
}

function readHolder(file: string): { pid: number; host: string; since: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
