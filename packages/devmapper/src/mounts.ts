// Mounting a thin volume: activate its device, make its filesystem on first use, mount it; and
// back. The recorded mountpoint is checked against the host's mount table (a restart or an
// operator may have changed it).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DriverCore } from './core.js';
import { volumeInUse } from './errors.js';
import { mountOptions } from './host-ops.js';
import type { VolumeRecord } from './state.js';

/** Activates the volume, makes its filesystem on first use, mounts it; returns the mountpoint. Idempotent. */
export async function mountVolume(c: DriverCore, name: string, mountpoint: string | undefined): Promise<string> {
  return c.lock(async () => {
    const v = c.volume(name);
    const mp = path.resolve(mountpoint ?? path.join(c.o.mountRoot, name));
    if (v.mountpoint !== undefined) {
      const at = await mountedAt(c, v);
      if (at !== undefined) {
        if (await samePath(at, mp)) return v.mountpoint;
        throw volumeInUse(name, `is already mounted on ${v.mountpoint}`, 'unmount it first, or mount it without a mountpoint');
      }
    }
    const dev = await c.pool.activate(c.volumeDevice(v.deviceId), v.deviceId, v.size);
    try {
      if (!v.formatted) {
        await c.host.makeFilesystem(dev, v.fs);
        v.formatted = true;
      }
      await fs.mkdir(mp, { recursive: true });
      // The mountpoint is recorded before the mount, never after: a crash between the two then
      // leaves a record of a mount that may not exist (reconcile clears it), not a mount no record
      // knows (which would refuse every later mount: "already mounted", and block the delete).
      v.mountpoint = mp;
      await c.save();
      await c.fault('mount:recorded');
      await c.host.mount(dev, mp, v.fs, mountOptions(v.fs));
      await c.fault('mount:mounted');
    } catch (err) {
      await c.pool.deactivate(c.volumeDevice(v.deviceId)).catch(() => undefined);
      if (v.mountpoint !== undefined) {
        delete v.mountpoint;
        await c.save();
      }
      throw err;
    }
    return mp;
  });
}

/** Unmounts and deactivates the volume. Idempotent. */
export async function unmountVolume(c: DriverCore, name: string): Promise<void> {
  await c.lock(async () => {
    const v = c.volume(name);
    if (v.mountpoint !== undefined && (await mountedAt(c, v)) !== undefined) await c.host.unmount(v.mountpoint);
    try {
      await c.pool.deactivate(c.volumeDevice(v.deviceId));
    } catch (err) {
      c.log('warn', `volume ${name} is unmounted but its device stays active: ${(err as Error).message}`);
    }
    if (v.mountpoint !== undefined) {
      delete v.mountpoint;
      await c.save();
    }
  });
}

/** Where the volume's device is mounted now, if at its recorded mountpoint (from the host's mount table). */
export async function mountedAt(c: DriverCore, v: VolumeRecord): Promise<string | undefined> {
  const info = await c.dm.info(c.volumeDevice(v.deviceId));
  if (!info.exists || v.mountpoint === undefined) return undefined;
  for (const m of await c.host.mountsOf(info.major, info.minor)) if (await samePath(m, v.mountpoint)) return m;
  return undefined;
}

async function samePath(a: string, b: string): Promise<boolean> {
  const real = async (p: string): Promise<string> => fs.realpath(p).catch(() => path.resolve(p));
  return (await real(a)) === (await real(b));
}
