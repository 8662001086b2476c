// Where did the time go: sums the self and total time of V8 CPU profiles (`node --cpu-prof`, or
// backup.ts --profile DIR) by function, file or package, as a Markdown table. See README.md.
//
//   npm run -s profile:summary -w tools/bench -- [--by function|file|package] [--top 30] FILE_OR_DIR…
// A directory stands for every .cpuprofile in it and below (a process's main thread and workers).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from './bench-main.js';
import { UsageError, parseCommandLine, positiveInt } from './cli-args.js';
import { GROUPINGS, formatSummary, parseProfile, summarize, type Grouping } from './cpuprofile.js';

const USAGE = `usage: cpuprofile-summary.ts [--by function|file|package] [--top N] FILE_OR_DIR…
  --by      what to sum by (default function; file: source file; package: @convoy/…, npm package, node:internal, V8)
  --top N   rows to print (default 30)
Sums all given profiles together; a directory means every .cpuprofile below it.`;

interface Options {
  by: Grouping;
  top: number;
  paths: string[];
}

function parse(argv: string[]): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      by: { type: 'string', default: 'function' },
      top: { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const by = values.by as Grouping;
  if (!GROUPINGS.includes(by)) throw new UsageError(`--by takes ${GROUPINGS.join(', ')}, not ${JSON.stringify(values.by)}`);
  if (positionals.length === 0) throw new UsageError('name at least one .cpuprofile file or directory');
  return { by, top: positiveInt(values.top, '--top'), paths: positionals };
}

async function profilesUnder(p: string): Promise<string[]> {
  if (!(await stat(p)).isDirectory()) return [p];
  const out: string[] = [];
  for (const e of await readdir(p, { withFileTypes: true })) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await profilesUnder(child)));
    else if (e.name.endsWith('.cpuprofile')) out.push(child);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const options = parseCommandLine('cpuprofile-summary.ts', USAGE, parse);
  if (typeof options === 'number') return options;
  const files = (await Promise.all(options.paths.map(profilesUnder))).flat();
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${options.paths.join(', ')}`);
  const profiles = await Promise.all(files.map(async (f) => parseProfile(await readFile(f, 'utf8'), f)));
  process.stderr.write(`${files.length} profile${files.length === 1 ? '' : 's'}: ${files.join(', ')}\n`);
  process.stdout.write(formatSummary(summarize(profiles, options.by), options.top, options.by));
  return 0;
}

runMain(main);
