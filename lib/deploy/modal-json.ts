import { z } from 'zod';
import { runFailure, runModal } from './apply';

/**
 * The read-only `modal … --json` commands status, rollback and models use, run through the deploy runner
 * (time limit, process tree killed), with the shapes of their JSON (modal 1.5+ snake_case keys,
 * reference/modal.md §5.3). Extra keys are kept: a newer CLI may add some.
 */

/** `modal app list --json`: `description` is the App's name; `state` e.g. deployed, stopped. */
export const appListSchema = z.array(z.looseObject({ app_id: z.string(), description: z.string(), state: z.string() }));

/** `modal app history <app> --json`, newest first; `tag` only when some deployment had one. */
export const appHistorySchema = z.array(
  z.looseObject({
    version: z.string(),
    time_deployed: z.string().nullable().optional(),
    tag: z.string().nullable().optional(),
  }),
);
export type AppHistory = z.infer<typeof appHistorySchema>;

/** `modal volume ls <volume> <dir> --json`: `filename` is the path from the volume's root; `size` in bytes. */
export const volumeListSchema = z.array(z.looseObject({ filename: z.string(), type: z.string(), size: z.number() }));
export type VolumeEntry = z.infer<typeof volumeListSchema>[number];

export type JsonResult<T> = { ok: true; data: T } | { ok: false; reason: string; output: string };

/** Seconds one read-only call may take before its process tree is killed (the CLI is known to hang). */
export const READ_TIMEOUT_SECONDS = 60;

/** Runs `modal <args>` (which must include `--json`) and parses its stdout with `schema`. */
export async function modalJson<S extends z.ZodType>(
  args: string[],
  schema: S,
  cwd: string,
  timeoutSeconds = READ_TIMEOUT_SECONDS,
): Promise<JsonResult<z.output<S>>> {
  const run = await runModal(args, { cwd, timeoutSeconds, signal: new AbortController().signal, onLine: () => {} });
  const command = `modal ${args.slice(0, 2).join(' ')}`;
  switch (run.kind) {
    case 'ok': {
      let raw: unknown;
      try {
        raw = JSON.parse(run.stdout);
      } catch {
        return {
          ok: false,
          reason: `${command} printed no JSON (got ${JSON.stringify(run.stdout.slice(0, 80))}): expected the modal CLI of 1.5 or later`,
          output: run.output,
        };
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        return {
          ok: false,
          reason: `${command} --json: unexpected shape (${parsed.error.issues[0].message} at ${parsed.error.issues[0].path.join('.')})`,
          output: run.output,
        };
      return { ok: true, data: parsed.data };
    }
    default: {
      const output = run.kind === 'failed' ? run.output : '';
      const last = output.trim().split('\n').pop() ?? '';
      return {
        ok: false,
        reason: `${command} ${runFailure(run, last, `gave no answer within ${timeoutSeconds} s, so it was killed`)}`,
        output,
      };
    }
  }
}
