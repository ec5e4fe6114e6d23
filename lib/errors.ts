import type { z } from 'zod';
import type { IConstruct } from 'constructs';
import { likelyTypo } from './comfy/closest';

/** One thing wrong with the construct tree, the config or the model, located by a path. */
export interface Problem {
  /** The construct path (`ryla/wan26/Wan26`), config key or file that is wrong. */
  readonly path: string;
  /** What is wrong, what was given, what is valid and how to fix it. */
  readonly message: string;
  /** A note (information; `--strict` does not fail on it), not a warning. Only on warnings. */
  readonly note?: true;
  /** A warning's id, by which a stack acknowledges it (`Warnings.of(scope).acknowledge(id, reason)`). */
  readonly id?: string;
}

/**
 * Every error a user can cause. The CLI prints its problems, one `[path] message` line each,
 * and never a stack trace: the stack would point into modal-cdk, not at the user's mistake.
 */
export class ModalCdkError extends Error {
  /** Every problem found, each with where it is (construct path, file or field) and what is wrong. */
  public readonly problems: Problem[];

  /** An error listing `problems` (its message has one line per problem). */
  constructor(problems: Problem[]) {
    super(formatProblems(problems));
    this.name = 'ModalCdkError';
    this.problems = problems;
  }

  /** Whether `x` is a ModalCdkError (of any copy of modal-cdk: checked by shape, not `instanceof`). */
  public static isModalCdkError(x: unknown): x is ModalCdkError {
    return x instanceof Error && Array.isArray((x as ModalCdkError).problems);
  }
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `[${p.path}] ${p.message}`).join('\n');
}

/** `JSON.stringify` that never throws and keeps long values short enough for one error line. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Turns zod issues into problems that name the prop, the value given and what is valid. */
export function zodProblems(
  path: string,
  issues: readonly z.core.$ZodIssue[],
  what = 'prop',
  schema?: z.ZodType,
): Problem[] {
  return issues.flatMap((issue) => {
    // A union (`false | { … }`) whose value has the shape of one branch: that branch's own problems.
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // The branch the value got furthest into: one whose problems are inside the value, not about its kind.
      const shaped = issue.errors.find((branch) => branch.length > 0 && branch.every((b) => b.path.length > 0));
      if (shaped)
        return zodProblems(
          path,
          shaped.map((b) => ({ ...b, path: [...issue.path, ...b.path] })),
          what,
          schema,
        );
    }
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = field ? ` in ${what} '${field}'` : '';
      const known = schema ? knownKeys(schema, issue.path) : [];
      const named = issue.keys.map((k) => {
        const best = likelyTypo(k, known);
        return best ? `'${k}' (did you mean '${best}'?)` : `'${k}'`;
      });
      const valid = known.length > 0 ? `; the known ${what}s here: ${known.join(', ')}` : '';
      return {
        path,
        message: `unknown ${what}${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}${where}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling${valid}`,
      };
    }
    // A bad record key nests its own issues; their message says what a key must look like.
    const cause = issue.code === 'invalid_key' && issue.issues.length > 0 ? issue.issues[0] : issue;
    const expected = plainExpectation(cause);
    const input = (issue as { input?: unknown }).input;
    return { path, message: `${what} '${field}': got ${show(input)}, ${expected}` };
  });
}

/**
 * The keys an object schema takes at `at` (through optional, default, nullable, union, record and list
 * wrappers), for an unknown key's "did you mean"; empty where the schema is not an object there.
 */
export function knownKeys(schema: z.ZodType, at: readonly PropertyKey[]): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const inner = (s: unknown, rest: readonly PropertyKey[]) => knownKeys(s as z.ZodType, rest);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return inner(def.innerType, at);
    case 'pipe':
      return inner(def.in, at);
    case 'lazy':
      return inner((def.getter as () => unknown)(), at);
    case 'union':
      return [...new Set((def.options as unknown[]).flatMap((o) => inner(o, at)))];
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      if (at.length === 0) return Object.keys(shape);
      const next = shape[String(at[0])];
      return next ? inner(next, at.slice(1)) : [];
    }
    case 'record':
      return at.length === 0 ? [] : inner(def.valueType, at.slice(1));
    case 'array':
      return at.length === 0 ? [] : inner(def.element, at.slice(1));
    default:
      return [];
  }
}

