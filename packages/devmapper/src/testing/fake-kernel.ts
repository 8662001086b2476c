import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DmTarget } from '../dm-api.js';

export interface FakeDevice {
  name: string;
  minor: number;
  live: DmTarget[] | undefined;
  inactive: DmTarget[] | undefined;
  suspended: boolean;
  readOnly: boolean;
  openCount: number;
  eventNr: number;
  /** The pool a live thin-pool table runs. */
  pool: FakePool | undefined;
}

/** A thin pool's on-disk state, kept by metadata device: it outlives the pool's dm device. */
export interface FakePool {
  metadata: string;
  data: string;
  blockSectors: number;
  dataBlocks: number;
  dir: string;
  thins: Map<number, string>;
  held: boolean;
  transactionId: number;
}

export const DM_MAJOR = 253;
export const LOOP_MAJOR = 7;
const THIN_MAGIC = 27022010n;

/**
 * The simulated kernel behind FakeDmApi and FakeHostOps: dm devices and their tables, thin pools
 * (each thin device is a sparse file; a dm device node is a symlink to it, so FileSource, mkfs
 * markers and restores work on it), loop devices and mounts. Survives driver instances, as the
 * kernel survives a daemon restart.
 */
export class FakeKernel {
  readonly dir: string;
  readonly devices = new Map<string, FakeDevice>();
  readonly pools = new Map<string, FakePool>();
  /** loop device path → backing file */
  readonly loops = new Map<string, string>();
  /** mountpoint → dm device name */
  readonly mounts = new Map<string, string>();
  /** block device path (resolved) → minor under LOOP_MAJOR */
  readonly #blockMinors = new Map<string, number>();
  /** false: device-mapper is "not in the kernel" (every DmApi call fails) */
  available = true;
  #nextMinor = 0;
  #nextLoop = 0;
  /** Every message sent to a pool, in order ("pool: create_thin 1"). */
  readonly messages: string[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<FakeKernel> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-fake-dm-'));
    await fs.mkdir(path.join(dir, 'mapper'));
    return new FakeKernel(dir);
  }

  async cleanup(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  mapperPath(name: string): string {
    return path.join(this.dir, 'mapper', name);
  }

  /** The dm device name of a /dev/mapper-like path, or undefined. */
  nameOfMapperPath(p: string): string | undefined {
    return path.dirname(p) === path.join(this.dir, 'mapper') ? path.basename(p) : undefined;
  }

  newMinor(): number {
    return this.#nextMinor++;
  }

  newLoopPath(): string {
    return path.join(this.dir, `loop${this.#nextLoop++}`);
  }

  async blockMinor(p: string): Promise<number> {
    const real = await fs.realpath(p);
    let m = this.#blockMinors.get(real);
    if (m === undefined) {
      m = this.#blockMinors.size;
      this.#blockMinors.set(real, m);
    }
    return m;
  }

  async pathOfBlock(majorMinor: string): Promise<string | undefined> {
    const [maj, min] = majorMinor.split(':').map(Number);
    if (maj !== LOOP_MAJOR) return undefined;
    for (const [p, m] of this.#blockMinors) if (m === min) return p;
    return undefined;
  }

  deviceByMinor(minor: number): FakeDevice | undefined {
    for (const d of this.devices.values()) if (d.minor === minor) return d;
    return undefined;
  }

  /** The pool a live thin-pool device runs. */
  poolOfDevice(d: FakeDevice): FakePool | undefined {
    return d.live?.[0]?.type === 'thin-pool' ? d.pool : undefined;
  }

  /** Live dm devices that map thin device `id` of `pool`. */
  thinUsers(pool: FakePool, id: number): FakeDevice[] {
    return [...this.devices.values()].filter((d) => {
      const t = d.live?.[0];
      if (t?.type !== 'thin') return false;
      const [poolDev, tid] = t.params.split(' ');
      const pd = this.deviceByMinor(Number(poolDev?.split(':')[1]));
      return pd !== undefined && this.poolOfDevice(pd) === pool && Number(tid) === id;
    });
  }

  /** Formats a pool on a zeroed metadata device (as the kernel does) or opens the existing one. */
  async openPool(metadataPath: string, dataPath: string, blockSectors: number, dataBlocks: number): Promise<FakePool> {
    const key = await fs.realpath(metadataPath);
    let p = this.pools.get(key);
    if (p === undefined) {
      const fh = await fs.open(key, constants.O_RDWR);
      try {
        const head = Buffer.alloc(4096);
        await fh.read(head, 0, head.length, 0);
        if (!head.every((b) => b === 0) && head.readBigUInt64LE(32) !== THIN_MAGIC) throw new Error('superblock magic mismatch');
        head.writeBigUInt64LE(THIN_MAGIC, 32);
        await fh.write(head, 0, head.length, 0);
      } finally {
        await fh.close();
      }
      const dir = path.join(this.dir, `pool-${this.pools.size}`);
      await fs.mkdir(dir);
      p = {
        metadata: key,
        data: await fs.realpath(dataPath),
        blockSectors,
        dataBlocks,
        dir,
        thins: new Map(),
        held: false,
        transactionId: 0,
      };
      this.pools.set(key, p);
    }
    return p;
  }

  /** Used data blocks: non-zero blocks, a block shared by a snapshot and its origin counted once. */
  async usedBlocks(pool: FakePool): Promise<number> {
    const bs = pool.blockSectors * 512;
    const seen = new Set<string>();
    for (const file of pool.thins.values()) {
      const data = await fs.readFile(file);
      for (let i = 0; i * bs < data.length; i++) {
        const b = data.subarray(i * bs, (i + 1) * bs);
        if (b.every((x) => x === 0)) continue;
        seen.add(`${i}:${createHash('sha256').update(b).digest('hex')}`);
      }
    }
    return seen.size;
  }
}
