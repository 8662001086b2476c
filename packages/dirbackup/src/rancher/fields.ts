// A Rancher Convoy v0.5.2 backup as Convoy itself showed it (`convoy backup inspect`, and each
// entry of `convoy backup list`): objectstore's GetBackupInfo map, strings only, keys sorted as Go
// prints a map. Times are in Go's RubyDate layout, in UTC (Convoy wrote its host's zone; the
// instant is the same); SnapshotCreatedAt is passed on as Convoy wrote it.
import { formatBackupUrl } from '@convoy/blockstore';
import type { RancherBackupInfo } from './list.js';

export interface RancherBackupFields {
  BackupName: string;
  /** The URL as Convoy accepts it (`?backup=…&volume=…`; Convoy printed the & as \u0026). */
  BackupURL: string;
  CreatedTime: string;
  /** `vfs` or `devicemapper`. */
  DriverName: string;
  SnapshotCreatedAt: string;
  SnapshotName: string;
  VolumeCreatedAt: string;
  VolumeName: string;
  /** Bytes, as a decimal string. */
  VolumeSize: string;
}

/** `storeUrl`: the store's URL without a query (vfs:///path, s3://bucket@region/prefix). */
export function rancherBackupFields(storeUrl: string, b: RancherBackupInfo): RancherBackupFields {
  return {
    BackupName: b.name,
    BackupURL: formatBackupUrl(storeUrl, b.volume, b.name),
    CreatedTime: formatRubyDate(b.created),
    DriverName: b.driver,
    SnapshotCreatedAt: b.snapshotCreated,
    SnapshotName: b.snapshot,
    VolumeCreatedAt: b.volumeCreated === '' ? '' : formatRubyDate(b.volumeCreated),
    VolumeName: b.volume,
    VolumeSize: String(b.volumeSize),
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An ISO 8601 time in Go's RubyDate layout, UTC: "Wed Dec 02 00:57:58 +0000 2026". */
export function formatRubyDate(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`;
}
