// Campaign 5: the checks of what the daemon must hold across restarts (see daemon-restart.ts):
// everything that completed intact, the base path consistent and listed, the backup store verified.
import path from 'node:path';
import { runCli } from './convoy.js';
import type { DaemonRestartCampaign } from './daemon-restart.js';
import type { Trial } from './trial.js';
import { treeHash } from './tree.js';
import { layoutProblems, readLayout } from './vfs-layout.js';

/** Every volume, snapshot and backup that completed is there with its content. */
export async function checkIntact(c: DaemonRestartCampaign, trial: Trial): Promise<void> {
  for (const [name, hash] of c.volumes) {
    const v = await c.api.volume(name);
    const got = v === undefined ? undefined : await treeHash(String(v.status?.path));
    trial.check(
      'no completed volume lost or changed',
      c.same(got, hash),
      `${name}: ${v === undefined ? 'gone' : `holds ${got ?? 'no directory'} instead of ${hash}`}`,
    );
  }
  for (const [name, s] of c.snapshots) {
    const info = await c.api.snapshotInfo(name);
    const got = info === undefined ? undefined : await treeHash(path.join(c.vfsPath, 'snapshots', info.uuid));
    trial.check(
      'no completed snapshot lost or changed',
      got === s.hash,
      `snapshot ${name}: ${info === undefined ? 'gone' : `holds ${got ?? 'no directory'}`}`,
    );
  }
  const listed = await c.api.backups(c.storeUrl);
  for (const b of c.backups.keys()) trial.check('no completed backup lost', listed.includes(b), `${b} is no longer listed`);
}

/** The base path is consistent (each problem reported once) and the daemon lists every volume on disk. */
export async function checkConsistent(c: DaemonRestartCampaign, trial: Trial, when: string): Promise<void> {
  const layout = await readLayout(c.vfsPath);
  // each problem once: the trial that caused it fails, not every later one
  const problems = layoutProblems(layout, [c.daemon.spec.hostId]).filter((p) => !c.reported.has(p));
  for (const p of problems) c.reported.add(p);
  trial.check('no orphan directory, no record pointing at nothing', problems.length === 0, `${when}: ${problems.join('; ')}`);
  const { volumes, problems: unreadable } = await c.api.volumes();
  trial.check(
    'the daemon lists every volume on disk',
    unreadable.length === 0 &&
      volumes
        .map((v) => v.name)
        .sort()
        .join() ===
        layout.volumes
          .map((v) => v.name)
          .sort()
          .join(),
    () =>
      `${when}: lists ${volumes.map((v) => v.name).join(',')} but the records are ${layout.volumes.map((v) => v.name).join(',')}; problems: ${unreadable.map((p) => p.message).join('; ')}`,
  );
  trial.measure('metaTempFiles', layout.tempFiles);
}

/** `convoy-backup verify --read-data` of the backup store is clean. */
export async function verifyStore(c: DaemonRestartCampaign, trial: Trial): Promise<void> {
  const r = await runCli(['verify', c.storeUrl, '--json', '--read-data'], { timeoutMs: c.size.timeoutMs });
  trial.ran(r);
  const out = r.json as { ok?: boolean; problems?: { key: string; kind: string }[] } | undefined;
  trial.check(
    'verify --read-data clean',
    r.code === 0 && out?.ok === true && (out.problems ?? []).length === 0,
    () =>
      `exit ${r.code} ${r.errorCode ?? ''} ${(out?.problems ?? []).map((p) => `${p.kind} ${p.key}`).join(', ') || r.stderr.slice(-300)}`,
  );
}
