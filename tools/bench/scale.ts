// Format v2 at fleet scale, ids only, no data: a request-counting in-memory store populated with
// thousands of volumes' backups as backupVolume leaves them, then one delete, D deletes and the
// quick maintenance that merges them, and full maintenance, each measured with the real library
// functions at three store sizes. See README.md.
//
//   npm run bench:scale -w tools/bench -- [--scale 0.1] [--sizes LIST] [--deletes N|scaled] [--json]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { log, runMain } from './bench-main.js';
import { UsageError, parseCommandLine, parseFlags, positiveInt } from './cli-args.js';
import { FULL_FLEET, type FleetSpec } from './scale-fleet.js';
import { formatOperationsTable, formatStoreTable } from './scale-report.js';
import { runSize, type SizeResult } from './scale-run.js';

const DEFAULT_SCALE = 0.1;
/** Deletes at full scale (10,000 volumes). */
const FULL_DELETES = 1000;

const USAGE = `usage: scale.ts [options]
  --scale S            the largest size, as a share of the full fleet (${FULL_FLEET.volumes.toLocaleString('en-US')} volumes ×
                       ${FULL_FLEET.backups} backups × ~${FULL_FLEET.blocks} blocks): 1, 0.1 or 0.01 (default ${DEFAULT_SCALE});
                       the run covers S/100, S/10 and S
  --sizes LIST         the sizes to run instead, e.g. 0.001,0.01,0.1
  --deletes N|scaled   backups deleted before the quick maintenance: N at every size (default
                       ${FULL_DELETES} × the largest size), or 'scaled': ${FULL_DELETES} × each size
  --backups N          backups per volume (default ${FULL_FLEET.backups})
  --blocks N           mean blocks per backup (default ${FULL_FLEET.blocks})
  --seed N             fleet seed (default ${FULL_FLEET.seed})
  --recent N           days of backups merged by real quick maintenance while populating; older
                       ones are indexed directly, as a full maintenance leaves them (default 3)
  --no-full            skip full maintenance (O(store))
  --in-process         run every size in this process (default: one child process per size)
  --json               print the results as JSON instead of tables`;

interface ScaleOptions {
  sizes: number[];
  deletes: number | 'scaled';
  backups: number;
  blocks: number;
  seed: number;
  recent: number;
  full: boolean;
  inProcess: boolean;
  json: boolean;
  /** Internal: run this one size and print its result as JSON (the parent's child process). */
  child: number | undefined;
}

function specOf(options: ScaleOptions, size: number): FleetSpec {
  const volumes = Math.round(FULL_FLEET.volumes * size);
  if (volumes < 1) throw new UsageError(`size ${size} has no volume (the smallest is ${1 / FULL_FLEET.volumes})`);
  return { ...FULL_FLEET, volumes, backups: options.backups, blocks: options.blocks, seed: options.seed };
}

function deletesAt(options: ScaleOptions, size: number): number {
  const d = options.deletes === 'scaled' ? Math.round(FULL_DELETES * size) : options.deletes;
  return Math.max(1, Math.min(d, specOf(options, size).volumes * options.backups));
}

/** RSS a size needs, from runs here: ~160 MB of Node and libraries, ~85 bytes per block reference. */
function memoryNeeded(spec: FleetSpec): number {
  return 160e6 + 85 * spec.volumes * spec.backups * spec.blocks;
}

