import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { coreVersions, versionKey } from '../comfy/schema-set';

/**
 * The official templates' index (`index.json` beside the templates, as in the PyPI package
 * `comfyui-workflow-templates-json`): each template's `minComfyUIVersion`, the oldest ComfyUI its
 * publisher says it runs on. Import reads it when the workflow is one of those files, beside the release
 * its nodes' `properties.ver` name.
 */
const indexSchema = z.array(
  z.looseObject({
    templates: z.array(z.looseObject({ name: z.string(), minComfyUIVersion: z.string().optional() })).default([]),
  }),
);

/** What the index says of the release a template needs, and the snapshot release that meets it. */
export interface TemplateRelease {
  /** The index's `minComfyUIVersion` of the template. */
  readonly min: string;
  /** The oldest release with node schemas at or after `min`; undefined when `min` is newer than them all. */
  readonly snapshot?: string;
}

/** The `minComfyUIVersion` of `file` in an `index.json` beside it; undefined when there is none. */
export function templateRelease(file: string): TemplateRelease | undefined {
  let index: z.output<typeof indexSchema>;
  try {
    const parsed = indexSchema.safeParse(JSON.parse(readFileSync(path.join(path.dirname(file), 'index.json'), 'utf8')));
    if (!parsed.success) return undefined;
    index = parsed.data;
  } catch {
    return undefined; // no index beside it, or not one: the workflow is not a packaged template
  }
  const name = path.basename(file).replace(/\.json$/i, '');
  const min = index.flatMap((c) => c.templates).find((t) => t.name === name)?.minComfyUIVersion;
  if (min === undefined || !/^\d+\.\d+\.\d+$/.test(min)) return undefined;
  return { min, snapshot: coreVersions().find((v) => versionKey(v) >= versionKey(min)) };
}
