/**
 * TypeScript literals and comments as a person (and Biome or Prettier at width 120) would write them:
 * single-quoted strings unless the text has more single quotes than double, objects and arrays on one line
 * when they fit, else one member a line with trailing commas.
 */

export const LINE_WIDTH = 120;

export type TsValue = string | number | boolean | TsValue[] | { readonly [key: string]: TsValue | undefined } | Code;

/** Code written as it is (a call, an identifier). */
export class Code {
  constructor(public readonly text: string) {}
}

export function tsString(text: string): string {
  const singles = (text.match(/'/g) ?? []).length;
  const doubles = (text.match(/"/g) ?? []).length;
  const quote = singles > doubles ? '"' : "'";
  const escaped = [...text]
    .map((c) => {
      if (c === '\\') return '\\\\';
      if (c === quote) return `\\${quote}`;
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      const code = c.codePointAt(0)!;
      if (code < 0x20 || code === 0x2028 || code === 0x2029 || code === 0x7f)
        return `\\u${code.toString(16).padStart(4, '0')}`;
      return c;
    })
    .join('');
  return `${quote}${escaped}${quote}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * `value` printed at `indent` after `prefix` on its line (what stands before it: `key: `), followed by
 * `suffix` (`,` or `;`): the whole line fits in LINE_WIDTH or the value breaks over lines.
 */
export function tsValue(value: TsValue, indent = '', prefix = '', suffix = ''): string {
  const flat = oneLine(value);
  if (indent.length + prefix.length + flat.length + suffix.length <= LINE_WIDTH || !isComposite(value)) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return `[\n${value.map((v) => `${inner}${tsValue(v, inner, '', ',')},\n`).join('')}${indent}]`;
  const entries = Object.entries(value).filter((e): e is [string, TsValue] => e[1] !== undefined);
  return `{\n${entries
    .map(([k, v]) => {
      const name = `${propertyName(k)}: `;
      return `${inner}${name}${tsValue(v, inner, name, ',')},\n`;
    })
    .join('')}${indent}}`;
}

function isComposite(value: TsValue): value is TsValue[] | { readonly [key: string]: TsValue | undefined } {
  return typeof value === 'object' && !(value instanceof Code);
}

function oneLine(value: TsValue): string {
  if (value instanceof Code) return value.text;
  if (typeof value === 'string') return tsString(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  const entries = Object.entries(value).filter((e): e is [string, TsValue] => e[1] !== undefined);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${propertyName(k)}: ${oneLine(v)}`).join(', ')} }`;
}

function propertyName(key: string): string {
  return IDENTIFIER.test(key) ? key : tsString(key);
}

/** A call statement `callee(arg, …);` at `indent`, its arguments broken over lines when it is too long. */
export function tsCall(callee: string, args: TsValue[], indent: string): string {
  const flat = `${indent}${callee}(${args.map(oneLine).join(', ')});`;
  if (flat.length <= LINE_WIDTH) return flat;
  // The last argument (the props object) breaks first, as Biome and Prettier do.
  const head = `${indent}${callee}(${args.slice(0, -1).map(oneLine).join(', ')}${args.length > 1 ? ', ' : ''}`;
  const last = args.at(-1)!;
  if (isComposite(last) && head.length + 2 <= LINE_WIDTH) return `${head}${tsValue(last, indent, LINE_WIDTH_HUGE)});`;
  const inner = `${indent}  `;
  return `${indent}${callee}(\n${args.map((a) => `${inner}${tsValue(a, inner, '', ',')},\n`).join('')}${indent});`;
}

/** A prefix that always overflows, to make tsValue break the value it is given. */
const LINE_WIDTH_HUGE = ' '.repeat(LINE_WIDTH);

/** `// ` comment lines at `indent`, the text wrapped at LINE_WIDTH (continuation lines indented by two). */
export function tsComment(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const lead = lines.length === 0 ? `${indent}// ` : `${indent}//   `;
    if (line && `${lead}${line} ${word}`.length > LINE_WIDTH) {
      lines.push(lead + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push((lines.length === 0 ? `${indent}// ` : `${indent}//   `) + line);
  return lines.join('\n');
}

/** `sd_xl_base_1.0.safetensors` → `SdXlBase10`: an id for a construct; prefixed when it starts with a digit. */
export function pascalId(text: string, prefix = 'Model'): string {
  const id = text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  return /^[A-Za-z]/.test(id) ? id : `${prefix}${id}`;
}
