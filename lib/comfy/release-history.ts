import { coreFile, coreVersions, versionKey } from './schema-set';

/**
 * What the committed snapshots say about how core ComfyUI changed between releases, for messages that lead
 * somewhere: a class a newer release added, one an older release had, a required input a release added.
 */

/** The oldest snapshot release newer than `version` that has the core class `cls` (undefined: none). */
export function firstReleaseWith(cls: string, version: string): string | undefined {
  return coreVersions().find((v) => versionKey(v) > versionKey(version) && Object.hasOwn(coreFile(v).nodes, cls));
}

/** The newest snapshot release older than `version` that has the core class `cls` (undefined: none). */
export function lastReleaseWith(cls: string, version: string): string | undefined {
  return coreVersions()
    .filter((v) => versionKey(v) < versionKey(version) && Object.hasOwn(coreFile(v).nodes, cls))
    .at(-1);
}

/**
 * The release from which the core class `cls` has `input` as a required input, when an older snapshot
 * had the class without it (or with it optional); undefined when every snapshot up to `version` that has
 * the class requires it (it is no newcomer).
 */
export function requiredSince(cls: string, input: string, version: string): string | undefined {
  let since: string | undefined;
  let before = false;
  for (const v of coreVersions().filter((r) => versionKey(r) <= versionKey(version))) {
    const entry = coreFile(v).nodes[cls];
    if (!entry) continue;
    const required = Object.hasOwn(entry.input.required ?? {}, input);
    if (!required) {
      before = true;
      since = undefined;
    } else if (before && since === undefined) since = v;
  }
  return since;
}

/**
 * The oldest snapshot release newer than `version` whose core class `cls` offers `value` in its combo
 * `input` (V1 list or V3 `COMBO` options); undefined when none does.
 */
export function firstReleaseWithOption(
  cls: string,
  input: string,
  value: unknown,
  version: string,
): string | undefined {
  return coreVersions().find((v) => versionKey(v) > versionKey(version) && offersOption(v, cls, input, value));
}

/** Whether some snapshot release's core class `cls` offers `value` in its combo `input`. */
export function anyReleaseWithOption(cls: string, input: string, value: unknown): boolean {
  return coreVersions().some((v) => offersOption(v, cls, input, value));
}

function offersOption(v: string, cls: string, input: string, value: unknown): boolean {
  const entry = coreFile(v).nodes[cls] as { input?: Record<string, Record<string, unknown> | undefined> } | undefined;
  const spec = entry?.input?.required?.[input] ?? entry?.input?.optional?.[input];
  if (!Array.isArray(spec)) return false;
  const options = Array.isArray(spec[0]) ? spec[0] : (spec[1] as { options?: unknown } | undefined)?.options;
  return Array.isArray(options) && options.includes(value);
}
