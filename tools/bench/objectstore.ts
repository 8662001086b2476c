// Object-store throughput: put and get of N random objects (default 256 × 2 MiB, the backup block
// size) at several concurrencies, against an FsObjectStore on local disk and an S3ObjectStore on a
// real Ceph radosgw. See README.md.
//
//   npm run bench:objectstore -w tools/bench -- [--count 256] [--size 2MiB] [--concurrency 1,8,32]
//                                                [--stores fs,s3] [--fs-dir /tmp] [--json]
// Options: objectstore-options.ts.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import { S3ObjectStore } from '@convoy/objectstore/s3';
import { makePayload, runBenchmark, warmUp, type Payload, type RunResult } from './measure.js';
import { Radosgw } from './radosgw.js';
import { handleInterrupts, log, runMain } from './bench-main.js';
import { parseCommandLine } from './cli-args.js';
import { USAGE, parseOptions, type BenchOptions, type StoreKind } from './objectstore-options.js';

const MiB = 1024 * 1024;

/** A store kind ready for runs: opens a store for one concurrency; teardown when all are done. */
interface Target {
  open(concurrency: number, signal: AbortSignal): Promise<ObjectStore>;
  teardown(): Promise<void>;
}

async function main(): Promise<number> {
  const options = parseCommandLine('objectstore.ts', USAGE, parseOptions);
  if (typeof options === 'number') return options;

  const syncCleanups: (() => void)[] = [];
  const interrupt = handleInterrupts(() => {
    for (const cleanup of syncCleanups.reverse()) cleanup();
  });
  const onExit = (): void => syncCleanups.forEach((cleanup) => cleanup());
  process.on('exit', onExit);

  const loadBefore = os.loadavg()[0] ?? 0;
  if (loadBefore > os.cpus().length / 2) {
    log(`load average is ${loadBefore.toFixed(2)} on ${os.cpus().length} CPUs: other work on this machine will skew the numbers`);
  }
  const results: RunResult[] = [];
  try {
    log(`generating ${options.count} random objects of ${formatBytes(options.objectBytes)}`);
    const payload = makePayload(options.count, options.objectBytes);
    for (const kind of options.stores) {
      interrupt.signal.throwIfAborted();
      const target = kind === 'fs' ? await fsTarget(options.fsDir, syncCleanups) : await s3Target(options, syncCleanups, interrupt.signal);
      try {
        const store = await target.open(1, interrupt.signal);
        try {
          await warmUp(store, payload.bodies[0] as Buffer, interrupt.signal);
        } finally {
          await store.close();
        }
        for (const concurrency of options.concurrency) {
          interrupt.signal.throwIfAborted();
          results.push(await runOne(kind, target, payload, concurrency, options.rounds, interrupt.signal));
        }
      } finally {
        await target.teardown();
      }
    }
  } catch (err) {
    return interrupt.exitCode(err, 'interrupted; everything started was stopped');
  } finally {
    interrupt.stop();
    process.off('exit', onExit);
  }

  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    count: options.count,
    objectBytes: options.objectBytes,
    rounds: options.rounds,
    exposeGc: globalThis.gc !== undefined,
    /** 1-minute load average before and after the runs (other work on the machine skews results). */
    loadAverage: { before: loadBefore, after: os.loadavg()[0] ?? 0 },
  };
  log(`1-minute load average ${meta.loadAverage.before.toFixed(2)} before, ${meta.loadAverage.after.toFixed(2)} after (${meta.cpus} CPUs)`);
  if (options.json) process.stdout.write(`${JSON.stringify({ meta, results }, null, 2)}\n`);
  else process.stdout.write(formatTable(results, meta.count, meta.objectBytes, meta.rounds));
  return 0;
}

async function runOne(
  kind: StoreKind,
  target: Target,
  payload: Payload,
  concurrency: number,
  rounds: number,
  signal: AbortSignal,
): Promise<RunResult> {
  const store = await target.open(concurrency, signal);
  try {
    return await runBenchmark(store, payload, { store: kind, concurrency, rounds, prefix: `bench/c${concurrency}`, signal, log });
  } finally {
    await store.close();
  }
}

async function fsTarget(parent: string, syncCleanups: (() => void)[]): Promise<Target> {
  const dir = await mkdtemp(path.join(path.resolve(parent), 'convoy-bench-fs-'));
  syncCleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  log(`fs store in ${dir}`);
  return {
    open: () => new FsObjectStore(dir).open(),
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
}

async function s3Target(options: BenchOptions, syncCleanups: (() => void)[], signal: AbortSignal): Promise<Target> {
  const external = process.env.CONVOY_BENCH_S3_ENDPOINT;
  let radosgw: Radosgw | undefined;
  let endpoint: string;
  if (external === undefined || external === '') {
    // Each round's objects are deleted before the next; leave the in-memory OSD room for two.
    const osdBytes = Math.max(2 * 1024 * MiB, 2 * options.count * options.objectBytes + 1024 * MiB);
    radosgw = new Radosgw({ osdBytes, log });
    syncCleanups.push(radosgw.stopSync);
    endpoint = await radosgw.start(signal);
  } else {
    endpoint = external;
    log(`using the S3 server at ${endpoint} (CONVOY_BENCH_S3_ENDPOINT)`);
  }
  const region = process.env.CONVOY_BENCH_S3_REGION ?? 'us-east-1';
  const credentials = {
    accessKeyId: process.env.CONVOY_BENCH_S3_ACCESS_KEY ?? 'AKTEST',
    secretAccessKey: process.env.CONVOY_BENCH_S3_SECRET_KEY ?? 'SKTEST',
  };
  const bucket = `convoy-bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const admin = new S3Client({
    endpoint,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let created = false;
  const teardown = async (): Promise<void> => {
    try {
      // The bucket is empty by now (each run deletes its objects); on our own radosgw it goes anyway.
      if (created && radosgw === undefined) {
        await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
          log(`could not delete bucket ${bucket} on ${endpoint}: ${String(err)}`);
        });
      }
      admin.destroy();
    } finally {
      await radosgw?.stop();
    }
  };
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    created = true;
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  log(`s3 store in bucket ${bucket} at ${endpoint}`);
  if (Math.max(...options.concurrency) > 50) log('the S3 SDK keeps at most 50 sockets per client: concurrency above 50 queues there');
  return {
    open: (concurrency, openSignal) =>
      new S3ObjectStore(
        { kind: 's3', bucket, region, prefix: 'convoy-bench' },
        // The store's request queue must not be what limits the run: at least the bench concurrency.
        { endpoint, region, credentials, forcePathStyle: true, concurrency: Math.max(concurrency, 1) },
      ).open(openSignal),
    teardown,
  };
}

function formatBytes(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function formatTable(results: RunResult[], count: number, objectBytes: number, rounds: number): string {
  const header = ['store', 'concurrency', 'put MB/s', 'put ops/s', 'get MB/s', 'get ops/s'];
  const rows = results.map((r) => [
    r.store,
    String(r.concurrency),
    r.put.mbPerSec.toFixed(1),
    r.put.opsPerSec.toFixed(1),
    r.get.mbPerSec.toFixed(1),
    r.get.opsPerSec.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const total =
    `${count} objects × ${formatBytes(objectBytes)} (${((count * objectBytes) / MiB).toFixed(0)} MiB) per round; ` +
    `median of ${rounds} round${rounds === 1 ? '' : 's'}; MB = 10^6 bytes`;
  return [total, '', line(header), rule, ...rows.map(line), ''].join('\n');
}

runMain(main);
