import { z } from 'zod';
import { parseGpu } from '../lib/policy/gpu';
import { looksLikeAKey } from '../lib/webhook-target';

/** Prop schemas shared by several constructs. Each message says what would be valid. */

/** Modal object names: at most 64 characters of letters, digits, `-`, `_`, `.` (reference/modal.md §4). */
export const modalNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Modal name: 1-64 letters, digits, "-", "_" or "."');

/** A Modal Secret's name — never the secret itself (secrets appear in synth.out/ only by name). */
export const secretNameSchema = modalNameSchema.refine(
  (name) => !looksLikeAKey(name),
  'expected the name of a Modal Secret, not the secret itself (it would be written into app.py and the manifest): `modal secret create <name> KEY=…`, then give <name>',
);

export const absolutePathSchema = z
  .string()
  .regex(
    /^\/[A-Za-z0-9._\-/]*$/,
    'expected an absolute container path such as "/root/models" (letters, digits, "._-/")',
  );

/** A relative path inside a volume, a repo or ComfyUI's models dir; no `..`, no leading `/`. */
export const relativePathSchema = z
  .string()
  .regex(
    /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._+\-/ ]+$/,
    'expected a relative path without ".." (letters, digits, "._+- /")',
  );

export const fileNameSchema = z
  .string()
  .regex(/^(?!\.\.?$)[A-Za-z0-9._+\- ]+$/, 'expected a file name without "/" (letters, digits, "._+- ")');

export const gpuSchema = z.string().superRefine((value, ctx) => {
  const parsed = parseGpu(value);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
});

/** `name==version`: an image must rebuild the same way every time. */
export const pinnedPipPackageSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._\-[\],]*==[A-Za-z0-9.+!_-]+$/,
    'expected a pinned pip requirement "name==version", e.g. "opencv-python-headless==4.10.0.84"',
  );

export const aptPackageSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.+-]*(=[A-Za-z0-9.+:~-]+)?$/, 'expected a Debian package name, optionally "=version"');

/** ComfyUI release as comfy-cli's `--version` takes it; `latest` and `nightly` float, so they are refused. */
export const comfyVersionSchema = z
  .string()
  .regex(/^\d+\.\d+\.\d+$/, 'expected a pinned ComfyUI release such as "0.3.67" (not "latest" or "nightly")');

export const pythonVersionSchema = z
  .string()
  .regex(/^3\.(1[0-4])$/, 'expected a Python version Modal supports, "3.10" to "3.14", as a string');
