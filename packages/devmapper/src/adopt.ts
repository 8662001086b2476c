// Adopting a Rancher Convoy v0.5.2 devicemapper installation in place. Convoy kept its driver's
// state in the same directory this driver uses (`<--root>/devicemapper/`): `devicemapper.cfg`
// (the pool: its data and metadata devices, `/dev/mapper/<pool>`, block size in sectors, the last
// thin device id) and one `devicemapper_volume_<name>.json` per volume (its thin device id, size,
// filesystem, snapshots with theirs). Started there without a state.json of its own, the driver
// takes over those thin devices as they are — no data is copied — once it has checked that the
// pool holds exactly what the records say and that none of Convoy's devices is in use; anything
// else is CONVOY_ADOPT_REFUSED, with nothing changed. Convoy's files are left as they were.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRubyDate } from '@convoy/dirbackup';
import { nameProblem } from '@convoy/rules';
import { z } from 'zod';
import { SECTOR, type DmApi } from './dm-api.js';
import { DevmapperError } from './errors.js';
import { SUPPORTED_FS } from './host-ops.js';
import type { DevmapperDriverOptions, ResolvedOptions } from './options.js';
import type { ThinPool } from './pool.js';
import { MAX_DEVICE_ID, emptyState, type AdoptedFrom, type DriverState, type VolumeRecord } from './state.js';

const CONFIG = 'devicemapper.cfg';
const VOLUME_FILE = /^devicemapper_volume_(.+)\.json$/;

const deviceId = z.number().int().min(0).max(MAX_DEVICE_ID);
const configSchema = z.looseObject({
  DataDevice: z.string().min(1),
  MetadataDevice: z.string().min(1),
  ThinpoolDevice: z.string().min(1),
  ThinpoolBlockSize: z.number().int().positive(),
  LastDevID: z.number().int().nonnegative(),
  Filesystem: z.string().optional(),
});
const volumeSchema = z.looseObject({
  Name: z.string(),
  DevID: deviceId,
  Size: z.number().int().positive(),
  Base: z.string().optional(),
  MountPoint: z.string().optional(),
  CreatedTime: z.string(),
  Snapshots: z
    .record(z.string(), z.looseObject({ Name: z.string(), CreatedTime: z.string(), DevID: deviceId }))
    .nullable()
    .optional(),
  Filesystem: z.string().optional(),
});

export interface AdoptionPlan {
  /** The options with Convoy's pool: its name, block size and devices. */
  o: ResolvedOptions;
  state: DriverState;
}

export function adoptRefused(why: string, hint: string, details?: Record<string, unknown>): DevmapperError {
  return new DevmapperError('CONVOY_ADOPT_REFUSED', `cannot adopt the Rancher Convoy devicemapper installation: ${why}`, { hint, details });
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw adoptRefused(`${file} is not readable JSON (${(err as Error).message})`, 'restore that file from a backup of the Convoy root');
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw adoptRefused(
      `${file}: ${i?.path.map(String).join('.') ?? ''} ${i?.message ?? 'is malformed'}`,
      'restore that file from a backup of the Convoy root',
    );
  }
  return r.data;
}

const convoyTime = (s: string, now: Date): string => parseRubyDate(s) ?? now.toISOString();

/**
 * Reads Convoy's records under the root, if there are any (`devicemapper.cfg`), and turns them
 * into this driver's state and options. Explicit options that contradict Convoy's pool are refused.
 */
export async function planAdoption(o: ResolvedOptions, given: DevmapperDriverOptions, now: Date): Promise<AdoptionPlan | undefined> {
  const cfgFile = path.join(o.root, CONFIG);
  const exists = await fs.stat(cfgFile).then(
    () => true,
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)),
  );
  if (!exists) return undefined;
  const cfg = await readJson(cfgFile, configSchema);
  const pool = path.basename(cfg.ThinpoolDevice);
  const blockSize = cfg.ThinpoolBlockSize * SECTOR;
  const clash = (key: string, mine: unknown, theirs: unknown): void => {
    if (mine !== undefined && mine !== theirs)
      throw adoptRefused(
        `${key}=${String(mine)} is given, but Convoy's pool has ${String(theirs)}`,
        `leave ${key} out: the pool keeps Convoy's`,
      );
  };
  clash('dm.thinpoolname', given.thinPoolName, pool);
  clash('dm.blocksize', given.blockSize, blockSize);
  clash('dm.datadev', given.dataDevice, cfg.DataDevice);
  clash('dm.metadatadev', given.metadataDevice, cfg.MetadataDevice);
  const state = emptyState(pool, blockSize);
  state.pool = { ...state.pool, dataDevice: cfg.DataDevice, metadataDevice: cfg.MetadataDevice }; // later starts use them too
  const ids = new Map<number, string>();
  const claim = (id: number, what: string): void => {
    const other = ids.get(id);
    if (other !== undefined) throw adoptRefused(`${what} and ${other} have the same thin device id ${id}`, 'fix the records by hand');
    ids.set(id, what);
  };
  for (const f of (await fs.readdir(o.root)).sort()) {
    const m = VOLUME_FILE.exec(f);
    if (m === null) continue;
    const v = await readJson(path.join(o.root, f), volumeSchema);
    const bad = nameProblem(v.Name);
    if (v.Name !== m[1] || bad !== undefined)
      throw adoptRefused(
        `${f} holds volume ${JSON.stringify(v.Name)}${bad === undefined ? '' : `: ${bad}`}`,
        'rename the volume with Convoy first',
      );
    if ((v.Base ?? '') !== '')
      throw adoptRefused(`volume ${v.Name} has a base image (${v.Base})`, 'copy its data into a new volume instead');
    const fsType = (v.Filesystem ?? '') === '' ? 'ext4' : (v.Filesystem as string); // Convoy's default, as its own start assumed
    if (!(SUPPORTED_FS as readonly string[]).includes(fsType))
      throw adoptRefused(`volume ${v.Name} has filesystem ${fsType}`, `only ${SUPPORTED_FS.join(', ')} are mounted here`);
    claim(v.DevID, `volume ${v.Name}`);
    const rec: VolumeRecord = {
      name: v.Name,
      uuid: randomUUID(),
      deviceId: v.DevID,
      size: v.Size,
      fs: fsType,
      createdAt: convoyTime(v.CreatedTime, now),
      formatted: true, // Convoy made the filesystem when it created the volume (or restored one)
      snapshots: {},
    };
    for (const [key, s] of Object.entries(v.Snapshots ?? {})) {
      const sbad = nameProblem(s.Name);
      if (s.Name !== key || sbad !== undefined)
        throw adoptRefused(`volume ${v.Name} has a snapshot named ${JSON.stringify(key)}`, 'delete it with Convoy first');
      claim(s.DevID, `snapshot ${v.Name}/${s.Name}`);
      rec.snapshots[s.Name] = {
        name: s.Name,
        uuid: randomUUID(),
        deviceId: s.DevID,
        size: v.Size,
        createdAt: convoyTime(s.CreatedTime, now),
        backups: {},
      };
    }
    state.volumes[v.Name] = rec;
  }
  const next = Math.max(cfg.LastDevID, ...ids.keys()) + 1;
  state.nextDeviceId = next > MAX_DEVICE_ID ? 1 : next; // allocation skips ids in use
  const volumes = Object.keys(state.volumes);
  state.adopted = {
    from: 'rancher-convoy-v0.5.2',
    config: cfgFile,
    at: now.toISOString(),
    volumes,
    snapshots: Object.values(state.volumes).reduce((n, v) => n + Object.keys(v.snapshots).length, 0),
  } satisfies AdoptedFrom;
  return {
    o: { ...o, thinPoolName: pool, blockSize, dataDevice: cfg.DataDevice, metadataDevice: cfg.MetadataDevice },
    state,
  };
}

