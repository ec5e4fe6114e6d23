import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { show } from '../errors';
import { schemaFileSchema } from './node-schema';
import type { PackSchemas } from './schema-set';

/**
 * Reads and checks node schemas given to a construct (`nodeSchemas`): a JSON file relative to the project
 * root, or the object itself. `source` names the construct in later messages.
 */
export function loadSchemaFile(given: string | object, root: string, source: string): { pack: PackSchemas } | { error: string } {
  let value: unknown = given;
  const file = typeof given === 'string' ? given : undefined;
  if (file !== undefined) {
    try {
      value = JSON.parse(readFileSync(path.resolve(root, file), 'utf8').replace(/^\uFEFF/, '')); // a BOM is skipped
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      return { error: `nodeSchemas: cannot read ${show(file)} (${reason}), expected a JSON file of node schemas relative to the project root` };
    }
  }
  const result = schemaFileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { error: `nodeSchemas${file ? ` ${file}` : ''} at ${issue.path.map(String).join('.') || 'the top'}: ${issue.message}, expected { "nodes": { "<class>": <its /object_info entry> }, ... }` };
  }
  return { pack: { file: result.data, source } };
}
