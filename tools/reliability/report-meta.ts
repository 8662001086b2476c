// What a report says about the run besides the trials: when, where, with what.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { REPO_ROOT, fromSource } from './convoy.js';
import type { RunConfig } from './config.js';
import { DEFAULT_LEASE_TTL_MS } from './lease-expiry.js';

export interface RunMeta {
  seed: number;
  size: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: string;
  node: string;
  radosgw: string;
  commit: string;
  cli: string;
  leases: string;
  /** vitest's own count of tests, including any that wrote no record (a set-up that failed). */
  tests: { passed: number; failed: number; skipped: number };
}

const sh = (cmd: string, args: string[]): string => {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
};

/** The commit checked out and how many tracked files differ from it (taken when the run starts). */
export function codeState(): string {
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no'])
    .split('\n')
    .filter((l) => l !== '').length;
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  return `${commit}${dirty > 0 ? ` with ${dirty} uncommitted tracked file(s) in the tree` : ''}`;
}

export function runMeta(config: RunConfig, startedAt: Date, code: string, tests: RunMeta['tests']): RunMeta {
  const finished = new Date();
  const cpus = os.cpus();
  return {
    seed: config.seed,
    size: config.size.name,
    command: config.command,
    startedAt: startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationS: Math.round((finished.getTime() - startedAt.getTime()) / 1000),
    machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}`,
    node: process.version,
    radosgw:
      sh('radosgw', ['--version'])
        .split('\n')[0]
        ?.replace(/\s*\([0-9a-f]{20,}\)/, '') || 'unknown',
    commit: code,
    cli: fromSource()
      ? 'apps/backup/src/main.ts run from TypeScript sources (CONVOY_RELIABILITY_CLI=source)'
      : 'node apps/backup/bin/convoy-backup.cjs (the build in apps/backup/dist, bundled into dist/bundle)',
    leases:
      `crash trials and pause trials "past the lease": ${config.size.leaseTtlMs / 1000} s, forced by tools/reliability/lease-ttl.ts (a load hook; no file changed); ` +
      `faulty-S3 trials: ${config.size.s3faults.leaseTtlMs / 1000} s, the same way; ` +
      `lease-expiry, concurrency and "within the lease" pause trials: the CLI's own ${DEFAULT_LEASE_TTL_MS / 1000} s`,
    tests,
  };
}
