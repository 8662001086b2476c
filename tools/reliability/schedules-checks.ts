// Scheduled backups (schedules.ts): the policy as the daemon shows it and keeps it on disk, waiting
// for a run to end, and the checks after a run a kill interrupted: no leftover snapshot, the policy
// not stuck, retention kept no more than it should and removed nothing it should keep, every
// backup of the volume restores bit-exact, verify --read-data clean.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from './convoy.js';
import type { DaemonApi } from './daemon-api.js';
import type { DaemonProcess } from './daemon-process.js';
import type { Trial } from './trial.js';
import { layoutProblems, readLayout } from './vfs-layout.js';

export interface PolicyView {
  volume: string;
  nextRun: number;
  running?: boolean;
  lastRun?: { at: string; outcome: 'ok' | 'failed'; url?: string; removed?: number; error?: { code: string; message: string } };
}

/** GET /v1/schedules: the volume's policy (undefined when it has none or the daemon does not answer). */
export async function policyOf(d: DaemonProcess, volume: string): Promise<PolicyView | undefined> {
  const r = await d.control.call('GET', '/v1/schedules');
  if (r.status !== 200) return undefined;
  return (r.json as { schedules: PolicyView[] }).schedules.find((p) => p.volume === volume);
}

/** The policy file under --root (docs/schedules.md): <root>/schedules/<volume>.json. */
export const policyFile = (root: string, volume: string): string => path.join(root, 'schedules', `${volume}.json`);

export async function readPolicyFile(root: string, volume: string): Promise<PolicyView & Record<string, unknown>> {
  return JSON.parse(await fs.readFile(policyFile(root, volume), 'utf8')) as PolicyView & Record<string, unknown>;
}

/**
 * Waits, within `deadlineMs`, for a run of `volume` that started at or after `since` to be
 * recorded with the policy and no run to be going: 'done'; 'exited' when the daemon died first
 * (a kill); 'timeout' otherwise. It asks the daemon every 100 ms: the run's end is a state of the
 * daemon, not an event it reports to anyone.
 */
export async function waitForRun(
  d: DaemonProcess,
  volume: string,
  since: number,
  deadlineMs: number,
): Promise<'done' | 'exited' | 'timeout'> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    if (!d.running) return 'exited';
    const p = await policyOf(d, volume);
    if (p?.lastRun !== undefined && p.running !== true && Date.parse(p.lastRun.at) >= since) return 'done';
    await sleep(100);
  }
  return d.running ? 'timeout' : 'exited';
}

/** The policy shows a run since `since` that went well, nothing running, the next run ahead. */
export async function checkPolicy(d: DaemonProcess, trial: Trial, volume: string, since: number): Promise<PolicyView | undefined> {
  const p = await policyOf(d, volume);
  trial.check(
    '`convoy backup schedules` shows the policy with its last run ok and nothing stuck (not running, next run ahead)',
    p !== undefined && p.running !== true && p.lastRun?.outcome === 'ok' && Date.parse(p.lastRun.at) >= since && p.nextRun > Date.now(),
    () => `the policy is ${JSON.stringify(p ?? 'gone')}`,
  );
  return p;
}

/** No snapshot of a scheduled run is left, in the daemon's list or on the base path; the base path is consistent. */
export async function checkNoLeftovers(d: DaemonProcess, trial: Trial, volume: string): Promise<void> {
  const r = await d.control.call('GET', '/v1/snapshots');
  const names = r.status === 200 ? (r.json as { snapshots: { name: string }[] }).snapshots.map((s) => s.name) : ['(no answer)'];
  const layout = await readLayout(d.spec.vfsPath);
  const left = [...names, ...layout.snapshots.map((s) => s.name)].filter((n) => n.startsWith(`sched-${volume}-`) || n === '(no answer)');
  trial.check('no snapshot of a scheduled run is left', left.length === 0, `left: ${[...new Set(left)].join(', ')}`);
  const problems = layoutProblems(layout, [d.spec.hostId]);
  trial.check('no orphan directory, no record pointing at nothing', problems.length === 0, problems.join('; '));
}

/** `convoy-backup verify --read-data` of the (encrypted) store is clean. */
export async function verifyEncrypted(trial: Trial, url: string, password: string, timeoutMs: number): Promise<void> {
  const r = trial.ran(await runCli(['verify', url, '--json', '--read-data'], { timeoutMs, env: { CONVOY_PASSWORD: password } }));
  const out = r.json as { ok?: boolean; problems?: { key: string; kind: string }[] } | undefined;
  trial.check(
    'verify --read-data clean',
    r.code === 0 && out?.ok === true && (out.problems ?? []).length === 0,
    () =>
      `exit ${r.code} ${r.errorCode ?? ''} ${(out?.problems ?? []).map((p) => `${p.kind} ${p.key}`).join(', ') || r.stderr.slice(-300)}`,
  );
}

/**
 * The volume's backups in the store against what the campaign knows (`made`: every backup a run
 * made, oldest first, with the hash of the volume it was taken of): one gone only
 * when `keep` newer ones are listed (retention removed it), no more than `keep` listed, each
 * listed one restores bit-exact through the daemon. Answers the URLs listed.
 */
export async function checkBackups(
  api: DaemonApi,
  trial: Trial,
  o: { dest: string; made: readonly { url: string; hash: string }[]; keep: number; scratch: () => string },
): Promise<string[]> {
  const listed = await api.backups(o.dest);
  const known = new Map(o.made.map((b) => [b.url, b.hash]));
  o.made.forEach((b, i) => {
    if (listed.includes(b.url)) return;
    const newer = o.made.slice(i + 1).filter((x) => listed.includes(x.url)).length;
    trial.check(
      'a backup is gone only when retention removed it (--keep-last newer ones are listed)',
      newer >= o.keep,
      `${b.url} is gone with ${newer} newer listed`,
    );
  });
  trial.check(`retention keeps no more than --keep-last`, listed.length <= o.keep, `${listed.length} backups listed: ${listed.join(', ')}`);
  for (const url of listed) {
    const want = known.get(url) ?? 'a backup no run made';
    const got = await api.restoredHash(url, o.scratch());
    trial.check(
      'completed backup restores bit-exact',
      got === want,
      typeof got === 'string'
        ? `${url} restores to ${got} instead of ${want}`
        : `restoring ${url}: ${got.status} ${got.code ?? got.error ?? ''}`,
    );
  }
  return listed;
}
