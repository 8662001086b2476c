// `convoy snapshot restore`: a vfs volume rolled back to one of its snapshots, in place (same name,
// UUID and data directory), and a new volume as a copy of a snapshot. Both copy with
// `cp -a --reflink=auto` (instant on btrfs/XFS, a full copy elsewhere).
//
// The rollback never leaves the volume without its data directory, whatever step is killed:
//   1. the snapshot is copied to <trash>/rollback-<uuid>-new (a kill here: start empties the trash);
//   2. an intent file <trash>/rollback-<uuid>.json is written atomically (fsync'ed);
//   3. data/<uuid> is renamed to <trash>/rollback-<uuid>-old, then the copy to data/<uuid>;
//   4. the intent goes, then the old data.
// A kill between the two renames of 3 leaves data/<uuid> missing and the intent present: the next
// start (finishRollbacks, before the trash is emptied) renames the copy into place, or, if the copy
// is not there, the old data back.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execQuiet as run, writeFileAtomic } from '@convoy/daemon-kit';
import { VfsError } from './errors.js';
import type { Leases } from './leases.js';
import { ADOPTED_DIR, RESERVED_DIRS } from './records.js';
import type { Snapshots } from './snapshots.js';
import type { VolumeRecords } from './volume-records.js';

export interface RollbackParts {
  volumes: VolumeRecords;
  snapshots: Snapshots;
  leases: Leases;
  /** This host's trash directory (same file system as data/). */
  scratch: string;
}

const staged = (scratch: string, uuid: string): string => path.join(scratch, `rollback-${uuid}-new`);
const previous = (scratch: string, uuid: string): string => path.join(scratch, `rollback-${uuid}-old`);
const intent = (scratch: string, uuid: string): string => path.join(scratch, `rollback-${uuid}.json`);

/** Copies a directory tree (a snapshot) into `target`, which exists and is empty. */
export async function copyTree(from: string, target: string): Promise<void> {
  await run('cp', ['-a', '--reflink=auto', '--', `${from}/.`, target]);
}

/**
 * Rolls `volume` back to `snapshot`. Refused while any host mounts it (this one included); the
 * delete intent is held throughout, so no host can mount it meanwhile (leases.ts).
 */
export async function rollBack(p: RollbackParts, volume: string, snapshot: string): Promise<void> {
  const rec = await p.volumes.finished(volume);
  const snap = await p.snapshots.finished(volume, snapshot);
  await p.leases.whileDeleting(rec, async () => {
    if (await p.leases.holds(rec)) {
      throw new VfsError('CONVOY_VOLUME_IN_USE', `volume ${volume} is mounted on this host: it cannot be rolled back under its users`, {
        hint: `stop its containers (or \`convoy umount ${volume}\`), then restore the snapshot`,
        details: { volume },
      });
    }
    await p.leases.refuseIfHeld(rec, true);
    const data = p.volumes.dataDir(rec);
    const next = staged(p.scratch, rec.uuid);
    const old = previous(p.scratch, rec.uuid);
    await fs.rm(next, { recursive: true, force: true });
    await fs.rm(old, { recursive: true, force: true });
    await run('cp', ['-a', '--reflink=auto', '--', p.snapshots.dir(snap.uuid), next]);
    const adoptedDir = rec.adopted?.dir; // an adopted volume's directory is not data/<uuid>: the intent names it
    await writeFileAtomic(intent(p.scratch, rec.uuid), `${JSON.stringify({ volume, uuid: rec.uuid, snapshot, adoptedDir })}\n`);
    await fs.rename(data, old);
    await fs.rename(next, data);
    await syncDir(path.dirname(data));
    await fs.rm(intent(p.scratch, rec.uuid));
    await fs.rm(old, { recursive: true, force: true });
  });
}

/**
 * At start, before the trash is emptied: finishes the rollbacks a kill interrupted between their
 * two renames (see the top of this file). Returns the UUIDs of the volumes it put data back for.
 */
export async function finishRollbacks(
  scratch: string,
  dataDir: (rec: { uuid: string; adopted?: { dir: string } }) => string,
): Promise<string[]> {
  const repaired: string[] = [];
  for (const e of await fs.readdir(scratch)) {
    const uuid = /^rollback-([0-9a-f-]{36})\.json$/.exec(e)?.[1];
    if (uuid === undefined) continue;
    const dir = adoptedDirOf(await fs.readFile(path.join(scratch, e), 'utf8').catch(() => ''));
    const data = dataDir(dir === undefined ? { uuid } : { uuid, adopted: { dir } });
    if (!existsSync(data)) {
      const from = existsSync(staged(scratch, uuid)) ? staged(scratch, uuid) : previous(scratch, uuid);
      if (existsSync(from)) {
        await fs.rename(from, data);
        await syncDir(path.dirname(data));
        repaired.push(uuid);
      }
    }
    await fs.rm(path.join(scratch, e), { force: true });
  }
  return repaired;
}

/** The adopted volume's directory an intent names, if it names a valid one (ADOPTED_DIR). */
function adoptedDirOf(text: string): string | undefined {
  try {
    const d = (JSON.parse(text) as { adoptedDir?: unknown }).adoptedDir;
    return typeof d === 'string' && ADOPTED_DIR.test(d) && !d.includes('..') && !(RESERVED_DIRS as readonly string[]).includes(d)
      ? d
      : undefined;
  } catch {
    return undefined;
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
