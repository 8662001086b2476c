// The object-store benchmark's command line (objectstore.ts): its usage, and its options parsed
// and checked (counts, sizes with K/M/G suffixes, concurrencies, store kinds).
import os from 'node:os';
import { UsageError, namesIn, parseFlags, positiveInt } from './cli-args.js';

const MiB = 1024 * 1024;
export const STORE_KINDS = ['fs', 's3'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export const USAGE = `usage: objectstore.ts [options]
  --count N             objects per run (default 256)
  --size BYTES          object size, suffix K/M/G = KiB/MiB/GiB (default 2MiB)
  --concurrency LIST    operations in flight, e.g. 1,8,32 (default)
  --rounds N            rounds per store and concurrency; the median is reported (default 3)
  --stores LIST         fs, s3 or fs,s3 (default)
  --fs-dir DIR          where the fs store's temporary directory goes (default ${os.tmpdir()})
  --json                print the results as JSON instead of a table
S3: CONVOY_BENCH_S3_ENDPOINT (+ _ACCESS_KEY, _SECRET_KEY, _REGION; defaults AKTEST, SKTEST,
us-east-1) names a server to use; without it a Ceph radosgw is started with tools/ceph-s3.sh.`;

export interface BenchOptions {
  count: number;
  objectBytes: number;
  concurrency: number[];
  rounds: number;
  stores: StoreKind[];
  fsDir: string;
  json: boolean;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const values = parseFlags(argv, {
    count: { type: 'string', default: '256' },
    size: { type: 'string', default: '2MiB' },
    concurrency: { type: 'string', default: '1,8,32' },
    rounds: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'fs,s3' },
    'fs-dir': { type: 'string', default: os.tmpdir() },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values === 'help') return 'help';
  const stores = namesIn(values.stores, STORE_KINDS, 'store');
  return {
    count: positiveInt(values.count, '--count', 'positive integers'),
    objectBytes: parseSize(values.size),
    concurrency: values.concurrency.split(',').map((c) => positiveInt(c.trim(), '--concurrency', 'positive integers')),
    rounds: positiveInt(values.rounds, '--rounds', 'positive integers'),
    stores: [...new Set(stores)],
    fsDir: values['fs-dir'],
    json: values.json,
  };
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`--size takes bytes with an optional K/M/G (KiB/MiB/GiB) suffix, not ${JSON.stringify(text)}`);
  const unit = { k: 1024, m: MiB, g: 1024 * MiB }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Number(m[1]) * unit;
  if (bytes < 1) throw new UsageError('--size must be at least 1 byte');
  return bytes;
}
