import { parseArgs, ParseArgsConfig } from 'node:util';
import { closest } from './comfy/closest';

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
    return parseArgs({ ...config, args: joinNegativeValues(config.args ?? [], options), strict: true }) as ReturnType<typeof parseArgs<T>>;
  } catch (e) {
    throw new Error(usageMessage(e as Error & { code?: string }, options));
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const byShort = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]));
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
    const suggestion = closest(flag.replace(/^-+/, ''), Object.keys(options), 1)[0];
    return `unknown option ${flag}: did you mean --${suggestion}? (this command takes ${names.join(', ')})`;
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
