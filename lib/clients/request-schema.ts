import type { EndpointModel, RequestField } from '../synth/model';

/**
 * The JSON Schema (draft 2020-12) of an endpoint's request body, from the same field model the app's
 * pydantic classes are rendered from (lib/synth/render.ts), so the two accept the same bodies:
 * - bounds, lengths and enum values as in `Field(ge=…, le=…)`; a clamped field has no bounds (the server
 *   clamps instead of refusing);
 * - a field that is optional without a default may be `null` (`X | None = None`);
 * - aliases are listed as properties of their own, marked deprecated, and a required field is satisfied by
 *   any of its names (pydantic `AliasChoices`);
 * - `requireOneOf` groups become `anyOf` of `required`; unknown fields are allowed (`extra="ignore"`), and
 *   the fields the endpoint deliberately ignores are listed with why.
 */
export type JsonSchema = { [key: string]: unknown };

/** 2^64 - 1, the seed bound; JavaScript numbers cannot hold it, so it is written into the JSON as text. */
export const SEED_MAX_PLACEHOLDER = '__SEED_MAX__';
export const SEED_MAX_JSON = '18446744073709551615';

export function requestJsonSchema(endpoint: EndpointModel): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const anyOfRequired: string[][] = [];
  const required: string[] = [];
  for (const f of endpoint.fields) {
    properties[f.name] = fieldSchema(f);
    for (const alias of f.aliases) properties[alias] = { ...fieldSchema(f), deprecated: true, description: `Another name for ${f.name}.` };
    if (!f.required) continue;
    if (f.aliases.length === 0) required.push(f.name);
    else anyOfRequired.push([f.name, ...f.aliases]);
  }
  for (const [field, why] of Object.entries(endpoint.ignoredFields)) properties[field] ??= { description: `Accepted and ignored: ${why}` };
  const namesOf = (field: string) => [field, ...(endpoint.fields.find((f) => f.name === field)?.aliases ?? [])];
  const groups = [...anyOfRequired, ...endpoint.requireOneOf.map((group) => group.flatMap(namesOf))];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: endpoint.requestClass,
    description: `Request body of POST ${endpoint.path}: ${endpoint.description}`,
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    ...(groups.length > 0 && { allOf: groups.map((names) => ({ anyOf: names.map((n) => ({ required: [n] })) })) }),
    additionalProperties: true,
  };
}

function fieldSchema(f: RequestField): JsonSchema {
  let schema = valueSchema(f);
  if (f.maxItems !== undefined) schema = { anyOf: [schema, { type: 'array', items: schema, minItems: 1, maxItems: f.maxItems }] };
  const nullable = !f.required && f.default === undefined;
  if (nullable) schema = { anyOf: [schema, { type: 'null' }] };
  return {
    ...schema,
    ...(f.default !== undefined && { default: f.default }),
    ...(nullable && { default: null }),
    ...(f.description !== undefined && { description: f.description }),
  };
}

function valueSchema(f: RequestField): JsonSchema {
  switch (f.type) {
    case 'string':
      return { type: 'string', ...(f.minLength !== undefined && { minLength: f.minLength }), ...(f.maxLength !== undefined && { maxLength: f.maxLength }) };
    case 'enum':
      return { type: 'string', enum: f.values };
    case 'image':
    case 'video':
      return { type: 'string', contentEncoding: 'base64', description: `A ${f.type} as base64 or a data URL.` };
    case 'bool':
      return { type: 'boolean' };
    case 'int':
    case 'float':
    case 'seed': {
      // As the pydantic Field: a seed is 0..2^64-1 unless bounded; a clamped field takes any number.
      const min = f.clamp ? undefined : f.min ?? (f.type === 'seed' ? 0 : undefined);
      const max = f.clamp ? undefined : f.max ?? (f.type === 'seed' ? SEED_MAX_PLACEHOLDER : undefined);
      const bounds = { ...(min !== undefined && { minimum: min }), ...(max !== undefined && { maximum: max }) };
      return { type: f.type === 'float' ? 'number' : 'integer', ...bounds };
    }
  }
}
