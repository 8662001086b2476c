// The backup bench's large-volume row: the same data as the 1 GiB volume (same layout and
// generators), spread over a sparse file of --big size (default 64 GiB: one 2 MiB region every
// 128 MiB, holes between), backed up in full and restored by Convoy only, to show that peak RSS
// does not grow with the volume. The restore must equal the volume and leave the holes as holes.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { nextData } from '@convoy/blockstore';
import { backupArgs, backupUrlOf, measureConvoy, prepareStore, restoreArgs, type ConvoyLaunch } from './backup-convoy.js';
import { duBytes, type Measured } from './backup-exec.js';
import type { ConvoyFrontend } from './backup-peers.js';
import { REGION_BYTES, forEachRegion, writeVolume, type Placement, type VolumeLayout } from './backup-volume.js';

export type BigStep = 'big-full' | 'big-restore';

export interface BigStepResult extends Omit<Measured, 'stdout'> {
  tool: ConvoyFrontend;
  step: BigStep;
  /** du -sb of the store after the step. */
  storedBytes: number;
  /** Bytes the file holds on disk (st_blocks × 512): the restored file for a restore, the volume for a backup. */
  allocatedBytes: number;
}

/** The placement of `layout`'s regions in a file of `fileSize`: evenly spread, 2 MiB-aligned. */
export function spreadOut(layout: VolumeLayout, fileSize: number): Placement {
  const stride = Math.floor(fileSize / layout.regions.length / REGION_BYTES) * REGION_BYTES;
  if (stride < REGION_BYTES) throw new Error(`--big ${fileSize} bytes cannot hold ${layout.regions.length} regions of 2 MiB`);
  return { stride, fileSize };
}

export async function allocatedBytes(file: string): Promise<number> {
  return (await fs.stat(file)).blocks * 512;
}

/**
 * Checks that `file` holds the layout's regions at the placement and zeros everywhere else (its
 * data read in full; its holes, which read as zeros, skipped); throws naming the first difference.
 * Answers the seconds it took.
 */
export async function verifySpread(file: string, layout: VolumeLayout, placement: Placement): Promise<number> {
  const began = performance.now();
  const fh = await fs.open(file, constants.O_RDONLY);
  const piece = 16 * 1024 * 1024;
  const buf = Buffer.allocUnsafe(piece);
  const zeros = Buffer.alloc(piece);
  const read = async (offset: number, length: number): Promise<Buffer> => {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${file} ends at ${offset + done}, expected ${placement.fileSize} bytes`);
      done += bytesRead;
    }
    return buf.subarray(0, length);
  };
  // Holes read as zeros: only the data in [from, to) is read (lseek SEEK_DATA), not 63 GiB of holes.
  const zerosUpTo = async (from: number, to: number): Promise<void> => {
    for (let at = from; at < to; at += piece) {
      at = Math.max(at, nextData(fh.fd, at));
      if (at >= to) return;
      const n = Math.min(piece, to - at);
      if (!(await read(at, n)).equals(zeros.subarray(0, n)))
        throw new Error(`${file} has non-zero bytes in [${at}, ${at + n}), a hole in the volume`);
    }
  };
  try {
    if ((await fh.stat()).size !== placement.fileSize) throw new Error(`${file} is not ${placement.fileSize} bytes long`);
    let end = 0;
    await forEachRegion(layout, async (i, region) => {
      const at = i * placement.stride;
      await zerosUpTo(end, at);
      if (!(await read(at, region.length)).equals(region)) throw new Error(`${file} differs from the volume in region ${i} at ${at}`);
      end = at + region.length;
    });
    await zerosUpTo(end, placement.fileSize);
  } finally {
    await fh.close();
  }
  return (performance.now() - began) / 1000;
}

/**
 * Writes the sparse volume into `work`, then per frontend a full backup into a vfs store and a
 * restore into a new file, each measured; checks the restore and reports its allocated bytes.
 */
export async function runBig(r: {
  work: string;
  layout: VolumeLayout;
  placement: Placement;
  frontends: readonly ConvoyFrontend[];
  launch: (frontend: ConvoyFrontend) => ConvoyLaunch;
  prepare: (what: string) => Promise<void>;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<BigStepResult[]> {
  const GiB = 1024 ** 3;
  const volume = path.join(r.work, 'big', 'volume.img');
  await fs.mkdir(path.dirname(volume), { recursive: true });
  r.log(
    `writing a sparse ${(r.placement.fileSize / GiB).toFixed(0)} GiB volume: the ${r.layout.regions.length} regions of the ${(r.layout.size / GiB).toFixed(2)} GiB volume, one every ${r.placement.stride / 2 ** 20} MiB`,
  );
  await writeVolume(volume, r.layout, r.placement);
  const volumeAllocated = await allocatedBytes(volume);
  const out: BigStepResult[] = [];
  for (const frontend of r.frontends) {
    const launch = r.launch(frontend);
    const store = path.join(r.work, 'big', `${frontend}-store`);
    await prepareStore(launch, store);
    await r.prepare(`${frontend} big full backup`);
    const backup = await measureConvoy(
      launch,
      `${frontend} big-full`,
      backupArgs(frontend, { store, source: volume, volume: 'big', full: true }),
    );
    const url = backupUrlOf(backup.stdout, `${frontend} big full backup`);
    const { stdout: _b, ...b } = backup;
    out.push({ ...b, tool: frontend, step: 'big-full', storedBytes: await duBytes(store, r.signal), allocatedBytes: volumeAllocated });
    r.log(
      `${frontend} big full backup: ${backup.seconds.toFixed(2)} s, cpu ${(backup.userSeconds + backup.systemSeconds).toFixed(2)} s, ` +
        `peak RSS ${(backup.maxRssKiB / 1024).toFixed(0)} MB; other processes used ${backup.otherCpuSeconds.toFixed(1)} CPU s meanwhile`,
    );
    const target = path.join(r.work, 'big', `${frontend}-restored.img`);
    await r.prepare(`${frontend} big restore`);
    const restore = await measureConvoy(launch, `${frontend} big-restore`, restoreArgs(frontend, store, url, target));
    const { stdout: _r, ...rest } = restore;
    const allocated = await allocatedBytes(target);
    out.push({ ...rest, tool: frontend, step: 'big-restore', storedBytes: await duBytes(store, r.signal), allocatedBytes: allocated });
    r.log(
      `${frontend} big restore: ${restore.seconds.toFixed(2)} s, cpu ${(restore.userSeconds + restore.systemSeconds).toFixed(2)} s, others ${restore.otherCpuSeconds.toFixed(1)} s, peak RSS ${(restore.maxRssKiB / 1024).toFixed(0)} MB, ${(allocated / 2 ** 20).toFixed(0)} MiB allocated of ${(r.placement.fileSize / 2 ** 20).toFixed(0)} MiB`,
    );
    const seconds = await verifySpread(target, r.layout, r.placement);
    r.log(`${frontend} big restore verified (read back in ${seconds.toFixed(0)} s)`);
    await fs.rm(target, { force: true });
    await fs.rm(store, { recursive: true, force: true });
  }
  await fs.rm(volume, { force: true });
  return out;
}
