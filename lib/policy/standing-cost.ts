/**
 * What an app's warm containers cost before any request is served: `minContainers` all the time, the
 * warm schedule's containers when it says, and `bufferContainers` while the app is busy (Modal keeps
 * that many idle containers beside the busy ones). GPU rates are the catalog's (lib/policy/gpu.ts).
 * @see https://modal.com/docs/guide/cold-start#keep-containers-warm
 */

/** One entry of `ComfyApp` `warmSchedule`: from `cron` on (in `timezone`), keep `minContainers` warm. */
export interface WarmScheduleEntry {
  readonly cron: string;
  readonly minContainers: number;
  readonly timezone: string;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** The values each of the five fields allows, or what is wrong (a subset of cron: numbers, `*`, `a-b`, `/n`, lists). */
export function parseCron(cron: string): { fields: Set<number>[] } | { error: string } {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5)
    return { error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}` };
  const fields: Set<number>[] = [];
  for (const [i, part] of parts.entries()) {
    const { name, min, max } = FIELDS[i];
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!m)
        return { error: `${name} ${JSON.stringify(item)}: expected a number, *, a range a-b, a step /n, or a list` };
      const from = m[1] === '*' ? min : Number(m[2]);
      const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < min || to > max || from > to || step < 1)
        return { error: `${name} ${JSON.stringify(item)}: expected values from ${min} to ${max}` };
      for (let v = from; v <= to; v += step) values.add(i === 4 && v === 7 ? 0 : v);
    }
    fields.push(values);
  }
  return { fields };
}

/** Whether `name` is a time zone this runtime knows (IANA names, e.g. "Europe/Berlin", "UTC"). */
/**
 * Why `name` is not a time zone the Cron function can use, or undefined: it must be an IANA name, spelt
 * with its case as Python's zoneinfo (which reads tzdata files by name, case-sensitively) knows it.
 */
export function timeZoneProblem(name: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return 'expected an IANA time zone name such as "Europe/Berlin" or "UTC"';
  }
  const canonical = [resolved, ...Intl.supportedValuesOf('timeZone')].find(
    (z) => z !== name && z.toLowerCase() === name.toLowerCase(),
  );
  return canonical
    ? `expected "${canonical}": Python's zoneinfo, which the warm schedule's Cron function uses, reads time zone names case-sensitively`
    : undefined;
}

/**
 * Average warm containers over a week of the schedule (each minute takes the last entry that fired; the
 * week before decides where it starts), at most `floor` below: `minContainers` stays the floor when the
 * schedule says fewer. Minutes are simulated in each entry's own time zone.
 */
export function averageScheduledContainers(entries: readonly WarmScheduleEntry[], floor: number): number {
  // A week of minutes is ~4 ms: each schedule is simulated once per process (synth runs again in tests and watch-like loops).
  const key = JSON.stringify([entries, floor]);
  let average = averages.get(key);
  if (average === undefined) {
    average = simulateWeek(entries, floor);
    averages.set(key, average);
  }
  return average;
}

const averages = new Map<string, number>();

function simulateWeek(entries: readonly WarmScheduleEntry[], floor: number): number {
  const parsed = entries.map((e) => ({ entry: e, fields: (parseCron(e.cron) as { fields: Set<number>[] }).fields }));
  const start = Date.UTC(2026, 0, 5); // a Monday; two weeks so the first week's state carries over
  const week = 7 * 24 * 60;
  const offsets = new Map<string, number>();
  let current = floor;
  let sum = 0;
  for (let minute = 0; minute < 2 * week; minute++) {
    const utc = start + minute * 60_000;
    if (minute % 60 === 0) offsets.clear(); // a zone's offset changes on the hour at most (DST)
    for (const { entry, fields } of parsed) {
      let offset = offsets.get(entry.timezone);
      if (offset === undefined) {
        offset = zoneOffsetMs(entry.timezone, utc);
        offsets.set(entry.timezone, offset);
      }
      const localMs = utc + offset;
      if (!fields[0].has(Math.floor(localMs / 60_000) % 60)) continue; // the minute first: most minutes stop here
      const local = new Date(localMs); // read with getUTC*: the wall-clock time in the zone
      const fires =
        fields[1].has(local.getUTCHours()) &&
        fields[2].has(local.getUTCDate()) &&
        fields[3].has(local.getUTCMonth() + 1) &&
        fields[4].has(local.getUTCDay());
      if (fires) current = entry.minContainers;
    }
    if (minute >= week) sum += Math.max(current, floor);
  }
  return sum / week;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone`'s wall clock is ahead of UTC at `utc` (ms). */
function zoneOffsetMs(timeZone: string, utc: number): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(utc).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(utc / 60_000) * 60_000;
}

/** The standing cost of one app, in US dollars (null where the GPU has no catalog price). */
export interface StandingCost {
  readonly gpu: string;
  readonly usdPerGpuHour: number | null;
  /** Containers up with no traffic: `minContainers`, or the warm schedule's weekly average when it has one. */
  readonly averageWarmContainers: number;
  readonly usdPerDay: number | null;
  readonly usdPer30Days: number | null;
  /** `bufferContainers` × the GPU's hourly rate, paid only while the app is busy. */
  readonly bufferUsdPerBusyHour: number | null;
}

export function standingCost(
  gpu: string,
  usdPerSecond: number | null,
  minContainers: number,
  bufferContainers: number,
  warmSchedule: readonly WarmScheduleEntry[],
): StandingCost {
  const warm = warmSchedule.length > 0 ? averageScheduledContainers(warmSchedule, minContainers) : minContainers;
  const perHour = usdPerSecond === null ? null : usdPerSecond * 3600;
  const money = (usd: number | null) => (usd === null ? null : Math.round(usd * 100) / 100);
  return {
    gpu,
    usdPerGpuHour: money(perHour),
    averageWarmContainers: Math.round(warm * 1000) / 1000,
    usdPerDay: money(perHour === null ? null : perHour * 24 * warm),
    usdPer30Days: money(perHour === null ? null : perHour * 24 * 30 * warm),
    bufferUsdPerBusyHour: money(perHour === null ? null : perHour * bufferContainers),
  };
}
