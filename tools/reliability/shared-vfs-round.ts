// The end of a shared-vfs round: what the round recorded (held mounts, volumes seen, deletes, call
// counts), every held mount released, then the checks that both daemons agree and nothing was lost.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DaemonApi } from './daemon-api.js';
import type { DaemonProcess } from './daemon-process.js';
import type { Trial } from './trial.js';
import { describeReply } from './unix-http.js';
import { layoutProblems, readLayout } from './vfs-layout.js';

export const HOSTS = ['rel-a', 'rel-b'] as const;

export interface Held {
  host: string;
  name: string;
  id: string;
  mountpoint: string;
  marker: string;
  since: number;
}

/** What a round's streams recorded, for the checks at its end. */
export interface RoundLog {
  names: string[];
  held: Held[];
  /** Docker mount IDs whose Mount got no answer (its daemon was killed): maybe held; released at the end. */
  maybeHeld: { i: number; name: string; id: string }[];
  /** uuid → when the first call that saw it began. */
  observed: Map<string, { name: string; at: number }>;
  deletes: { name: string; host: string; start: number; end: number }[];
  counts: Record<string, number>;
}

/** Releases every held mount, then checks the round's end: both daemons agree, nothing lost, the base path consistent, no lease left. */
export async function endRound(
  trial: Trial,
  daemons: readonly DaemonProcess[],
  apis: readonly DaemonApi[],
  vfsPath: string,
  { names, held, maybeHeld, observed, deletes, counts }: RoundLog,
): Promise<void> {
  for (const m of maybeHeld)
    await (daemons[m.i] as DaemonProcess).plugin.call('POST', '/VolumeDriver.Unmount', { Name: m.name, ID: m.id }, 60_000);
  // the end of the round: every held mount released, then both daemons must agree
  for (const h of [...held]) {
    const d = daemons[HOSTS.indexOf(h.host as (typeof HOSTS)[number])] as DaemonProcess;
    trial.check(
      'a volume mounted by one daemon is never deleted by the other',
      existsSync(h.marker),
      `${h.name}'s mount on ${h.host} lost its marker while mounted`,
    );
    const r = await d.plugin.call('POST', '/VolumeDriver.Unmount', { Name: h.name, ID: h.id }, 60_000);
    trial.check(
      'an unmount of a held mount succeeds',
      r.status === 200 && r.code === undefined,
      describeReply(`${h.host} Unmount ${h.name}`, r),
    );
  }
  const lists = await Promise.all(apis.map((a) => a.volumes()));
  const view = (l: { volumes: { name: string; uuid: string }[] }): string =>
    l.volumes
      .filter((v) => names.includes(v.name))
      .map((v) => `${v.name}=${v.uuid}`)
      .sort()
      .join(' ');
  trial.check(
    'both daemons end with the same volumes',
    view(lists[0] as never) === view(lists[1] as never),
    `${HOSTS[0]}: ${view(lists[0] as never)}; ${HOSTS[1]}: ${view(lists[1] as never)}`,
  );
  trial.check(
    'both daemons end with the same volumes',
    lists.every((l) => l.problems.length === 0),
    () => lists.flatMap((l) => l.problems.map((p) => p.message)).join('; '),
  );
  const present = new Map((lists[0]?.volumes ?? []).map((v) => [v.uuid, v.name]));
  for (const [uuid, o] of observed) {
    if (present.has(uuid)) continue;
    trial.check(
      'nothing lost: a volume disappears only through a delete that succeeded',
      deletes.some((d) => d.name === o.name && d.end >= o.at),
      `${o.name} (${uuid}), seen by a call begun at ${(o.at / 1000).toFixed(2)} s, is gone but no delete of it ended after that call began`,
    );
  }
  const layout = await readLayout(vfsPath);
  const problems = layoutProblems(layout, []).concat(
    layout.volumes.filter((v) => v.state === 'creating').map((v) => `volume ${v.name} is still "creating" with no create running`),
  );
  trial.check('no orphan directory, no record pointing at nothing', problems.length === 0, problems.join('; '));
  const leases = await fs.readdir(path.join(vfsPath, 'meta', 'leases'), { recursive: true }).catch(() => []);
  const left = leases.filter((f) => f.endsWith('.json') && names.some((nm) => f.startsWith(`${nm}/`)));
  trial.check('no mount lease left once everything is unmounted', left.length === 0, `left: ${left.join(', ')}`);
  for (const d of daemons) trial.check('both daemons keep running', d.running, `${d.spec.hostId} exited:\n${d.runLog.slice(-1500)}`);
  trial.outcome(
    Object.entries(counts)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  for (const [k, v] of Object.entries(counts)) trial.measure(k, v);
  trial.measure(
    'volumesAtEnd',
    view(lists[0] as never)
      .split(' ')
      .filter((x) => x !== '').length,
  );
}
