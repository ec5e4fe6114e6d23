/**
 * Python source literals for JSON values. Every user string that reaches a generated `.py` file goes
 * through here, so quotes, backslashes, newlines, `"""` and non-ASCII text all come out as a valid
 * literal holding the same value. Output is ASCII-only, so no source-encoding question arises either.
 */

export type PyValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly PyValue[]
  | { readonly [key: string]: PyValue };

export function pyString(value: string): string {
  if (/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(value)) return `"${value}"`; // printable ASCII without " or \
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}"`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** A number as Python reads it back: integers stay `int`, everything else is a finite `float`. */
export function pyNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as a Python literal: expected a finite number`);
  if (Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return String(value);
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** Any JSON value as a Python literal: dicts keep the given key order (callers sort where it matters). */
export function py(value: PyValue): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(py).join(', ')}]`;
  const entries = Object.entries(value as Record<string, PyValue>);
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${py(v)}`).join(', ')}}`;
}

/** A Python identifier made from a name (`/flux-dev` → `flux_dev`); never a keyword, never empty. */
export function pyIdentifier(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (id === '' || /^[0-9]/.test(id)) id = `n_${id}`;
  return PYTHON_KEYWORDS.has(id) ? `${id}_` : id;
}

export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);

/**
 * Like `py`, but a dict or list that would not fit in `width` columns is broken over lines, one item
 * a line, indented 4 spaces a level; readable in a code review, still one literal. `indent` is the
 * indentation of the line the literal starts on, `column` where on that line it starts.
 */
export function pyPretty(
  value: PyValue,
  indent = 0,
  column = indent,
  width = 100,
  flat = new Map<object, string>(),
): string {
  const text = flatPy(value, flat);
  if (column + text.length <= width || value === null || typeof value !== 'object') return text;
  const inner = indent + 4;
  const pad = ' '.repeat(inner);
  const items = Array.isArray(value)
    ? value.map((v) => `${pad}${pyPretty(v, inner, inner, width, flat)},`)
    : Object.entries(value as Record<string, PyValue>).map(([k, v]) => {
        const key = `${pyString(k)}: `;
        return `${pad}${key}${pyPretty(v, inner, inner + key.length, width, flat)},`;
      });
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join('\n')}\n${' '.repeat(indent)}${close}`;
}

/** `py(value)`, remembering each dict's and list's text, so pyPretty renders every subtree once. */
function flatPy(value: PyValue, memo: Map<object, string>): string {
  if (value === null || typeof value !== 'object') return py(value);
  let text = memo.get(value);
  if (text === undefined) {
    text = Array.isArray(value)
      ? `[${value.map((v) => flatPy(v, memo)).join(', ')}]`
      : `{${Object.entries(value as Record<string, PyValue>)
          .map(([k, v]) => `${pyString(k)}: ${flatPy(v, memo)}`)
          .join(', ')}}`;
    memo.set(value, text);
  }
  return text;
}
