// The reliability campaigns in one command, from the repository root:
//
//   npm run -s reliability -- [--seed N] [--full] [--only crash,encrypted,keys,forget,pause,corruption,concurrency,s3faults,lease,bugs,hostile,daemon,schedules,shared-vfs]
//                             [--out docs/reliability.md] [--no-build] [--render-only]
//
// Builds the workspace (the campaigns run the built convoy-backup), then runs the campaigns as a
// vitest run (vitest.config.ts here: radosgw is started and stopped by the shared S3 global
// setup) with the seed and size in its environment, and writes the report to --out (default
// docs/reliability.md; with --only, .test-logs/reliability.md, since a partial run is not the
// project's report). Without --seed a random seed is drawn and printed. Exit status: vitest's.
// --render-only writes the report again from the last run's saved records of that size
// (.test-logs/reliability-<size>.jsonl), e.g. after report.ts or bugs.ts changed; it runs nothing.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './convoy.js';
import { readRecords, writeReport } from './report.js';
import type { RunMeta } from './report-meta.js';

/** A tool's script, through its node_modules/.bin link (wherever its package keeps it). */
const bin = (name: string): string => realpathSync(path.join(REPO_ROOT, 'node_modules/.bin', name));

const FILES: Record<string, string[]> = {
  crash: [
    'crash-vfs-creates.test.ts',
    'crash-vfs-restore-delete.test.ts',
    'crash-vfs-maintenance.test.ts',
    'crash-s3-creates.test.ts',
    'crash-s3-restore-delete.test.ts',
    'crash-s3-maintenance.test.ts',
    'crash-vfs-dirs.test.ts',
    'crash-s3-dirs.test.ts',
  ],
  encrypted: ['crash-vfs-encrypted.test.ts', 'crash-s3-encrypted.test.ts'],
  keys: ['keys.test.ts'],
  forget: ['forget.test.ts'],
  pause: ['pause.test.ts'],
  corruption: ['corruption-vfs.test.ts', 'corruption-s3.test.ts'],
  concurrency: ['concurrency.test.ts'],
  s3faults: ['s3-faults.test.ts', 's3-faults-dirs.test.ts'],
  lease: ['lease-expiry.test.ts'],
  bugs: ['bugs.test.ts'],
  hostile: ['hostile.test.ts'],
  daemon: ['daemon-restart.test.ts'],
  schedules: ['schedules.test.ts'],
  'shared-vfs': ['shared-vfs.test.ts'],
};

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'render-only': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(
    'usage: npm run -s reliability -- [--seed N] [--full] [--only crash,encrypted,keys,forget,pause,corruption,concurrency,s3faults,lease,bugs,hostile,daemon,schedules,shared-vfs] [--out FILE] [--no-build] [--render-only]\n',
  );
  process.exit(0);
}

if (values['render-only']) {
  const size = values.full ? 'full' : 'ci';
  const results = path.join(REPO_ROOT, '.test-logs', `reliability-${size}.jsonl`);
  const meta = JSON.parse(readFileSync(`${results}.meta.json`, 'utf8')) as RunMeta;
  const out = path.resolve(REPO_ROOT, values.out ?? 'docs/reliability.md');
  writeReport(out, meta, readRecords(results));
  process.stderr.write(
    `reliability: ${path.relative(REPO_ROOT, out)} written again from ${path.relative(REPO_ROOT, results)} (seed ${meta.seed}, ${meta.finishedAt})\n`,
  );
  process.exit(0);
}

const seed = values.seed === undefined ? randomInt(0, 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
  process.stderr.write(`reliability: --seed must be an integer in [0, 2^32), got ${values.seed}\n`);
  process.exit(2);
}
const only = values.only
  ?.split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
for (const name of only ?? []) {
  if (FILES[name] === undefined) {
    process.stderr.write(`reliability: --only takes ${Object.keys(FILES).join(', ')}; got ${name}\n`);
    process.exit(2);
  }
}
const size = values.full ? 'full' : 'ci';
const report = path.resolve(REPO_ROOT, values.out ?? (only === undefined ? 'docs/reliability.md' : '.test-logs/reliability.md'));
const command = [
  'npm run -s reliability --',
  '--seed',
  String(seed),
  ...(values.full ? ['--full'] : []),
  ...(only === undefined ? [] : ['--only', only.join(',')]),
  ...(values.out === undefined ? [] : ['--out', values.out]),
].join(' ');
process.stderr.write(
  `reliability: seed ${seed}, size ${size}${only === undefined ? '' : `, only ${only.join(',')}`}\nreliability: to run it again: ${command}\n`,
);

if (!values['no-build']) {
  const build = spawnSync(process.execPath, [bin('nx'), 'run-many', '-t', 'build', '--output-style=static'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NX_NO_CLOUD: 'true' },
  });
  if (build.status !== 0) {
    process.stderr.write(
      'reliability: the build failed; the campaigns run the built CLI (set CONVOY_RELIABILITY_CLI=source and pass --no-build to run the sources instead)\n',
    );
    process.exit(1);
  }
}

const logs = path.join(REPO_ROOT, '.test-logs');
const vitest = spawnSync(
  process.execPath,
  [
    bin('vitest'),
    'run',
    '--config',
    path.join(REPO_ROOT, 'tools/reliability/vitest.config.ts'),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${path.join(logs, `reliability-${size}.json`)}`,
    ...(only === undefined ? [] : only.flatMap((name) => FILES[name] ?? [])),
  ],
  {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      RELIABILITY_SEED: String(seed),
      RELIABILITY_SIZE: size,
      RELIABILITY_RESULTS: path.join(logs, `reliability-${size}.jsonl`),
      RELIABILITY_REPORT: report,
      RELIABILITY_COMMAND: command,
      // The full campaigns keep more in radosgw's in-memory OSD than the test default of 2 GiB.
      ...(size === 'full' && process.env.CEPH_S3_BYTES === undefined ? { CEPH_S3_BYTES: String(4 * 2 ** 30) } : {}),
    },
  },
);
process.stderr.write(`reliability: seed ${seed}; report in ${path.relative(REPO_ROOT, report)}; to run it again: ${command}\n`);
process.exit(vitest.status ?? 1);
