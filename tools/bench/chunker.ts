// Throughput of @convoy/chunker (FastCDC, default 512 KiB / 1 MiB / 8 MiB) on random and on
// compressible data, cut inline on the main thread (1 MiB batches, a setImmediate between them)
// and on a worker-thread pool, alone and followed by sha256 of each chunk (what a backup does).
// Also reports the main thread's CPU time (process.threadCpuUsage: not inflated when other
// processes take the cores) per GB and per inline step, and the longest event-loop stall
// (perf_hooks' histogram: wall time, so it includes time the OS gave to other processes).
//
//   npm run bench:chunker -w tools/bench -- [--mib 256] [--rounds 3] [--workers 1]
import {
  CutterPool,
  DEFAULT_CHUNKER_PARAMS,
  START_STATE,
  chunkLengths,
  chunkStream,
  scanConfig,
  scanCuts,
  type ScanState,
} from '@convoy/chunker';
import { createCipheriv, createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { UsageError, parseCommandLine } from './cli-args.js';

const USAGE = 'usage: chunker.ts [--mib N (default 256)] [--rounds N (default 3)] [--workers N (default 1)] [--read-kib N (default 64)]';

interface Options {
  mib: number;
  rounds: number;
  workers: number;
  readKib: number;
}

function positive(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

const opts = parseCommandLine<Options>('chunker.ts', USAGE, (argv) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      mib: { type: 'string' },
      rounds: { type: 'string' },
      workers: { type: 'string' },
      'read-kib': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return 'help';
  return {
    mib: positive(values.mib, 'mib', 256),
    rounds: positive(values.rounds, 'rounds', 3),
    workers: positive(values.workers, 'workers', 1),
    readKib: positive(values['read-kib'], 'read-kib', 64),
  };
});
if (typeof opts === 'number') process.exit(opts);

function randomBytes(length: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Text-like data (~3.5x with zstd): words from a small vocabulary, picked by a keystream. */
function compressibleBytes(length: number): Buffer {
  const words = [
    'volume',
    'backup',
    'snapshot',
    'chunk',
    'the',
    'of',
    'and',
    'store',
    'index',
    'file',
    'restore',
    '\n',
    'docker',
    'convoy',
    'block',
    'pack',
    '0',
    '42',
    'error',
    'lease',
  ];
  const picks = randomBytes(length, 'compressible');
  const out = Buffer.alloc(length);
  let at = 0;
  for (let k = 0; at < length; k++) {
    const w = words[picks[k]! % words.length]!;
    at += out.write(`${w} `, at);
  }
  return out;
}

async function* reads(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

interface Result {
  mbps: number;
  mainCpuMsPerGB: number;
  chunks: number;
  maxStallMs: number;
}

async function once(data: Buffer, pool: CutterPool | undefined, hash: boolean, readSize: number): Promise<Result> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = process.hrtime.bigint();
  const c0 = threadCpuMs();
  let chunks = 0;
  for await (const c of chunkStream(reads(data, readSize), { pool })) {
    chunks++;
    if (hash) createHash('sha256').update(c.data).digest();
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = threadCpuMs() - c0;
  h.disable();
  return { mbps: data.length / 1e6 / s, mainCpuMsPerGB: (cpu * 1e9) / data.length, chunks, maxStallMs: h.max / 1e6 };
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const median = (xs: number[]): number => quantile(xs, 0.5);

/** How long one inline step (the scan of one 1 MiB batch) holds the main thread: median and p99 (wall). */
function stepTimes(data: Buffer): { medianMs: number; p99Ms: number } {
  const cfg = scanConfig(DEFAULT_CHUNKER_PARAMS);
  const times: number[] = [];
  let state: ScanState = START_STATE;
  for (let at = 0; at < data.length; at += 1 << 20) {
    const t0 = process.hrtime.bigint(); // wall time: threadCpuUsage ticks in 4 ms steps here
    state = scanCuts(data, at, Math.min(data.length, at + (1 << 20)), state, cfg, []);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { medianMs: median(times), p99Ms: quantile(times, 0.99) };
}

async function main(o: Options): Promise<void> {
  const bytes = o.mib * 1024 * 1024;
  const inputs = { random: randomBytes(bytes, 'random'), compressible: compressibleBytes(bytes) };
  const pool = new CutterPool({ size: o.workers });
  console.log(
    `chunker bench: ${o.mib} MiB per input, ${o.readKib} KiB reads, median of ${o.rounds} rounds, node ${process.version}, params ${JSON.stringify(DEFAULT_CHUNKER_PARAMS)}`,
  );
  for (const [name, data] of Object.entries(inputs)) {
    const t0 = process.hrtime.bigint();
    const lengths = chunkLengths(data);
    const rawS = Number(process.hrtime.bigint() - t0) / 1e9;
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    const step = stepTimes(data);
    console.log(
      `\n${name}: ${lengths.length} chunks, mean ${(mean / 1048576).toFixed(2)} MiB; bare scanCuts (sync, no stream) ${(data.length / 1e6 / rawS).toFixed(0)} MB/s`,
    );
    console.log(
      `  one inline step (1 MiB batch) holds the main thread ${step.medianMs.toFixed(2)} ms (median), ${step.p99Ms.toFixed(2)} ms (p99)`,
    );
    for (const mode of ['inline', `pool(${o.workers})`] as const) {
      for (const hash of [false, true]) {
        const runs: Result[] = [];
        for (let r = 0; r < o.rounds; r++) runs.push(await once(data, mode === 'inline' ? undefined : pool, hash, o.readKib * 1024));
        const m = median(runs.map((x) => x.mbps));
        const stall = median(runs.map((x) => x.maxStallMs));
        const cpu = median(runs.map((x) => x.mainCpuMsPerGB));
        console.log(
          `  ${mode.padEnd(8)} ${hash ? '+ sha256' : 'chunk   '}  ${m.toFixed(0).padStart(5)} MB/s   main thread ${cpu.toFixed(0).padStart(4)} ms CPU/GB   longest event-loop stall ${stall.toFixed(1)} ms`,
        );
      }
    }
  }
  // Per-file overhead: most files of a tree are smaller than minSize (one chunk, nothing hashed).
  const small = randomBytes(4096, 'small');
  for (const mode of ['inline', `pool(${o.workers})`] as const) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20000; i++) {
      for await (const c of chunkStream(reads(small, 65536), mode === 'inline' ? {} : { pool })) void c;
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`\n20,000 files of 4 KiB, ${mode}: ${(20000 / s).toFixed(0)} files/s (${((s / 20000) * 1e6).toFixed(1)} µs per file)`);
  }
  await pool.close();
}

await main(opts);
