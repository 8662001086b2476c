// Campaign 5, mounts: what a kill -9 of the daemon mid-Mount or mid-Unmount (Docker's plugin
// protocol) must leave. This host's lease on the shared path (what stops other hosts from
// deleting the volume) and the daemon's mount state (which Docker mount IDs hold it, kept for
// restarts) must agree after the restart: a lease with no holder would block other hosts' deletes
// for ever, a holder with no lease would let another host delete a volume a container uses.
// Docker's retry of the interrupted call must then succeed, and afterwards the volume is free.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DaemonRestartCampaign } from './daemon-restart.js';
import type { Trial } from './trial.js';

export async function judgeMount(c: DaemonRestartCampaign, trial: Trial, name: string, id: string, op: 'mount' | 'unmount'): Promise<void> {
  const agree = async (when: string): Promise<void> => {
    const v = await c.api.volume(name);
    const leased = existsSync(path.join(c.vfsPath, 'meta', 'leases', name, `${c.daemon.spec.hostId}.json`));
    const holders = v?.mountedBy ?? [];
    trial.check(
      "this host's lease and the daemon's mount state agree",
      leased === holders.length > 0,
      `${when}: lease ${leased ? 'present' : 'absent'}, holders [${holders.join(', ')}]`,
    );
  };
  await agree('after the restart');
  const again = op === 'mount' ? await c.api.dockerMount(name, id) : await c.api.dockerUnmount(name, id);
  trial.check(
    're-running the interrupted operation succeeds',
    again.status === 200 && again.code === undefined,
    `${again.status} ${again.code ?? again.error ?? ''} ${again.message ?? ''}`,
  );
  if (op === 'mount') {
    await agree('after the re-run mount');
    const un = await c.api.dockerUnmount(name, id);
    trial.check(
      're-running the interrupted operation succeeds',
      un.status === 200 && un.code === undefined,
      `unmount after it: ${un.status} ${un.message ?? ''}`,
    );
  }
  await agree('after the unmount');
  const v = await c.api.volume(name);
  trial.check(
    'an unmounted volume is free',
    (v?.mountedBy ?? []).length === 0 && v?.mountpoint === undefined,
    `${name}: holders [${(v?.mountedBy ?? []).join(', ')}], mountpoint ${v?.mountpoint ?? '-'}`,
  );
}