const KINDS: Record<string, string> = {
  record: 'an object of names to values',
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  bigint: 'a whole number',
};
const SIZED: Record<string, string> = { string: 'characters', array: 'items', set: 'items', file: 'bytes' };

/**
 * "expected …" for a zod issue, in the words of our other errors (not zod's "Too small: expected number to be >=0").
 */
function plainExpectation(issue: z.core.$ZodIssue): string {
  // A schema's own message already says what is expected; only zod's defaults are reworded.
  if (!/^(Invalid (input|option)|Too small|Too big)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${KINDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const unit = SIZED[issue.origin] ? ` ${SIZED[issue.origin]}` : '';
      const word = issue.inclusive ? (small ? 'at least' : 'at most') : small ? 'more than' : 'less than';
      return `expected ${word} ${bound}${unit}`;
    }
    default:
      return issue.message.replace(/^Invalid (input|option): /, '').replace(/, received .*$/, '');
  }
}

/**
 * Validates props against their zod schema, failing fast with every problem found in them.
 * Returns the parsed props, with the schema's defaults applied.
 */
export function parseProps<S extends z.ZodType>(schema: S, props: unknown, path: string, what = 'prop'): z.output<S> {
  const result = schema.safeParse(props, { reportInput: true });
  if (!result.success) throw new ModalCdkError(zodProblems(path, result.error.issues, what, schema));
  return result.data;
}

/** Construct metadata type of a synth warning (as the CDK's Annotations record them). */
export const WARNING_METADATA = 'modal-cdk:warning';

/**
 * Records a warning on a construct; synth prints it with the construct's path (`--strict` fails on it)
 * unless the construct or one of its scopes acknowledged `id`.
 */
export function addWarning(scope: IConstruct, id: string, message: string): void {
  recordOnce(scope, WARNING_METADATA, id, message);
}

/** Specs may be built more than once (synth, assertions): a warning or note is recorded once. */
function recordOnce(scope: IConstruct, type: string, id: string, message: string): void {
  const known = scope.node.metadata.some(
    (m) =>
      m.type === type && (m.data as { id: string }).id === id && (m.data as { message: string }).message === message,
  );
  if (!known) scope.node.addMetadata(type, { id, message });
}

/** Construct metadata type of an acknowledged warning id. */
export const ACKNOWLEDGE_METADATA = 'modal-cdk:acknowledge';

/** Whether `construct` or one of its scopes acknowledged warning `id`. */
export function isAcknowledged(construct: IConstruct, id: string): boolean {
  return construct.node.scopes.some((s) =>
    s.node.metadata.some((m) => m.type === ACKNOWLEDGE_METADATA && (m.data as { id: string }).id === id),
  );
}

/** Construct metadata type of a synth note: something the user should know that is not wrong. */
export const NOTE_METADATA = 'modal-cdk:note';

/** Records a note on a construct; synth prints it with the construct's path (`--strict` does not fail on it). */
export function addNote(scope: IConstruct, id: string, message: string): void {
  recordOnce(scope, NOTE_METADATA, id, message);
}

/** The warnings and notes recorded on a construct tree, in tree order. */
export function collectWarnings(root: IConstruct): Problem[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === WARNING_METADATA || m.type === NOTE_METADATA)
      .map((m) => ({
        path: c.node.path,
        ...(m.data as { id: string; message: string }),
        ...(m.type === NOTE_METADATA && { note: true as const }),
      })),
  );
}

/** The constructs library's own refusal of a repeated id, as one of our problems (else undefined). */
export function fromConstructsError(e: unknown): ModalCdkError | undefined {
  const duplicate = /^There is already a Construct with name '([^']*)' in (\w+) \[([^\]]*)\]/.exec(
    (e as Error)?.message ?? '',
  );
  if (!duplicate) return undefined;
  const [, id, kind, parent] = duplicate;
  return new ModalCdkError([
    {
      path: parent,
      message: `duplicate construct id "${id}" in ${kind} ${parent}: expected each child of a construct to have its own id`,
    },
  ]);
}
