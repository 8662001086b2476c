import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PutBody, PutOptions } from '@convoy/objectstore';
import { MemoryObjectStore } from '@convoy/objectstore/testing';

const run = promisify(execFile);

/**
 * Whether this host lets us attach loop devices (root, /dev/loop-control, losetup finds a free
 * one). Checked once, synchronously, so tests can `skipIf` on it.
 */
export const loopDevicesUsable: boolean =
  process.getuid?.() === 0 && existsSync('/dev/loop-control') && spawnSync('losetup', ['--find'], { stdio: 'ignore' }).status === 0;

/** Attaches `file` to a free loop device: a real block device whose size is the file's. */
export async function attachLoop(file: string): Promise<string> {
  return (await run('losetup', ['--find', '--show', file])).stdout.trim();
}

export async function detachLoop(dev: string): Promise<void> {
  await run('losetup', ['--detach', dev]);
}

/** `length` bytes at `offset` of a file or device. */
export async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** A pid that no process has any more: `true` run to its end. */
export function deadPid(): number {
  const { pid, status } = spawnSync('true');
  if (pid === undefined || status !== 0) throw new Error('cannot run `true` to get a dead pid');
  return pid;
}

/** A memory store that tells when a restore has written its lock (it then waits or proceeds). */
export class LockWatchStore extends MemoryObjectStore {
  #waiters: (() => void)[] = [];

  restoreLockWritten(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  override async put(key: string, body: PutBody, options?: PutOptions): Promise<void> {
    await super.put(key, body, options);
    if (key.startsWith('locks/') && Buffer.isBuffer(body) && body.toString('utf8').includes('"kind":"restore"'))
      this.#waiters.splice(0).forEach((resolve) => resolve());
  }
}
