#!/usr/bin/env node
import { runCli } from '../lib/cli';

// `modal-cdk ls | head`: a reader that closes the pipe early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