/** Memory the system can give now (MemAvailable), or undefined where /proc/meminfo is missing. */
function memoryAvailable(): number | undefined {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const options = parseCommandLine('scale.ts', USAGE, parseOptions);
  if (typeof options === 'number') return options;
  /** One size, in this process. */
  const runHere = (size: number): Promise<SizeResult> =>
    runSize({
      scale: size,
      spec: specOf(options, size),
      deletes: deletesAt(options, size),
      full: options.full,
      recent: options.recent,
      log,
    });
  if (options.child !== undefined) {
    const r = await runHere(options.child);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const why =
    options.deletes === 'scaled'
      ? `deletes scale with the store (${FULL_DELETES} × size): quick maintenance rows then grow with both`
      : `the same ${deletesAt(options, Math.max(...options.sizes))} deletes at every size, so that the quick-maintenance rows compare store sizes at equal work (flat = independent of the store)`;
  log(why);
  const loadBefore = os.loadavg()[0] ?? 0;
  const results: SizeResult[] = [];
  const failures: string[] = [];
  for (const size of options.sizes) {
    const need = memoryNeeded(specOf(options, size));
    const available = memoryAvailable();
    if (available !== undefined && need > available) {
      const message = `skipped: needs ~${(need / 1e9).toFixed(1)} GB of memory, ${(available / 1e9).toFixed(1)} GB are available`;
      failures.push(`size ${size}: ${message}`);
      log(`size ${size} ${message}; going on with the other sizes`);
      continue;
    }
    log(`size ${size}: needs ~${(need / 1e9).toFixed(1)} GB; takes roughly ${Math.ceil((4e-6 * need) / 85)} s here`);
    try {
      results.push(options.inProcess ? await runHere(size) : await runChild(size));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`size ${size}: ${message}`);
      log(`size ${size} failed: ${message}; going on with the other sizes`);
    }
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    command: `npm run -s bench:scale -w tools/bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    deletes: why,
    /** 1-minute load average before and after (other work on the machine slows the seconds, never the counts). */
    loadAverage: { before: loadBefore, after: os.loadavg()[0] ?? 0 },
    failures,
  };
  if (options.json) process.stdout.write(`${JSON.stringify({ meta, results }, null, 2)}\n`);
  else {
    const out = [
      `Fleet: ${FULL_FLEET.volumes.toLocaleString('en-US')} volumes × ${options.backups} backups × ~${options.blocks} blocks at size 1; ${why}.`,
      `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs, ${(meta.memoryBytes / 2 ** 30).toFixed(0)} GiB; 1-minute load average ${meta.loadAverage.before.toFixed(2)} before, ${meta.loadAverage.after.toFixed(2)} after.`,
      '',
      formatStoreTable(results),
      '',
      formatOperationsTable(results),
      ...failures.map((f) => `\nFAILED ${f}`),
      '',
    ];
    process.stdout.write(out.join('\n'));
  }
  return failures.length > 0 ? 1 : 0;
}

/** Runs one size in a child process (its own heap and RSS), which prints its result as JSON. */
async function runChild(size: number): Promise<SizeResult> {
  const args = [...process.execArgv, process.argv[1] as string, ...process.argv.slice(2), '--child', String(size)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.once('SIGINT', forward).once('SIGTERM', forward);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject).once('close', (c, s) => resolve([c, s]));
    });
    if (code !== 0)
      throw new Error(
        `the child process ${signal === null ? `exited ${code}` : `was killed by ${signal}`} (out of memory? see its messages above)`,
      );
    return JSON.parse(out) as SizeResult;
  } finally {
    process.off('SIGINT', forward).off('SIGTERM', forward);
  }
}

function parseOptions(argv: string[]): ScaleOptions | 'help' {
  const values = parseFlags(argv, {
    scale: { type: 'string' },
    sizes: { type: 'string' },
    deletes: { type: 'string' },
    backups: { type: 'string', default: String(FULL_FLEET.backups) },
    blocks: { type: 'string', default: String(FULL_FLEET.blocks) },
    seed: { type: 'string', default: String(FULL_FLEET.seed) },
    recent: { type: 'string', default: '3' },
    'no-full': { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values === 'help') return 'help';
  if (values.scale !== undefined && values.sizes !== undefined) throw new UsageError('--scale and --sizes exclude each other');
  const sizes =
    values.sizes !== undefined
      ? values.sizes.split(',').map((s) => share(s.trim(), '--sizes'))
      : ((s: number) => [s / 100, s / 10, s].map((x) => Number(x.toPrecision(6))))(share(values.scale ?? String(DEFAULT_SCALE), '--scale'));
  const largest = Math.max(...sizes);
  const deletes =
    values.deletes === 'scaled'
      ? 'scaled'
      : values.deletes === undefined
        ? Math.max(1, Math.round(FULL_DELETES * largest))
        : positiveInt(values.deletes, '--deletes');
  const options: ScaleOptions = {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    deletes,
    backups: positiveInt(values.backups, '--backups'),
    blocks: positiveInt(values.blocks, '--blocks'),
    seed: positiveInt(values.seed, '--seed'),
    recent: values.recent === '0' ? 0 : positiveInt(values.recent, '--recent'),
    full: !values['no-full'],
    inProcess: values['in-process'],
    json: values.json,
    child: values.child === undefined ? undefined : share(values.child, '--child'),
  };
  for (const s of options.sizes) specOf(options, s); // every size has at least one volume
  return options;
}

function share(text: string, flag: string): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n <= 0 || n > 10)
    throw new UsageError(`${flag} takes shares of the full fleet such as 0.01, 0.1 or 1, not ${JSON.stringify(text)}`);
  return n;
}

runMain(main);
