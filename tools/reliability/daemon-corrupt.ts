// Campaign 5, second part: a corrupt lease, Docker reference, volume or snapshot record on the
// shared vfs path, across a kill -9 and restart of the daemon. It must be reported as corrupt
// (CONVOY_RECORD_CORRUPT naming the file), through the control API and Docker's Remove, and block
// the volume's deletion, with or without --force: never read as "not mounted" or "absent". Once
// the file is repaired, the delete goes through and the base path is consistent.
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkConsistent } from './daemon-checks.js';
import type { DaemonRestartCampaign } from './daemon-restart.js';
import type { Rng } from './prng.js';
import { Trial } from './trial.js';
import { treeHash } from './tree.js';

export const CORRUPT_KINDS = [
  'lease-garbage',
  'lease-no-uuid',
  'lease-empty',
  'ref-garbage',
  'ref-other-volume',
  'volume-record-garbage',
  'snapshot-record-truncated',
] as const;
export type CorruptKind = (typeof CORRUPT_KINDS)[number];

const OTHER = 'rel-other';

export async function corruptTrial(c: DaemonRestartCampaign, n: number, kind: CorruptKind, rng: Rng): Promise<void> {
  const trial = new Trial('daemon', 'vfs', `corrupt-${kind}`, `daemon corrupt #${n} ${kind}`, rng.seed);
  let error: unknown;
  try {
    await run(c, trial, n, kind, rng);
  } catch (err) {
    error = err;
  }
  if (!c.daemon.running) await c.daemon.start().catch(() => undefined);
  trial.finish(c.resultsFile, error);
}

async function run(c: DaemonRestartCampaign, trial: Trial, n: number, kind: CorruptKind, rng: Rng): Promise<void> {
  const name = `k${n}`;
  await c.must(c.api.createVolume(name));
  await c.fill(name, rng.fork('fill'));
  await c.must(c.api.snapshot(name, `${name}-s`));
  const v = await c.api.volume(name);
  const dataDir = String(v?.status?.path);
  const hash = await treeHash(dataDir);
  const meta = path.join(c.vfsPath, 'meta');
  const since = new Date().toISOString();
  const lease = { host: OTHER, volume: name, uuid: v?.uuid, since };
  const file = kind.startsWith('lease')
    ? path.join(meta, 'leases', name, `${OTHER}.json`)
    : kind.startsWith('ref')
      ? path.join(meta, 'refs', name, `${OTHER}.json`)
      : kind === 'volume-record-garbage'
        ? path.join(meta, 'volumes', `${name}.json`)
        : path.join(meta, 'snapshots', name, `${name}-s.json`);
  const original = await fs.readFile(file).catch(() => undefined);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const damage: Record<CorruptKind, Buffer> = {
    'lease-garbage': Buffer.from('{"host": "rel-other", "volu'),
    'lease-no-uuid': Buffer.from(JSON.stringify({ ...lease, uuid: undefined })),
    'lease-empty': Buffer.alloc(0),
    'ref-garbage': rng.fill(Buffer.alloc(64)),
    'ref-other-volume': Buffer.from(JSON.stringify({ ...lease, volume: 'someone-else' })),
    'volume-record-garbage': Buffer.from('\u0000\u0000not json'),
    'snapshot-record-truncated': (original ?? Buffer.alloc(0)).subarray(0, Math.floor((original?.length ?? 0) / 2)),
  };
  await fs.writeFile(file, damage[kind]);
  trial.fault(`${kind}: ${path.relative(c.vfsPath, file)}`);
  await c.daemon.kill9();
  trial.fault('SIGKILL of the daemon, then a restart');
  try {
    await c.daemon.start();
    trial.check('the daemon restarts', true);
  } catch (err) {
    trial.check('the daemon restarts', false, (err as Error).message.slice(0, 1500));
    return;
  }
  const names = (text: string | undefined): boolean => text?.includes(file) === true;
  for (const force of [false, true]) {
    const r = await c.api.deleteVolume(name, force);
    trial.check(
      'a corrupt record blocks delete as CONVOY_RECORD_CORRUPT naming the file',
      r.status !== 200 && r.code === 'CONVOY_RECORD_CORRUPT' && names(r.message),
      `delete${force ? ' --force' : ''} answered ${r.status} ${r.code ?? ''} ${r.message ?? ''}`,
    );
  }
  const docker = await c.daemon.plugin.call('POST', '/VolumeDriver.Remove', { Name: name });
  trial.noteCommand([c.daemon.spec.label, `docker Remove ${name}`], `${docker.status} ${docker.message ?? ''}`);
  trial.check(
    "a corrupt record blocks Docker's Remove, naming the file",
    docker.message !== undefined && names(docker.message),
    `Docker's Remove answered ${docker.status} ${docker.text.slice(0, 300)}`,
  );
  trial.check(
    'a corrupt record blocks delete as CONVOY_RECORD_CORRUPT naming the file',
    (await treeHash(dataDir)) === hash,
    `the data of ${name} changed or went`,
  );
  if (kind === 'volume-record-garbage' || kind === 'snapshot-record-truncated') {
    const target = kind === 'volume-record-garbage' ? '/v1/volumes' : `/v1/snapshots`;
    const listed = await c.daemon.control.call('GET', target);
    const problems = ((listed.json as { problems?: { code: string; message: string }[] } | undefined)?.problems ?? []).filter(
      (p) => p.code === 'CONVOY_RECORD_CORRUPT' && names(p.message),
    );
    trial.check(
      'a listing reports the corrupt record, naming the file',
      listed.status === 200 && problems.length === 1,
      `GET ${target} answered ${listed.status} ${listed.text.slice(0, 300)}`,
    );
  }
  // repaired: put back, or removed (another host's lease or reference that is gone for good)
  if (original !== undefined) await fs.writeFile(file, original);
  else await fs.rm(file);
  const del = await c.api.deleteVolume(name);
  trial.check('once repaired, the delete goes through', del.status === 200, `${del.status} ${del.code ?? ''} ${del.message ?? ''}`);
  c.forget(name);
  trial.outcome('reported as corrupt, naming the file; blocked delete and delete --force; deleted once repaired');
  await checkConsistent(c, trial, 'after the repair and delete');
}
