import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { moveInto, readTree } from './write';

/*
 * A command's synth, held back from the output directory until the command has done what it was asked.
 *
 * Every command but `synth` synthesizes for itself (deploy, promote, verify, status, …). It writes into a
 * stage beside the output directory (`synth.out.stage-<pid>-<n>`), checked as the output directory would
 * be. The stage takes the output directory's place when the command ends with exit code 0, or earlier
 * when the command commits it (deploy, right before `modal deploy` runs in it); on any other end, a
 * refusal, a usage error, a failure, it is removed. So a command that refuses leaves `synth.out/`
 * byte-identical, and never leaves it half-written.
 */

/** Stages not yet settled: stage directory → the output directory it would replace. */
const pending = new Map<string, string>();
let made = 0;

/** A new stage directory for `outdir` (not created here: synth writes it). */
export function newStage(outdir: string): string {
  const target = path.resolve(outdir);
  const stage = `${target}.stage-${process.pid}-${++made}`;
  pending.set(stage, target);
  return stage;
}

/** Moves `stage` into its output directory now; returns that directory. A settled stage is left alone. */
export function commitStage(stage: string): string {
  const target = pending.get(stage);
  if (target === undefined) return stage;
  pending.delete(stage);
  moveInto(stage, target, readTree(stage));
  return target;
}

/** Removes `stage` without touching its output directory. */
export function dropStage(stage: string): void {
  pending.delete(stage);
  rmSync(stage, { recursive: true, force: true });
}

/** At a command's end: commits the stages it left when it succeeded, else removes them. */
export function settleStages(succeeded: boolean): void {
  for (const stage of [...pending.keys()]) {
    if (succeeded) commitStage(stage);
    else dropStage(stage);
  }
}
