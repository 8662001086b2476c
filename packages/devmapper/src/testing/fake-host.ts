import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { DevmapperError } from '../errors.js';
import type { BlockDeviceInfo, HostOps } from '../host-ops.js';
import { DM_MAJOR, LOOP_MAJOR, type FakeKernel, type FakePool } from './fake-kernel.js';

const MARK_AT = 1024;
const mark = (fsType: string): Buffer => Buffer.from(`FAKEFS:${fsType}\n`);

/**
 * HostOps over FakeKernel: loop "devices" are symlinks to their files, mkfs writes a marker where
 * ext4 keeps its superblock (so it changes the volume's data, as mkfs does), mount checks it,
 * and thin_delta/thin_ls compute their XML and lists from the thin files — and, like the real
 * tools on a live pool, fail unless a metadata snapshot is held.
 */
export class FakeHostOps implements HostOps {
  readonly #k: FakeKernel;
  mkfsCalls = 0;

  constructor(kernel: FakeKernel) {
    this.#k = kernel;
  }

  async attachLoop(file: string): Promise<string> {
    const real = await fs.realpath(file);
    for (const [dev, f] of this.#k.loops) if (f === real) return dev;
    const dev = this.#k.newLoopPath();
    await fs.symlink(real, dev);
    this.#k.loops.set(dev, real);
    return dev;
  }

  async detachLoop(device: string): Promise<void> {
    this.#k.loops.delete(device);
    await fs.rm(device, { force: true });
  }

  async blockDevice(p: string): Promise<BlockDeviceInfo> {
    const st = await fs.stat(p);
    const name = this.#k.nameOfMapperPath(p);
    const d = name === undefined ? undefined : this.#k.devices.get(name);
    if (d !== undefined) return { major: DM_MAJOR, minor: d.minor, size: st.size };
    return { major: LOOP_MAJOR, minor: await this.#k.blockMinor(p), size: st.size };
  }

  async makeFilesystem(device: string, fsType: string): Promise<void> {
    this.mkfsCalls++;
    const fh = await fs.open(device, constants.O_RDWR);
    try {
      await fh.write(mark(fsType), 0, mark(fsType).length, MARK_AT);
    } finally {
      await fh.close();
    }
  }

  async mount(device: string, mountpoint: string, fsType: string): Promise<void> {
    if (!(await fs.stat(mountpoint)).isDirectory()) throw this.#failed(`mount: ${mountpoint} is not a directory`);
    if (this.#k.mounts.has(mountpoint)) throw this.#failed(`mount: ${mountpoint} is busy`);
    const name = this.#k.nameOfMapperPath(device) ?? '';
    const d = this.#k.devices.get(name);
    if (d?.live === undefined) throw this.#failed(`mount: ${device} does not exist`);
    const head = Buffer.alloc(mark(fsType).length);
    const fh = await fs.open(device, constants.O_RDONLY);
    try {
      await fh.read(head, 0, head.length, MARK_AT);
    } finally {
      await fh.close();
    }
    if (!head.equals(mark(fsType))) throw this.#failed(`mount: wrong fs type, bad option, bad superblock on ${device}`);
    d.openCount++;
    this.#k.mounts.set(mountpoint, name);
  }

  async unmount(mountpoint: string): Promise<void> {
    const name = this.#k.mounts.get(mountpoint);
    if (name === undefined) throw this.#failed(`umount: ${mountpoint}: not mounted`);
    this.#k.mounts.delete(mountpoint);
    const d = this.#k.devices.get(name);
    if (d !== undefined) d.openCount--;
  }

  async mountsOf(major: number, minor: number): Promise<string[]> {
    if (major !== DM_MAJOR) return [];
    return [...this.#k.mounts].filter(([, name]) => this.#k.devices.get(name)?.minor === minor).map(([mp]) => mp);
  }

  #pool(metadata: string, tool: string): Promise<FakePool> {
    return fs.realpath(metadata).then((real) => {
      const p = this.#k.pools.get(real);
      if (p === undefined) throw this.#failed(`${tool}: ${metadata} holds no pool`);
      if (!p.held) throw this.#failed(`${tool}: no metadata snapshot is held (reserve_metadata_snap first)`);
      return p;
    });
  }

  async thinList(metadata: string): Promise<number[]> {
    const p = await this.#pool(metadata, 'thin_ls');
    return [...p.thins.keys()].sort((a, b) => a - b);
  }

  async thinDelta(metadata: string, snap1: number, snap2: number): Promise<string> {
    const p = await this.#pool(metadata, 'thin_delta');
    const f1 = p.thins.get(snap1);
    const f2 = p.thins.get(snap2);
    if (f1 === undefined || f2 === undefined) throw this.#failed(`thin_delta: unknown device ${f1 === undefined ? snap1 : snap2}`);
    const [a, b] = await Promise.all([fs.readFile(f1), fs.readFile(f2)]);
    const bs = p.blockSectors * 512;
    const zero = (buf: Buffer): boolean => buf.every((x) => x === 0);
    const runs: { kind: string; begin: number; length: number }[] = [];
    for (let i = 0; i * bs < Math.max(a.length, b.length); i++) {
      const x = a.subarray(i * bs, (i + 1) * bs);
      const y = b.subarray(i * bs, (i + 1) * bs);
      const zx = x.length === 0 || zero(x);
      const zy = y.length === 0 || zero(y);
      const kind = zx && zy ? undefined : !zx && !zy ? (x.equals(y) ? 'same' : 'different') : zy ? 'left_only' : 'right_only';
      if (kind === undefined) continue;
      const last = runs.at(-1);
      if (last !== undefined && last.kind === kind && last.begin + last.length === i) last.length++;
      else runs.push({ kind, begin: i, length: 1 });
    }
    const lines = runs.map((r) => `    <${r.kind} begin="${r.begin}" length="${r.length}"/>`);
    return [
      `<superblock uuid="" time="1" transaction="${p.transactionId}" data_block_size="${p.blockSectors}" nr_data_blocks="${p.dataBlocks}">`,
      `  <diff left="${snap1}" right="${snap2}">`,
      ...lines,
      '  </diff>',
      '</superblock>',
      '',
    ].join('\n');
  }

  #failed(message: string): DevmapperError {
    return new DevmapperError('CONVOY_COMMAND_FAILED', message);
  }
}
