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
