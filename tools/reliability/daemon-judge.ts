// Campaign 5: what each interrupted operation must leave after the daemon's restart (see
// daemon-restart.ts): absent or complete, never half; running it again succeeds.
import path from 'node:path';
import { verifyStore } from './daemon-checks.js';
import type { DaemonRestartCampaign } from './daemon-restart.js';
import type { Trial } from './trial.js';
import { treeHash } from './tree.js';
import type { Reply } from './unix-http.js';

/** The model's hash of a volume created empty. */
export const EMPTY = 'empty';
/** The tree hash of an empty directory. */
export const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A create or restore: absent (then the re-run must succeed) or complete with `hash`; never half. */
export async function judgeVolume(
  c: DaemonRestartCampaign,
  trial: Trial,
  name: string,
  hash: string,
  rerun: () => Promise<Reply>,
): Promise<void> {
  let v = await c.api.volume(name);
  let exact: boolean;
  if (v !== undefined) {
    trial.check(
      'an interrupted create is absent or complete',
      v.state === undefined || v.state === 'ready',
      `${name} is listed with state ${v.state} after the restart`,
    );
    const got = await treeHash(String(v.status?.path));
    exact = trial.check(
      'an interrupted create is absent or complete',
      c.same(got, hash),
      `${name} is listed as finished but holds ${got ?? 'no directory'} instead of ${hash}`,
    );
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.code === 'CONVOY_VOLUME_EXISTS',
      `re-running the create of ${name}, which completed, answered ${again.status} ${again.code ?? ''}`,
    );
  } else {
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.status === 200,
      `${again.status} ${again.code ?? again.error ?? ''} ${again.message ?? ''}`,
    );
    v = await c.api.volume(name);
    const got = v === undefined ? undefined : await treeHash(String(v.status?.path));
    exact = trial.check('a re-run create is complete', c.same(got, hash), `${name} holds ${got ?? 'nothing'} instead of ${hash}`);
  }
  if (hash !== EMPTY && exact) trial.check('completed backup restores bit-exact', true);
  c.volumes.set(name, hash);
}

export async function judgeSnapshot(
  c: DaemonRestartCampaign,
  trial: Trial,
  name: string,
  volume: string,
  hash: string,
  rerun: () => Promise<Reply>,
): Promise<void> {
  let s = await c.api.snapshotInfo(name);
  if (s === undefined) {
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.status === 200,
      `${again.status} ${again.code ?? again.error ?? ''} ${again.message ?? ''}`,
    );
    s = await c.api.snapshotInfo(name);
  } else {
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.code === 'CONVOY_SNAPSHOT_EXISTS',
      `re-running the snapshot ${name}, which completed, answered ${again.status} ${again.code ?? ''}`,
    );
  }
  const got = s === undefined ? undefined : await treeHash(path.join(c.vfsPath, 'snapshots', s.uuid));
  trial.check('a snapshot holds the volume as it was', got === hash, `snapshot ${name} holds ${got ?? 'nothing'} instead of ${hash}`);
  c.snapshots.set(name, { volume, hash });
}

/** A backup: at most one new backup in the store; it (or the re-run's) restores bit-exact; verify is clean. */
export async function judgeBackup(c: DaemonRestartCampaign, trial: Trial, snap: string, rerun: () => Promise<Reply>): Promise<void> {
  const hash = c.snapshots.get(snap)?.hash ?? '';
  const listed = await c.api.backups(c.storeUrl);
  for (const b of c.backups.keys())
    trial.check('no completed backup lost', listed.includes(b), `${b} completed but the store no longer lists it`);
  const fresh = listed.filter((b) => !c.backups.has(b));
  trial.check('no phantom backup', fresh.length <= 1, `${fresh.length} new backups after one interrupted backup: ${fresh.join(', ')}`);
  await verifyStore(c, trial);
  if (fresh.length === 0) {
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.status === 200,
      `${again.status} ${again.code ?? again.error ?? ''} ${again.message ?? ''}`,
    );
    const url = (again.json as { url?: string } | undefined)?.url;
    if (url !== undefined) fresh.push(url);
  }
  for (const url of fresh) {
    const got = await c.api.restoredHash(url, c.scratchName());
    trial.check(
      'completed backup restores bit-exact',
      got === hash,
      typeof got === 'string'
        ? `${url} restores to ${got} instead of ${hash}`
        : `restoring ${url}: ${got.status} ${got.code ?? got.error ?? ''}`,
    );
    c.backups.set(url, hash);
  }
}

export async function judgeDelete(c: DaemonRestartCampaign, trial: Trial, name: string, rerun: () => Promise<Reply>): Promise<void> {
  const v = await c.api.volume(name);
  if (v !== undefined) {
    const got = await treeHash(String(v.status?.path));
    trial.check(
      'an interrupted delete leaves the volume whole or gone',
      c.same(got, c.volumes.get(name) ?? ''),
      `${name} is still listed but holds ${got ?? 'no directory'}`,
    );
    const again = await rerun();
    trial.check(
      're-running the interrupted operation succeeds',
      again.status === 200,
      `${again.status} ${again.code ?? again.error ?? ''} ${again.message ?? ''}`,
    );
  }
  trial.check('a deleted volume is gone', (await c.api.volume(name)) === undefined, `${name} is still listed after its delete`);
  c.volumes.delete(name);
  c.snapshots.delete(`${name}-s`);
}
