import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DevmapperDriver, type DevmapperDriverOptions } from '../index.js';
import { createFakeDevmapper, type FakeDevmapper } from './index.js';

export const MiB = 1024 * 1024;

export interface FakeEnv extends FakeDevmapper {
  dir: string;
  start(options?: Partial<DevmapperDriverOptions>): Promise<DevmapperDriver>;
  dispose(): Promise<void>;
}

/** A fake kernel plus a scratch directory; start() makes a driver on `<dir>/root` (small loop files). */
export async function fakeEnv(): Promise<FakeEnv> {
  const fake = await createFakeDevmapper();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dm-test-'));
  return {
    ...fake,
    dir,
    start: (options = {}) =>
      DevmapperDriver.start({
        root: path.join(dir, 'root'),
        dm: fake.dm,
        host: fake.host,
        loopDataSize: 256 * MiB,
        loopMetadataSize: 16 * MiB,
        defaultVolumeSize: 32 * MiB,
        ...options,
      }),
    dispose: async () => {
      await fake.cleanup();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `data` at `offset` of a file or device (and syncs it). */
export async function writeAt(device: string, offset: number, data: Buffer): Promise<void> {
  const fh = await fs.open(device, constants.O_RDWR);
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function readAll(device: string, length: number): Promise<Buffer> {
  const fh = await fs.open(device, constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

export const random = (n: number): Buffer => randomBytes(n);

/**
 * The thin ids the driver's records know and the ids the pool holds, both sorted: equal means no
 * orphan device and no record pointing at nothing.
 */
export async function recordedAndPooled(d: DevmapperDriver): Promise<{ recorded: number[]; pooled: number[] }> {
  const recorded: number[] = [];
  for (const v of await d.list()) {
    recorded.push(v.deviceId);
    for (const s of await d.snapshotList(v.name)) recorded.push(s.deviceId);
  }
  const byValue = (a: number, b: number): number => a - b;
  return { recorded: recorded.sort(byValue), pooled: (await d.poolDeviceIds()).sort(byValue) };
}
