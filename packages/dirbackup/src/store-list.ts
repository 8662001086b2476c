// Every backup a store holds: ours (manifests) and Rancher Convoy v0.5.2's (its records under
// convoy-objectstore/), oldest first. One listing for `convoy-backup list` and the daemon's
// GET /v1/backups, so both show the same backups.
import { HEADER_KEY, listManifests, readHeader, type Manifest } from '@convoy/blockstore';
import type { ObjectStore } from '@convoy/objectstore';
import { hasRancherBackups, listRancherBackups, type RancherBackupInfo } from './rancher/list.js';

export interface StoreBackups {
  manifests: Manifest[];
  rancher: RancherBackupInfo[];
}

export interface StoreListOptions {
  volume?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * A backup that cannot be read (a damaged manifest or Convoy record): reported here and left out,
   * so one damaged backup does not hide the rest. `ref` names our backup, when it is one of ours.
   */
  onProblem: (error: Error, ref?: { volume: string; id: string }) => void;
  /**
   * A store that holds nothing at all (no header, nothing of Convoy's): CONVOY_STORE_EMPTY, so a
   * wrong URL says so (default), or `false`: no backups (what Rancher Convoy's list answered).
   */
  emptyIsError?: boolean;
}

export async function listStoreBackups(store: ObjectStore, o: StoreListOptions): Promise<StoreBackups> {
  const { signal } = o;
  let manifests: Manifest[] = [];
  let rancher: RancherBackupInfo[] = [];
  // A store Rancher Convoy v0.5.2 wrote has no header of ours: only its backups are listed then.
  const theirs = await hasRancherBackups(store, signal);
  const ours = (await store.stat(HEADER_KEY, { signal })) !== undefined;
  if (ours || (!theirs && o.emptyIsError !== false)) {
    await readHeader(store, signal); // checks it; a wrong URL says so instead of listing nothing
    manifests = await listManifests(store, o.volume, signal, (ref, err) => o.onProblem(err, ref));
  }
  if (theirs) rancher = await listRancherBackups(store, { volume: o.volume, signal, onProblem: (err) => o.onProblem(err) });
  return { manifests, rancher };
}
