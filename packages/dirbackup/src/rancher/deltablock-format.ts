// Rancher Convoy v0.5.2's devicemapper ("deltablock") backups, as its objectstore/deltablock.go
// wrote them: fixed 2 MiB blocks, each stored once per volume as the gzip of the block under
// blocks/<c[0:2]>/<c[2:4]>/<c>.blk beside the volume's records, named by its checksum <c> — the
// first 64 hex digits of the block's SHA-512 (util.GetChecksum). A backup record lists
// {Offset, BlockChecksum} for every block of the snapshot that was mapped in the thin pool, sorted
// by offset and merged with the previous backup's list, so each record is complete on its own;
// blocks it does not list are zeros.
import { createHash } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ConvoyError } from '@convoy/errors';
import { z } from 'zod';
import { rancherVolumeDir } from './layout.js';
import { rancherCorrupt, type RancherBackupRecord, type RancherVolumeRecord } from './records.js';
import { rancherBackupKey, rancherVolumeKey } from './layout.js';

const gunzipAsync = promisify(gunzip);

/** objectstore.DEFAULT_BLOCK_SIZE: Convoy refused pools of any other block size for these backups. */
export const DELTABLOCK_SIZE = 2 * 1024 * 1024;

export interface DeltaBlock {
  offset: number;
  checksum: string;
}

/** util.GetChecksum: the first 64 hex digits of the SHA-512 of the block. */
export function deltablockChecksum(block: Buffer): string {
  return createHash('sha512').update(block).digest('hex').slice(0, 64);
}

/** The checksum of a block of zeros: such blocks need no fetch. */
export const ZERO_BLOCK_CHECKSUM = deltablockChecksum(Buffer.alloc(DELTABLOCK_SIZE));

export const deltablockKey = (volume: string, checksum: string): string =>
  `${rancherVolumeDir(volume)}/blocks/${checksum.slice(0, 2)}/${checksum.slice(2, 4)}/${checksum}.blk`;

const mapping = z.looseObject({ Offset: z.number().int().nonnegative(), BlockChecksum: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * The backup's block list, checked against its volume's size: offsets block-aligned, inside the
 * volume, strictly increasing (Convoy wrote them sorted and unique). Anything else is
 * CONVOY_RANCHER_RECORD_CORRUPT naming the record.
 */
export function deltablockList(b: RancherBackupRecord, v: RancherVolumeRecord): { size: number; blocks: DeltaBlock[] } {
  const volumeKey = rancherVolumeKey(v.Name);
  const backupKey = rancherBackupKey(b.VolumeName, b.Name);
  if (v.Size <= 0 || v.Size % DELTABLOCK_SIZE !== 0)
    throw rancherCorrupt(volumeKey, `a devicemapper volume's size ${v.Size} is not a positive multiple of ${DELTABLOCK_SIZE} bytes`);
  const blocks: DeltaBlock[] = [];
  let last = -1;
  for (const [i, raw] of (b.Blocks ?? []).entries()) {
    const m = mapping.safeParse(raw);
    if (!m.success) throw rancherCorrupt(backupKey, `Blocks[${i}] is not {Offset, BlockChecksum}: ${m.error.issues[0]?.message ?? ''}`);
    const { Offset: offset, BlockChecksum: checksum } = m.data;
    if (offset % DELTABLOCK_SIZE !== 0 || offset >= v.Size)
      throw rancherCorrupt(backupKey, `Blocks[${i}].Offset ${offset} is not the start of a 2 MiB block of the ${v.Size}-byte volume`);
    if (offset <= last) throw rancherCorrupt(backupKey, `Blocks[${i}].Offset ${offset} does not follow ${last} (the list is sorted)`);
    last = offset;
    blocks.push({ offset, checksum });
  }
  return { size: v.Size, blocks };
}

/** A block object the backup needs that is not in the store. */
export function deltablockMissing(key: string, backup: string): ConvoyError {
  return new ConvoyError('CONVOY_RANCHER_BLOCK_MISSING', `block ${key} of Rancher Convoy backup ${backup} is missing from the store`, {
    hint: 'the store lost that object: restore another backup of the volume (each one lists every block it needs); the target is incomplete',
    details: { key, backup },
  });
}

export function deltablockCorrupt(key: string, reason: string): ConvoyError {
  return new ConvoyError('CONVOY_RANCHER_BLOCK_CORRUPT', `block ${key} of a Rancher Convoy backup is corrupt: ${reason}`, {
    hint: 'the object was damaged in the store: restore another backup of the volume; the target is incomplete',
    details: { key },
  });
}

/** A block object's bytes decompressed and checked: 2 MiB whose checksum is the one its name and the record give. */
export async function decodeDeltablock(key: string, checksum: string, stored: Buffer): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await gunzipAsync(stored, { maxOutputLength: DELTABLOCK_SIZE + 1 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw deltablockCorrupt(key, e.code === 'ERR_BUFFER_TOO_LARGE' ? 'it holds more than 2 MiB' : `not a gzip stream (${e.message})`);
  }
  if (data.length !== DELTABLOCK_SIZE) throw deltablockCorrupt(key, `it holds ${data.length} bytes, not ${DELTABLOCK_SIZE}`);
  const got = deltablockChecksum(data);
  if (got !== checksum) throw deltablockCorrupt(key, `its content's checksum is ${got}`);
  return data;
}
