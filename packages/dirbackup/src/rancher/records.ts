// Rancher Convoy v0.5.2's JSON records (Go structs marshalled as they are, times in Go's RubyDate
// layout "Wed Dec 02 00:57:58 +0000 2026"), read through zod: a record that does not parse or fit
// is CONVOY_RANCHER_RECORD_CORRUPT naming the object, never "absent".
import { ConvoyError } from '@convoy/errors';
import { readJsonRecord, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import { rancherBackupKey, rancherVolumeKey } from './layout.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RUBY_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;

/** Go's RubyDate ("Mon Jan 02 15:04:05 -0700 2006") as an ISO 8601 UTC time, or undefined if it is not one. */
export function parseRubyDate(s: string): string | undefined {
  const m = RUBY_DATE.exec(s);
  if (m === null) return undefined;
  const [, mon, day, hh, mm, ss, sign, oh, om, year] = m;
  const month = MONTHS.indexOf(mon!);
  if (month < 0) return undefined;
  const offsetMin = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const t = Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss)) - offsetMin * 60_000;
  const d = new Date(t);
  return Number.isNaN(t) || d.getUTCDate() === 0 ? undefined : d.toISOString();
}

const rubyDate = z.string().transform((s, ctx) => {
  const iso = parseRubyDate(s);
  if (iso === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a Go RubyDate time: ${JSON.stringify(s.slice(0, 60))}` });
    return z.NEVER;
  }
  return iso;
});

export const rancherVolumeSchema = z.looseObject({
  Name: z.string().min(1),
  Driver: z.string(),
  Size: z.number().int().nonnegative(),
  CreatedTime: rubyDate,
});
export type RancherVolumeRecord = z.infer<typeof rancherVolumeSchema>;

export const rancherBackupSchema = z.looseObject({
  Name: z.string().min(1),
  Driver: z.string().optional(),
  VolumeName: z.string().min(1),
  SnapshotName: z.string(),
  SnapshotCreatedAt: z.string().optional(),
  CreatedTime: rubyDate,
  /** vfs backups: the archive's key. Deltablock (devicemapper) backups have blocks instead. */
  SingleFile: z.looseObject({ FilePath: z.string() }).optional(),
  Blocks: z.array(z.unknown()).nullable().optional(),
});
export type RancherBackupRecord = z.infer<typeof rancherBackupSchema>;

export function rancherCorrupt(key: string, reason: string): ConvoyError {
  return new ConvoyError('CONVOY_RANCHER_RECORD_CORRUPT', `Rancher Convoy record ${key} is corrupt: ${reason}`, {
    hint: 'inspect that object in the store; restore it from a copy of the store, or remove the backup with Rancher Convoy',
    details: { key },
  });
}

/** A volume's volume.cfg, or undefined when the store has no such volume. */
export function readRancherVolume(store: ObjectStore, volume: string, signal?: AbortSignal): Promise<RancherVolumeRecord | undefined> {
  const key = rancherVolumeKey(volume);
  return readJsonRecord(store, key, rancherVolumeSchema, (reason) => rancherCorrupt(key, reason), {
    signal,
    check: (r) => (r.Name === volume ? undefined : `it names volume ${JSON.stringify(r.Name)}, not ${volume}`),
  });
}

/** A backup's backup_<name>.cfg, or undefined when the store has no such backup. */
export function readRancherBackup(
  store: ObjectStore,
  volume: string,
  name: string,
  signal?: AbortSignal,
): Promise<RancherBackupRecord | undefined> {
  const key = rancherBackupKey(volume, name);
  return readJsonRecord(store, key, rancherBackupSchema, (reason) => rancherCorrupt(key, reason), {
    signal,
    check: (r) =>
      r.Name !== name
        ? `it names backup ${JSON.stringify(r.Name)}, not ${name}`
        : r.VolumeName !== volume
          ? `it names volume ${JSON.stringify(r.VolumeName)}, not ${volume}`
          : undefined,
  });
}

/** Whether the backup is one of Convoy's devicemapper ("deltablock") backups rather than a vfs archive. */
export function isDeltablock(b: RancherBackupRecord, v: RancherVolumeRecord | undefined): boolean {
  return (b.SingleFile?.FilePath ?? '') === '' || v?.Driver === 'devicemapper';
}
