import { z } from 'zod';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const EXPECTED = 'expected a positive duration such as 90, "90s", "3m", "1h30m", "1d"';

/**
 * A duration as a user writes it: seconds as a number, or a string such as `90s`, `3m`, `10m`, `1h`, `1d`
 * (units may be combined: `1h30m`, `1d12h`). Parses to whole seconds.
 */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: EXPECTED,
      input: value,
    });
    return z.NEVER;
  }
  return seconds;
});

/** A duration: seconds as a number, or a string with a unit (`'90s'`, `'5m'`, `'1h'`, `'1d'`). */
export type DurationInput = z.input<typeof durationSchema>;

/** A duration of at most `maxSeconds`; `message` says the limit (the value is shown as the user wrote it). */
export function durationAtMost(maxSeconds: number, message: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === undefined || seconds > maxSeconds) {
      ctx.addIssue({
        code: 'custom',
        message: seconds === undefined ? EXPECTED : message,
        input: value,
      });
      return z.NEVER;
    }
    return seconds;
  });
}

/** Whole seconds for a duration, or undefined when it is not a positive whole-second duration. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (!match || value.trim() === '') return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  const seconds = Number(d) * UNIT_SECONDS.d + Number(h) * UNIT_SECONDS.h + Number(m) * UNIT_SECONDS.m + Number(s);
  return seconds > 0 ? seconds : undefined;
}

/** The shortest exact spelling of a number of seconds: 600 → `10m`, 90 → `90s`, 5400 → `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds % 60 !== 0 || seconds < 60) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = (seconds % 3600) / 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}`;
}
