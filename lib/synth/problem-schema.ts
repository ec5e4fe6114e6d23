/**
 * Every error answer of a generated app (application/problem+json, docs/generated-app.md "One error shape"): RFC 9457's
 * members, `errors` and `request_id`; `detail` keeps what it held before (a string, or an object whose
 * `message` today's clients read), and a request-model 422 keeps its top-level `message`.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export const PROBLEM_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Problem (application/problem+json)',
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'errors', 'request_id'],
  properties: {
    type: { type: 'string', description: 'about:blank: the status says what kind of problem it is' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: {
      description:
        'As before this shape: a string, an object with `message` (and `field` for a refused request field, `node_errors` for a workflow ComfyUI refused), or, for a 422 of the request model, the list of its errors with loc, msg, type and input',
      anyOf: [
        { type: 'string' },
        {
          type: 'object',
          properties: { message: { type: 'string' }, field: { type: 'string' }, node_errors: { type: 'array' } },
        },
        { type: 'array', items: { type: 'object', required: ['loc', 'msg'] } },
      ],
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
    request_id: { type: 'string', description: 'An id of this answer; the app logs it with an unexpected error' },
    message: { type: 'string', description: 'A request-model 422: which fields were wrong' },
  },
} as const;
