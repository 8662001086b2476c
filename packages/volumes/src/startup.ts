// What VolumeManager.open does before it serves: start the drivers (serving those that start),
// release mounts nobody holds, and mount again what Docker still holds after a crash.
import type { VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
import { invalidRequest } from './errors.js';
import type { MountRefs } from './mount-refs.js';
import type { ManagerOptions } from './types.js';

/** A driver that could not start: the manager serves the others and reports this in info(). */
export type Unavailable = Record<string, { code?: string; message: string; hint?: string }>;

/**
 * Starts every driver; one that fails is left out of `drivers` (and reported) unless it is the only
 * one. CONVOY_INVALID_REQUEST when none starts.
 */
export async function startDrivers(opts: ManagerOptions, drivers: Map<string, VolumeDriver>, unavailable: Unavailable): Promise<void> {
  for (const d of opts.drivers) {
    try {
      await d.start();
    } catch (err) {
      if (opts.drivers.length === 1) throw err;
      drivers.delete(d.name);
      const e = err as { code?: string; message?: string; hint?: string };
      unavailable[d.name] = { message: e.message ?? String(err), code: e.code, hint: e.hint };
      opts.onDriverUnavailable?.(d.name, err);
    }
  }
  if (drivers.size === 0) throw invalidRequest('no volume driver could start', 'see the errors above');
}

/**
 * A volume mounted on this host that nobody holds (its mount or unmount was killed between the
 * driver's mount and the saved mount state) is unmounted. Else its lease on a shared path would
 * refuse every other host's delete of it for ever, naming this host.
 */
export async function releaseUnheld(drivers: Iterable<VolumeDriver>, refs: MountRefs, onProblem?: (err: Error) => void): Promise<void> {
  const held = new Set(refs.volumes());
  for (const d of drivers) {
    for (const v of await d.list({ onProblem: (err) => onProblem?.(err) })) {
      if (v.mountpoint !== undefined && !held.has(v.name)) await d.unmount(v.name);
    }
  }
}

/**
 * Mounts again each volume Docker still holds on this host. A volume that is gone loses its
 * references; one that cannot be read or mounted now (a corrupt record, another host deleting it,
 * a corrupt lease) keeps them, so it is not deleted from under its containers, and is reported to
 * `onProblem` (without it, that is an error) while the others are served.
 */
export async function remountHeld(
  refs: MountRefs,
  find: (name: string) => Promise<{ driver: VolumeDriver; info: VolumeInfo } | undefined>,
  onProblem?: (err: Error) => void,
): Promise<void> {
  const report = (err: unknown): void => {
    if (!(err instanceof Error) || onProblem === undefined) throw err;
    onProblem(err);
  };
  for (const name of refs.volumes()) {
    let found: Awaited<ReturnType<typeof find>>;
    try {
      found = await find(name);
    } catch (err) {
      report(err);
      continue;
    }
    if (found === undefined) {
      await refs.clear(name);
      continue;
    }
    try {
      await found.driver.mount(name, {});
    } catch (err) {
      report(err);
    }
  }
}
