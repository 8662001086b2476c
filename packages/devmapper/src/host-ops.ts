import fs from 'node:fs/promises';
import { execText } from '@convoy/daemon-kit';
import { invalidArgument } from './errors.js';

export interface BlockDeviceInfo {
  major: number;
  minor: number;
  /** Bytes. */
  size: number;
}

/**
 * Everything besides device-mapper ioctls that the driver asks of the host: loop devices,
 * filesystems, mounts and the thin-provisioning-tools. A port, like DmApi, so unit tests run the
 * driver against FakeHostOps on a machine without device-mapper.
 */
export interface HostOps {
  /** Attaches a file to a loop device, or returns the loop device it is already attached to. */
  attachLoop(file: string): Promise<string>;
  detachLoop(device: string): Promise<void>;
  /** major:minor and size of a block device (a loop device, a disk, /dev/mapper/…). */
  blockDevice(path: string): Promise<BlockDeviceInfo>;
  makeFilesystem(device: string, fsType: string): Promise<void>;
  mount(device: string, mountpoint: string, fsType: string, options: readonly string[]): Promise<void>;
  unmount(mountpoint: string): Promise<void>;
  /** Where the device major:minor is mounted (from /proc/self/mountinfo). */
  mountsOf(major: number, minor: number): Promise<string[]>;
  /**
   * `thin_delta -m --snap1 A --snap2 B <metadata device>`: the XML diff of two thin devices,
   * read from the pool's metadata snapshot (the caller holds one: reserve_metadata_snap).
   */
  thinDelta(metadataDevice: string, snap1: number, snap2: number): Promise<string>;
  /** `thin_ls -m`: the thin device ids in the pool's metadata snapshot. */
  thinList(metadataDevice: string): Promise<number[]>;
}

/** mkfs flags for a thin volume (see README: why the inode tables are left to read as zeros). */
export function mkfsArgs(fsType: string, device: string): string[] {
  switch (fsType) {
    case 'ext4':
    case 'ext3':
      return ['-q', '-F', '-E', 'nodiscard,lazy_itable_init=1,lazy_journal_init=1', device];
    case 'xfs':
      return ['-q', '-f', '-K', device];
    default:
      return [device];
  }
}

/**
 * Mount options for a thin volume: ext4 must not zero its inode tables in the background; xfs
 * must accept a restored copy whose filesystem UUID equals a mounted original's.
 */
export function mountOptions(fsType: string): string[] {
  if (fsType === 'ext4') return ['noinit_itable'];
  if (fsType === 'xfs') return ['nouuid'];
  return [];
}

export const SUPPORTED_FS = ['ext4', 'ext3', 'xfs'] as const;

/** HostOps on Linux: util-linux (losetup, mount), e2fsprogs/xfsprogs, thin-provisioning-tools. */
export class LinuxHostOps implements HostOps {
  async attachLoop(file: string): Promise<string> {
    const existing = (await execText('losetup', ['-j', file])).split('\n')[0] ?? '';
    const dev = /^(\/dev\/loop\d+):/.exec(existing)?.[1];
    if (dev !== undefined) return dev;
    return (await execText('losetup', ['-f', '--show', file])).trim();
  }

  async detachLoop(device: string): Promise<void> {
    await execText('losetup', ['-d', device]);
  }

  async blockDevice(path: string): Promise<BlockDeviceInfo> {
    const st = await fs.stat(path);
    if (!st.isBlockDevice())
      throw invalidArgument(
        `${path} is not a block device`,
        'name a block device (dm.datadev, dm.metadatadev), or leave them out to use loop files',
      );
    const major = Math.floor(st.rdev / 256) & 0xfff;
    const minor = (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & 0xfff00) >>> 0);
    const sectors = Number((await fs.readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim());
    return { major, minor, size: sectors * 512 };
  }

  async makeFilesystem(device: string, fsType: string): Promise<void> {
    await execText(`mkfs.${fsType}`, mkfsArgs(fsType, device));
  }

  async mount(device: string, mountpoint: string, fsType: string, options: readonly string[]): Promise<void> {
    await execText('mount', ['-t', fsType, ...(options.length > 0 ? ['-o', options.join(',')] : []), device, mountpoint]);
  }

  async unmount(mountpoint: string): Promise<void> {
    await execText('umount', [mountpoint]);
  }

  async mountsOf(major: number, minor: number): Promise<string[]> {
    const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
    const want = `${major}:${minor}`;
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const f = line.split(' ');
      if (f[2] === want && f[4] !== undefined) out.push(unescapeMountinfo(f[4]));
    }
    return out;
  }

  async thinDelta(metadataDevice: string, snap1: number, snap2: number): Promise<string> {
    return execText('thin_delta', ['-m', '--snap1', String(snap1), '--snap2', String(snap2), metadataDevice], {
      maxOutput: 512 * 1024 * 1024,
    });
  }

  async thinList(metadataDevice: string): Promise<number[]> {
    const text = await execText('thin_ls', ['-m', '--no-headers', '-o', 'DEV', metadataDevice]);
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map(Number)
      .filter((n) => Number.isSafeInteger(n));
  }
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
