import { formatProblems, fromConstructsError, ModalCdkError, type Problem } from '../errors';

// How the commands report to the user: warnings, errors as `[path] message` lines, usage mistakes.

/** Prints warnings and notes, one `warning: [path] message` (or `note: …`) line each. */
export function reportWarnings(warnings: Problem[], err: NodeJS.WritableStream): void {
  for (const w of warnings)
    err.write(`modal-cdk: ${w.note ? 'note' : 'warning'}: [${w.path}] ${w.message}${w.id ? ` [ack: ${w.id}]` : ''}\n`);
}

/** Prints a user error as `[path] message` lines (no stack); anything else as a bug report. */
export function reportError(e: unknown, err: NodeJS.WritableStream): number {
  e = fromConstructsError(e) ?? e;
  if (ModalCdkError.isModalCdkError(e)) {
    const n = e.problems.length;
    err.write(
      `modal-cdk: ${n} problem${n === 1 ? '' : 's'} found, nothing was written:\n${formatProblems(e.problems)}\n`,
    );
    return 1;
  }
  const error = e as Error;
  err.write(`modal-cdk: unexpected error: ${error?.message ?? String(e)}\n`);
  if (process.env.MODAL_CDK_DEBUG) err.write(`${error?.stack}\n`);
  else
    err.write(
      '(set MODAL_CDK_DEBUG=1 for the stack trace; if the error is not in your stack code, please report it)\n',
    );
  return 1;
}

/** Prints a usage mistake of `modal-cdk <command>` with a pointer to its help; returns exit code 2. */
export function reportUsage(err: NodeJS.WritableStream, command: string, message: string): number {
  err.write(`modal-cdk ${command}: ${message}\n(see modal-cdk ${command} --help)\n`);
  return 2;
}

/** Asks `question` on the terminal; true for y or yes (any case). The commands that change Modal ask first. */
export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await terminal.question(`${question} [y/N] `);
  terminal.close();
  return /^y(es)?$/i.test(answer.trim());
}
