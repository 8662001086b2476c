// Command-line options of tools/bench/backup.ts.
import { UsageError, namesIn, parseFlags, positiveInt } from './cli-args.js';
import os from 'node:os';
import path from 'node:path';
import { TOOL_NAMES, type ToolName } from './backup-peers.js';
import { REGION_BYTES } from './backup-volume.js';

const MiB = 1024 * 1024;

export const USAGE = `usage: backup.ts [options]
  --size BYTES        volume size, suffix K/M/G = KiB/MiB/GiB (default 1GiB)
  --seed TEXT         seed of the volume's content and of the change (default convoy-bench-1)
  --change PERCENT    share of the volume overwritten before the incremental (default 5)
  --tools LIST        convoy (library), convoy-cli (convoy-backup), convoy-cli-enc (convoy-backup on
                      stores made by init --encrypt), borg, restic (default: all)
  --repeat N          run everything N times and report, per tool and step, the median run (default 1)
  --quiet-wait SEC    before each step wait up to SEC seconds for other processes to use less than
                      --quiet-cpus CPUs (default 120; 0: do not wait)
  --quiet-cpus N      (default 0.3)
  --dir DIR           where the run's scratch directory goes (default ${os.tmpdir()})
  --concurrency N     Convoy's blocks in flight (default: the library's)
  --warm              do not drop the page cache before each step
  --keep              keep the scratch directory (volume, repositories)
  --json              print the results as JSON (every run's numbers too); the tables go to stderr
  --s3 on|off         the S3 rows: raw SDK PUT/GET rates and Convoy backup/restore to s3:// (default on)
  --s3-size BYTES     the S3 rows' volume, random bytes (default 1GiB)
  --s3-objects N      objects of 2 MiB for the raw PUT/GET rates (default 256)
  --s3-concurrency N  requests in flight for the raw rates and Convoy's blocks in flight (default 8)
  --big SIZE|off      the large-volume row: the volume's data spread over a sparse file of SIZE,
                      backed up and restored by Convoy (default 64GiB)
  --profile DIR       Convoy's steps run with --cpu-prof; profiles in DIR/<tool>-<step>/ (times are inflated)
Installs borgbackup, restic and GNU time with apt-get if missing (install-peers.sh).
S3: without CONVOY_BENCH_S3_ENDPOINT (+ _ACCESS_KEY, _SECRET_KEY, _REGION; defaults AKTEST, SKTEST,
us-east-1) a Ceph radosgw is started with tools/ceph-s3.sh for the S3 rows and stopped after them.`;

export interface BenchOptions {
  size: number;
  seed: string;
  changePercent: number;
  tools: ToolName[];
  repeat: number;
  quietWaitSeconds: number;
  quietCpus: number;
  dir: string;
  concurrency: number | undefined;
  warm: boolean;
  keep: boolean;
  json: boolean;
  s3: boolean;
  s3Size: number;
  s3Objects: number;
  s3Concurrency: number;
  /** Size of the sparse large volume; undefined: no large-volume row. */
  bigSize: number | undefined;
  profileDir: string | undefined;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const values = parseFlags(argv, {
    size: { type: 'string', default: '1GiB' },
    seed: { type: 'string', default: 'convoy-bench-1' },
    change: { type: 'string', default: '5' },
    tools: { type: 'string', default: TOOL_NAMES.join(',') },
    repeat: { type: 'string', default: '1' },
    'quiet-wait': { type: 'string', default: '120' },
    'quiet-cpus': { type: 'string', default: '0.3' },
    dir: { type: 'string', default: os.tmpdir() },
    concurrency: { type: 'string' },
    warm: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    s3: { type: 'string', default: 'on' },
    's3-size': { type: 'string', default: '1GiB' },
    's3-objects': { type: 'string', default: '256' },
    's3-concurrency': { type: 'string', default: '8' },
    big: { type: 'string', default: '64GiB' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values === 'help') return 'help';
  const tools = namesIn(values.tools, TOOL_NAMES, 'tool');
  const change = Number(values.change);
  if (!Number.isFinite(change) || change <= 0 || change > 100)
    throw new UsageError(`--change takes a percentage in (0, 100], not ${JSON.stringify(values.change)}`);
  const size = parseSize(values.size);
  if (size < REGION_BYTES) throw new UsageError('--size must be at least 2 MiB');
  const quietWait = Number(values['quiet-wait']);
  if (!Number.isFinite(quietWait) || quietWait < 0)
    throw new UsageError(`--quiet-wait takes seconds ≥ 0, not ${JSON.stringify(values['quiet-wait'])}`);
  const quietCpus = Number(values['quiet-cpus']);
  if (!Number.isFinite(quietCpus) || quietCpus <= 0)
    throw new UsageError(`--quiet-cpus takes a number > 0, not ${JSON.stringify(values['quiet-cpus'])}`);
  if (values.s3 !== 'on' && values.s3 !== 'off') throw new UsageError(`--s3 takes on or off, not ${JSON.stringify(values.s3)}`);
  const s3Size = parseSize(values['s3-size']);
  if (s3Size < REGION_BYTES) throw new UsageError('--s3-size must be at least 2 MiB');
  const bigSize = values.big === 'off' ? undefined : parseSize(values.big);
  if (bigSize !== undefined && bigSize < size) throw new UsageError(`--big must be at least --size (${size} bytes), or off`);
  return {
    size,
    seed: values.seed,
    changePercent: change,
    tools: TOOL_NAMES.filter((t) => tools.includes(t)),
    repeat: positiveInt(values.repeat, '--repeat'),
    quietWaitSeconds: quietWait,
    quietCpus,
    dir: values.dir,
    concurrency: values.concurrency === undefined ? undefined : positiveInt(values.concurrency, '--concurrency'),
    warm: values.warm,
    keep: values.keep,
    json: values.json,
    s3: values.s3 === 'on',
    s3Size,
    s3Objects: positiveInt(values['s3-objects'], '--s3-objects'),
    s3Concurrency: positiveInt(values['s3-concurrency'], '--s3-concurrency'),
    bigSize,
    profileDir: values.profile === undefined ? undefined : path.resolve(values.profile),
  };
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`sizes take bytes with an optional K/M/G/T (KiB/MiB/GiB/TiB) suffix, not ${JSON.stringify(text)}`);
  const unit = { k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}
