import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest, likelyTypo } from '../comfy/closest';
import { coreVersions } from '../comfy/schema-set';

/**
 * Every command's argument parser: node's `parseArgs` (strict), with one rule for all commands.
 * - A value that starts with "-" and is a number (`--timeout -5`, `-n 0`) is the option's value, so the
 *   command's own check can say what is wrong with it (node would call it an ambiguous option).
 * - An unknown option suggests the closest one the command has; a missing value says which option.
 * Throws an Error whose message is what the command prints as its usage mistake (exit code 2).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const options = config.options ?? {};
  try {
    return parseArgs({ ...config, args: joinNegativeValues(config.args ?? [], options), strict: true }) as ReturnType<
      typeof parseArgs<T>
    >;
  } catch (e) {
    throw new Error(usageMessage(e as Error & { code?: string }, options));
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const byShort = new Map(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([name, o]) => [o.short!, name]),
  );
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = arg.startsWith('--') ? arg.slice(2) : /^-[a-zA-Z]$/.test(arg) ? byShort.get(arg[1]) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
    if (arg === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}

function usageMessage(e: Error & { code?: string }, options: Options): string {
  const names = Object.keys(options).map((n) => `--${n}`);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    const flag = given.split('=')[0];
    const suggestion = likelyTypo(flag.replace(/^-+/, ''), Object.keys(options));
    return `unknown option ${flag}${suggestion ? `: did you mean --${suggestion}?` : ''} (this command takes ${names.join(', ')})`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '-o, --output <value>' argument missing": name the long form.
    const flag = /'(?:-\w, )?(-[^ ',]+)/.exec(e.message)?.[1];
    if (flag && / argument missing/.test(e.message)) return `${flag}: expected a value after it`;
    if (flag && /does not take an argument/.test(e.message)) return `${flag}: takes no value (it is a switch)`;
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const given = /'([^']+)'/.exec(e.message)?.[1];
    return `unexpected argument ${JSON.stringify(given)}: this command takes only options (${names.join(', ')})`;
  }
  return e.message;
}

/**
 * `-c key=value` context overrides (as `cdk synth -c`): the value is read as JSON when it is JSON
 * (`-c replicas=3`, `-c flags='{"a":1}'`), else as a string. Returns the overrides or a usage message.
 */
export function parseContext(pairs: string[]): Record<string, unknown> | string {
  const context: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) return `--context: got ${JSON.stringify(pair)}, expected key=value`;
    const text = pair.slice(at + 1);
    try {
      context[pair.slice(0, at)] = JSON.parse(text);
    } catch {
      context[pair.slice(0, at)] = text;
    }
  }
  return context;
}

/**
 * A `-c` key that cdk-like.json's context lacks is most often a typo: it is still set (a stack may read
 * any key with node.tryGetContext), with a warning that names the keys cdk-like.json has. A value of
 * another kind than cdk-like.json's (`-c replicas=three` where it has a number) is set too, with a
 * warning that quotes it: the stack reads a string where it expects a number.
 */
export function warnUnknownContext(
  overrides: Record<string, unknown>,
  known: Record<string, unknown>,
  err: NodeJS.WritableStream,
): void {
  const names = Object.keys(known);
  for (const [key, value] of Object.entries(overrides)) {
    if (key in known) {
      const expected = kindOf(known[key]);
      if (expected !== kindOf(value) && (expected === 'number' || expected === 'boolean')) {
        const wanted = expected === 'number' ? `a number, e.g. -c ${key}=2` : `true or false, e.g. -c ${key}=true`;
        err.write(
          `modal-cdk: warning: -c ${key}: got ${JSON.stringify(value)} (a ${kindOf(value)}), where cdk-like.json's context has ${JSON.stringify(known[key])} (a ${expected}) — it is set all the same; pass ${wanted}\n`,
        );
      }
      continue;
    }
    const near = names.length
      ? `; cdk-like.json's context has ${names.join(', ')}${closest(key, names, 1).length ? ` (did you mean ${closest(key, names, 1)[0]}?)` : ''}`
      : '; cdk-like.json has no context';
    err.write(
      `modal-cdk: warning: -c ${key}: not a key of cdk-like.json's context${near} — it is set all the same; a stack reads it only with node.tryGetContext('${key}')\n`,
    );
  }
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
}

/**
 * What is wrong with the sub-command in front of `argv` (`models ls …`), or undefined when it is one of
 * `names` or `argv` asks for help. `names` as the message lists them, e.g. "ls or upload".
 */
export function subcommandProblem(argv: readonly string[], names: readonly string[]): string | undefined {
  const [sub] = argv;
  if (names.includes(sub) || argv.includes('--help') || argv.includes('-h')) return undefined;
  const got = sub === undefined ? 'nothing' : sub.startsWith('-') ? `the option ${sub} first` : JSON.stringify(sub);
  const listed = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
  return `expected a sub-command, ${listed}, before the options, got ${got}`;
}

/** What is wrong with a `--comfy-version` value (a release x.y.z), naming the releases with node schemas; else undefined. */
export function comfyVersionProblem(value: string | undefined): string | undefined {
  if (value === undefined || /^\d+\.\d+\.\d+$/.test(value)) return undefined;
  return `--comfy-version: got ${JSON.stringify(value)}, expected a release x.y.z; node schemas exist for ${coreVersions().join(', ')}`;
}
