import type { ErrorObject } from 'ajv';
import { show } from '../errors';

type JsonSchema = { properties?: Record<string, unknown>; [key: string]: unknown };

/**
 * What the app would refuse in `body` (422s), one line per field, checked against the endpoint's request
 * JSON Schema (clients/endpoints.json) by Ajv, plus the fields the schema does not name. Empty when valid.
 */
export function requestProblems(schema: JsonSchema, body: Record<string, unknown>): string[] {
  const known = Object.keys(schema.properties ?? {});
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  const problems = unknown.map(
    (k) =>
      `field "${k}": not a field of this endpoint (the server would ignore it) — expected one of ${known.join(', ') || 'no fields'}`,
  );
  const validate = compile(schema);
  if (!validate(body)) problems.push(...describe(validate.errors ?? [], body));
  return problems;
}

/** Ajv compiles each schema once (a test file binds many bodies against few endpoints). */
const compiled = new WeakMap<object, ReturnType<InstanceType<typeof import('ajv/dist/2020').default>['compile']>>();
let ajv: InstanceType<typeof import('ajv/dist/2020').default> | undefined;

function compile(schema: JsonSchema) {
  let validate = compiled.get(schema);
  if (!validate) {
    // Loaded on first use: only tests that bind requests pay for it.
    const Ajv2020 = (require('ajv/dist/2020') as typeof import('ajv/dist/2020')).default;
    ajv ??= new Ajv2020({ allErrors: true, strict: false });
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Ajv's errors as one line per field. A field's schema is `anyOf [its value, null]`, so a bad value also
 * fails `type: null` and the `anyOf`: those say nothing of the value and are dropped. A required field
 * or one-of group left out shows as `required` errors at the body's root.
 */
function describe(errors: ErrorObject[], body: Record<string, unknown>): string[] {
  const byField = new Map<string, string[]>();
  const missing = new Set<string>();
  for (const e of errors) {
    if (e.instancePath === '') {
      if (e.keyword === 'required') missing.add(String((e.params as { missingProperty: string }).missingProperty));
      if (e.keyword === 'not')
        byField.set('', [...(byField.get('') ?? []), 'one field sent under two of its names (send only one)']);
      continue;
    }
    const field = decodeURIComponent(e.instancePath.split('/')[1]).replaceAll('~1', '/').replaceAll('~0', '~');
    const sayNothing =
      e.keyword === 'anyOf' ||
      (e.keyword === 'type' && (e.params as { type: string }).type === 'null') ||
      (e.keyword === 'const' && (e.params as { allowedValue: unknown }).allowedValue === '');
    if (sayNothing) continue;
    const message =
      e.keyword === 'enum'
        ? `must be one of ${show((e.params as { allowedValues: unknown[] }).allowedValues)}`
        : (e.message ?? e.keyword);
    const at = e.instancePath.split('/').length > 2 ? ` (at ${e.instancePath.split('/').slice(2).join('/')})` : '';
    byField.set(field, [...new Set([...(byField.get(field) ?? []), `${message}${at}`])]);
  }
  const lines = [...byField]
    .filter(([f]) => f !== '')
    .map(([f, messages]) => `field "${f}": got ${show(body[f])}, ${messages.join('; ')}`);
  if (missing.size > 0)
    lines.push(
      `missing: ${[...missing].map((m) => `"${m}"`).join(' or ')} must be sent with a value (null counts as left out)`,
    );
  if (byField.has('')) lines.push(...byField.get('')!);
  return lines;
}