/**
 * Checks the live pool against the plan — its thin devices are exactly those of Convoy's records,
 * and none of Convoy's activated devices (named after its volumes) is open — then removes those
 * devices: this driver activates volumes under its own names when they are mounted.
 */
export async function takeOver(plan: AdoptionPlan, dm: DmApi, pool: ThinPool): Promise<string[]> {
  const known = new Map<number, string>();
  for (const v of Object.values(plan.state.volumes)) {
    known.set(v.deviceId, `volume ${v.name}`);
    for (const s of Object.values(v.snapshots)) known.set(s.deviceId, `snapshot ${v.name}/${s.name}`);
  }
  const inPool = new Set(await pool.listThinIds());
  const unknown = [...inPool].filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw adoptRefused(
      `pool ${pool.name} holds thin devices ${unknown.join(', ')} that no Convoy record names`,
      `if they are leftovers of an interrupted Convoy operation, delete them (\`dmsetup message ${pool.name} 0 "delete ID"\`) and start again`,
      { deviceIds: unknown },
    );
  const gone = [...known].filter(([id]) => !inPool.has(id)).map(([, what]) => what);
  if (gone.length > 0)
    throw adoptRefused(
      `${gone.join(', ')} ${gone.length === 1 ? 'has' : 'have'} no thin device in pool ${pool.name}`,
      `remove ${gone.length === 1 ? 'that record' : 'those records'} from ${path.dirname(plan.state.adopted?.config ?? '')} (the data is gone) and start again`,
    );
  const poolInfo = await dm.info(pool.name);
  const poolDev = `${poolInfo.major}:${poolInfo.minor}`;
  const remove: string[] = [];
  for (const d of await dm.list()) {
    const t = (await dm.table(d.name))[0];
    const [on, id] = t?.type === 'thin' ? t.params.split(/\s+/) : [];
    if (on !== poolDev) continue;
    const info = await dm.info(d.name);
    if (info.openCount > 0) {
      const what = known.get(Number(id)) ?? `thin device ${id}`;
      throw adoptRefused(
        `${what} is in use (/dev/mapper/${d.name} is open: mounted, or held by a container)`,
        `stop what uses it and unmount it (\`umount /dev/mapper/${d.name}\`), then start again`,
        { device: d.name },
      );
    }
    remove.push(d.name);
  }
  for (const name of remove) await pool.deactivate(name);
  return remove;
}

/** On later starts: the adopted pool's name, block size and devices (from the state) where the options give none. */
export function adoptedPoolOptions(o: ResolvedOptions, given: DevmapperDriverOptions, pool: DriverState['pool']): ResolvedOptions {
  const devices = given.dataDevice === undefined && pool.dataDevice !== undefined && pool.metadataDevice !== undefined;
  return {
    ...o,
    thinPoolName: given.thinPoolName ?? pool.name,
    blockSize: given.blockSize ?? pool.blockSize,
    ...(devices ? { dataDevice: pool.dataDevice, metadataDevice: pool.metadataDevice } : {}),
  };
}

/** The line the driver logs when it adopted an installation. */
export function adoptionMessage(a: AdoptedFrom, removed: readonly string[]): string {
  return (
    `adopted Rancher Convoy v0.5.2's devicemapper pool in place (${a.config}): volumes ${a.volumes.join(', ') || '(none)'}, ` +
    `${a.snapshots} snapshot${a.snapshots === 1 ? '' : 's'}; no data copied` +
    `${removed.length > 0 ? `; its device names ${removed.join(', ')} deactivated (volumes are activated as convoy names them when mounted)` : ''}` +
    "; Convoy's files are left as they were and no longer read"
  );
}
