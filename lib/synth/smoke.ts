import { crc32, deflateSync } from 'node:zlib';
import type { EndpointSpec, OutputFormat, RequestField } from './spec';

/**
 * What `modal-cdk verify` sends and how it reads the answer: the smoke request of an endpoint (its
 * `smokeRequest`, else one built from the fields' defaults) and whether the bytes that came back are the
 * declared format.
 */

export type SmokeBody = { body: Record<string, unknown> } | { error: string };

export function smokeBody(endpoint: EndpointSpec): SmokeBody {
  if (endpoint.smokeRequest) return { body: { ...endpoint.smokeRequest } };
  const body: Record<string, unknown> = {};
  const fill = (field: RequestField): string | undefined => {
    const value = leastValue(field);
    if (typeof value === 'object' && value !== null && 'error' in value) return String(value.error);
    if (value !== undefined) body[field.name] = value;
    return undefined;
  };
  for (const field of endpoint.fields) {
    if (!field.required || field.default !== undefined) continue;
    const error = fill(field);
    if (error)
      return { error: `${endpoint.path}: field ${field.name}: ${error} — declare the endpoint's smokeRequest` };
  }
  for (const group of endpoint.requireOneOf) {
    if (group.some((name) => name in body)) continue;
    const errors = group.map((name) => fill(endpoint.fields.find((f) => f.name === name)!));
    if (errors.every(Boolean))
      return {
        error: `${endpoint.path}: one of ${group.join(', ')} is needed, and none can be made up (${errors[0]}) — declare the endpoint's smokeRequest`,
      };
  }
  return { body };
}

/** The second (warm) call's body: each seed the first one set, plus one, so ComfyUI's cache is missed. */
export function warmBody(endpoint: EndpointSpec, body: Record<string, unknown>): Record<string, unknown> {
  const warm = { ...body };
  for (const field of endpoint.fields) {
    const seed = warm[field.name];
    if (field.type === 'seed' && typeof seed === 'number')
      warm[field.name] = seed + 1 <= (field.max ?? Number.MAX_SAFE_INTEGER) ? seed + 1 : (field.min ?? 0);
  }
  return warm;
}

/**
 * The smallest value a field takes; undefined to leave it out (a seed is random); an error when none can be guessed.
 */
function leastValue(field: RequestField): unknown {
  switch (field.type) {
    case 'seed':
      return undefined;
    case 'int':
    case 'float':
      return field.min ?? Math.min(0, field.max ?? 0);
    case 'bool':
      return false;
    case 'enum':
      return field.values?.[0];
    case 'string': {
      if (field.modelFolder) return { error: `a file name in ComfyUI's ${field.modelFolder} folder cannot be guessed` };
      if (field.values?.length) return field.values[0];
      const text = 'a red apple on a wooden table'.slice(0, field.maxLength ?? Infinity);
      return text.padEnd(field.minLength ?? 0, '.');
    }
    case 'image':
      return `data:image/png;base64,${SMOKE_PNG.toString('base64')}`;
    case 'video':
      return { error: 'a video cannot be made up' };
  }
}

/** A 64×64 RGB gradient as a PNG, built once: a valid image any image field accepts. */
export const SMOKE_PNG: Buffer = (() => {
  const size = 64;
  const rows = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    for (let x = 0, at = y * (1 + size * 3) + 1; x < size; x++, at += 3) {
      rows[at] = x * 4; // red
      rows[at + 1] = y * 4; // green
      rows[at + 2] = 128; // blue
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
})();

const ascii = (bytes: Uint8Array, from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');

/** Undefined when `bytes` start as a file of `format` does (JSON: parses); else what is wrong. */
export function outputProblem(format: OutputFormat, bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'the body is empty';
  const ok = {
    png: () => ascii(bytes, 1, 4) === 'PNG' && bytes[0] === 0x89,
    jpeg: () => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
    webp: () => ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP',
    mp4: () => ascii(bytes, 4, 8) === 'ftyp',
    json: () => {
      try {
        JSON.parse(Buffer.from(bytes).toString('utf8'));
        return true;
      } catch {
        return false;
      }
    },
  }[format]();
  return ok
    ? undefined
    : `the body is not ${format === 'json' ? 'JSON' : `a ${format} file`} (starts ${JSON.stringify(ascii(bytes, 0, 12))})`;
}
