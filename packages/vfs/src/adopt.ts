// Rancher Convoy v0.5.2's volumes on the same vfs.path, adopted in place at start: Convoy kept
// each volume's files in <base>/<name>/ and its record in <base>/config/vfs_volume_<name>.json.
// Adopting writes our record (only-if-absent, so one host of a shared path wins) whose `adopted.dir`
// names that directory, then a marker meta/adopted/<name>.json; nothing is copied and Convoy's
// files are left as they are. A name with a marker is never adopted again (a volume deleted here
// does not come back from Convoy's leftover config). Convoy's directories are never in data/ or
// snapshots/, so the clean-up at start (reconcile.ts) never sees them; a Convoy volume named as
// one of our own directories (meta, data, snapshots, trash) would be, so the start refuses it.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRubyDate } from '@convoy/dirbackup';
import { ObjectExistsError } from '@convoy/objectstore';
import { z } from 'zod';
import { VfsError } from './errors.js';
import { ADOPTED_DIR, RESERVED_DIRS, recordBytes, volKey, type MetaRecords, type VolumeRecord } from './records.js';
import type { VolumeRecords } from './volume-records.js';

export const CONVOY_FORMAT = 'rancher-convoy-v0.5.2';
const CONFIG_FILE = /^vfs_volume_(.+)\.json$/;

/** The fields of Convoy's vfs volume record we use (vfs/vfs_storage.go, `Volume`). */
const convoyVolumeSchema = z.looseObject({
  Name: z.string().min(1),
  Path: z.string(),
  CreatedTime: z.string(),
  Size: z.number().optional(),
});

export interface ConvoyVolume {
  name: string;
  /** Relative to the base path: config/vfs_volume_<name>.json. */
  config: string;
  createdAt: string | undefined;
  size: number | undefined;
}

/** What the start adopted, and the Convoy volumes it left alone (and why). */
export interface Adoption {
  adopted: string[];
  skipped: { name: string; reason: string }[];
}

const markerSchema = z.object({ name: z.string(), uuid: z.uuid(), dir: z.string(), config: z.string(), at: z.string(), by: z.string() });
const markerKey = (name: string): string => `adopted/${name}.json`;

/**
 * Convoy's volume records under <base>/config (none without that directory). Read before anything
 * is created on the base path: a Convoy volume named as one of our directories is refused
 * (CONVOY_VFS_ADOPT_CONFLICT), a record that does not parse is CONVOY_RECORD_CORRUPT.
 */
export async function convoyVolumes(base: string): Promise<ConvoyVolume[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(path.join(base, 'config'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ConvoyVolume[] = [];
  for (const e of entries.sort()) {
    const name = CONFIG_FILE.exec(e)?.[1];
    if (name === undefined) continue; // its .lock files, vfs.cfg
    const file = path.join(base, 'config', e);
    const corrupt = (reason: string): VfsError =>
      new VfsError('CONVOY_RECORD_CORRUPT', `Rancher Convoy's record of volume ${name} ${file} is corrupt: ${reason}`, {
        hint: 'repair it, or move it out of the config directory to leave that Convoy volume alone (its files stay where they are)',
        details: { file, volume: name },
      });
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (err) {
      throw corrupt(err instanceof SyntaxError ? `not JSON (${err.message})` : String(err));
    }
    const r = convoyVolumeSchema.safeParse(parsed);
    if (!r.success) throw corrupt(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    if (r.data.Name !== name) throw corrupt(`it names volume ${JSON.stringify(r.data.Name)}`);
    if ((RESERVED_DIRS as readonly string[]).includes(name)) {
      throw new VfsError(
        'CONVOY_VFS_ADOPT_CONFLICT',
        `Rancher Convoy's volume ${name} is the directory ${path.join(base, name)}, which this driver keeps its own ${name}/ in`,
        {
          hint: `stop here: move that volume's files and ${file} elsewhere (or back it up with Rancher Convoy and delete it there), then start again`,
          details: { volume: name, file },
        },
      );
    }
    const size = r.data.Size !== undefined && r.data.Size > 0 ? r.data.Size : undefined;
    out.push({ name, config: `config/${e}`, createdAt: parseRubyDate(r.data.CreatedTime), size });
  }
  return out;
}

export interface AdoptDeps {
  base: string;
  hostId: string;
  now: () => Date;
  meta: MetaRecords;
  volumes: VolumeRecords;
}

/** Adopts each Convoy volume not adopted before (see the top of this file). */
export async function adoptConvoyVolumes(d: AdoptDeps, found: readonly ConvoyVolume[]): Promise<Adoption> {
  const result: Adoption = { adopted: [], skipped: [] };
  for (const c of found) {
    const marker = await d.meta.read(markerKey(c.name), markerSchema, {
      what: `adoption record of Rancher Convoy volume ${c.name}`,
      hint: 'it records that this volume was adopted here; repair it (name, uuid, dir, config, at, by) or remove it to adopt the volume again',
    });
    if (marker !== undefined) continue;
    const skip = (reason: string): void => void result.skipped.push({ name: c.name, reason });
    if (!ADOPTED_DIR.test(c.name)) {
      skip('its name is not a valid volume name here');
      continue;
    }
    const existing = await d.volumes.read(c.name);
    if (existing !== undefined) {
      if (existing.adopted?.dir === c.name)
        await putMarker(d, existing, c); // a start killed between the two writes
      else skip('a volume of that name exists here already');
      continue;
    }
    const st = await fs.lstat(path.join(d.base, c.name)).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) {
      skip(`${path.join(d.base, c.name)} is ${st === undefined ? 'missing' : 'not a directory'}`);
      continue;
    }
    const at = d.now().toISOString();
    const rec: VolumeRecord = {
      name: c.name,
      uuid: randomUUID(),
      createdAt: c.createdAt ?? at,
      createdBy: d.hostId,
      state: 'ready',
      adopted: { from: CONVOY_FORMAT, dir: c.name, config: c.config, at, by: d.hostId },
    };
    if (c.size !== undefined) rec.size = c.size;
    try {
      await d.meta.store.put(volKey(c.name), recordBytes(rec), { ifAbsent: true });
    } catch (err) {
      if (err instanceof ObjectExistsError) continue; // another host of the shared path adopted it (or a create took the name)
      throw err;
    }
    await putMarker(d, rec, c);
    result.adopted.push(c.name);
  }
  return result;
}

async function putMarker(d: AdoptDeps, rec: VolumeRecord, c: ConvoyVolume): Promise<void> {
  const m = { name: c.name, uuid: rec.uuid, dir: c.name, config: c.config, at: d.now().toISOString(), by: d.hostId };
  try {
    await d.meta.store.put(markerKey(c.name), recordBytes(m), { ifAbsent: true });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
  }
}
