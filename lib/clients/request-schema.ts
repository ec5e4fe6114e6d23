import type { EndpointSpec, RequestField } from '../synth/spec';

/**
 * The JSON Schema (draft 2020-12) of an endpoint's request body, from the same field model the app's
 * pydantic classes are rendered from (lib/synth/render.ts), so the two accept the same bodies:
 * - bounds, lengths and enum values as in `Field(ge=…, le=…)`; a clamped field has no bounds (the server
 *   clamps instead of refusing);
 * - `null` means left out, for every field (its default applies), and `""` means left out for a
 *   `defaultWhenEmpty` field (the request model drops both before validating); a required field, and one
 *   field of each `requireOneOf` group, must be sent with a value;
 * - numbers are JSON numbers (`integer`: 7 or 7.0), never strings or booleans (the app's Int/Number/Bool);
 * - aliases are listed as properties of their own, marked deprecated, and a required field is satisfied by
 *   any of its names (pydantic `AliasChoices`), each such choice an `anyOf` of names sent with a value;
 *   two names of one field sent together are refused (`not` both);
 * - `requireOneOf` groups become `anyOf` of `required`; unknown fields are allowed (`extra="ignore"`), and
 *   the fields the endpoint deliberately ignores are listed with why.
 */
export type JsonSchema = { [key: string]: unknown };

/** 2^64 - 1, the seed bound; JavaScript numbers cannot hold it, so it is written into the JSON as text. */
export const SEED_MAX_PLACEHOLDER = '__SEED_MAX__';
export const SEED_MAX_JSON = '18446744073709551615';

export function requestJsonSchema(endpoint: EndpointSpec): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const anyOfRequired: string[][] = [];
  const required: string[] = [];
  for (const f of endpoint.fields) {
    properties[f.name] = fieldSchema(f);
    for (const alias of f.aliases)
      properties[alias] = { ...fieldSchema(f), deprecated: true, description: `Another name for ${f.name}.` };
    if (!f.required) continue;
    if (f.aliases.length === 0) required.push(f.name);
    anyOfRequired.push([f.name, ...f.aliases]);
  }
  for (const [field, why] of Object.entries(endpoint.ignoredFields))
    properties[field] ??= { description: `Accepted and ignored: ${why}` };
  const fieldOf = (name: string) => endpoint.fields.find((f) => f.name === name || f.aliases.includes(name));
  const namesOf = (field: string) => [field, ...(fieldOf(field)?.aliases ?? [])];
  const groups = [...anyOfRequired, ...endpoint.requireOneOf.map((group) => group.flatMap(namesOf))];
  const aliased = endpoint.fields.filter((f) => f.aliases.length > 0).map((f) => [f.name, ...f.aliases]);
  // Sent means present with a value: null (and "" for a defaultWhenEmpty field) counts as left out.
  const sent = (name: string) => {
    const absent = [null, ...(fieldOf(name)?.defaultWhenEmpty ? [''] : [])];
    return { required: [name], properties: { [name]: { not: { enum: absent } } } };
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: endpoint.requestClass,
    description: `Request body of POST ${endpoint.path}${endpoint.description ? `: ${endpoint.description}` : ''}`,
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    ...((groups.length > 0 || aliased.length > 0) && {
      allOf: [
        ...groups.map((names) => ({ anyOf: names.map(sent) })),
        // One field sent under two of its names is refused (which was meant is not known).
        ...aliased.flatMap((names) =>
          names.flatMap((a, i) => names.slice(i + 1).map((b) => ({ not: { allOf: [sent(a), sent(b)] } }))),
        ),
      ],
    }),
    additionalProperties: true,
  };
}

function fieldSchema(f: RequestField): JsonSchema {
  let schema = valueSchema(f);
  if (f.maxItems !== undefined)
    schema = { anyOf: [schema, { type: 'array', items: schema, minItems: 1, maxItems: f.maxItems }] };
  // "" counts as left out for a defaultWhenEmpty field, whatever its minLength.
  if (f.defaultWhenEmpty) schema = { anyOf: [schema, { const: '' }] };
  // null means left out, for every field (the default applies; a required field must then come by another name).
  schema = { anyOf: [schema, { type: 'null' }] };
  return {
    ...schema,
    ...(f.default !== undefined ? { default: f.default } : !f.required && { default: null }),
    ...(f.description !== undefined && { description: f.description }),
  };
}

function valueSchema(f: RequestField): JsonSchema {
  switch (f.type) {
    case 'string':
      return {
        type: 'string',
        ...(f.minLength !== undefined && { minLength: f.minLength }),
        ...(f.maxLength !== undefined && { maxLength: f.maxLength }),
      };
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
      const min = f.clamp ? undefined : (f.min ?? (f.type === 'seed' ? 0 : undefined));
      const max = f.clamp ? undefined : (f.max ?? (f.type === 'seed' ? SEED_MAX_PLACEHOLDER : undefined));
      const bounds = { ...(min !== undefined && { minimum: min }), ...(max !== undefined && { maximum: max }) };
      return { type: f.type === 'float' ? 'number' : 'integer', ...bounds };
    }
  }
}
