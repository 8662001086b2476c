import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** A bad command line: the bench prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/**
 * Parses a bench's argv: its options, or the exit code when there is nothing to run
 * (0 after printing the usage for --help, 2 after a usage error).
 */
export function parseCommandLine<T>(name: string, usage: string, parse: (argv: string[]) => T | 'help'): T | number {
  let options: T | 'help';
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n${usage}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return options;
}

/** `text` as a positive integer; a usage error (`<flag> takes <what>`) when it is not one. */
export function positiveInt(text: string, flag: string, what = 'a positive integer'): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} takes ${what}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A comma-separated list of names out of `known`; a usage error names the first unknown one. */
export function namesIn<T extends string>(text: string, known: readonly T[], what: string): T[] {
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(known as readonly string[]).includes(n)) throw new UsageError(`unknown ${what} ${n} (known: ${known.join(', ')})`);
  }
  return names as T[];
}

type Flags<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>['values'];

/** Parses `argv` strictly against `options` (with `help`): the flags' values, or 'help'; a positional argument is a usage error. */
export function parseFlags<const O extends ParseArgsOptionsConfig>(argv: string[], options: O): Flags<O> | 'help' {
  const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  if ((values as { help?: unknown }).help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  return values;
}
