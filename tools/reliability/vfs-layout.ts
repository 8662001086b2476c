// A vfs base path read raw (packages/vfs/README.md has the layout), to judge what a daemon left
// there without asking it: every record points at a directory that is there, every directory is
// named by a record, no volume this host began is left unfinished, and this host's trash is empty.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface RawVolume {
  name: string;
  uuid: string;
  state?: string;
  createdBy: string;
}

export interface RawSnapshot {
  name: string;
  volume: string;
  uuid: string;
  state?: string;
}

export interface Layout {
  volumes: RawVolume[];
  snapshots: RawSnapshot[];
  dataDirs: string[];
  snapshotDirs: string[];
  /** Files that do not parse (the campaign put them there, or a bug did). */
  unreadable: string[];
  /** Records of volumes two simultaneous creates of one name left over (meta/displaced/). */
  displaced: string[];
  /** Temporary files of killed writers under meta/ (`.<name>~<hex>.tmp`). */
  tempFiles: number;
  trash: Record<string, number>;
}

const readJson = async (file: string): Promise<unknown> => JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
const dirs = async (dir: string): Promise<string[]> =>
  (await fs.readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

export async function readLayout(base: string): Promise<Layout> {
  const layout: Layout = {
    volumes: [],
    snapshots: [],
    dataDirs: await dirs(path.join(base, 'data')),
    snapshotDirs: await dirs(path.join(base, 'snapshots')),
    unreadable: [],
    displaced: [],
    tempFiles: 0,
    trash: {},
  };
  const meta = path.join(base, 'meta');
  for (const e of await fs.readdir(meta, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    if (e.name.includes('~')) {
      layout.tempFiles++;
      continue;
    }
    const rel = path.relative(meta, file).split(path.sep);
    if (rel[0] === 'displaced') layout.displaced.push(file);
    if (rel[0] !== 'volumes' && rel[0] !== 'snapshots') continue;
    let v: Record<string, unknown>;
    try {
      v = (await readJson(file)) as Record<string, unknown>;
    } catch {
      layout.unreadable.push(file);
      continue;
    }
    if (rel[0] === 'volumes')
      layout.volumes.push({
        name: String(v.name),
        uuid: String(v.uuid),
        createdBy: String(v.createdBy),
        ...(typeof v.state === 'string' ? { state: v.state } : {}),
      });
    else
      layout.snapshots.push({
        name: String(v.name),
        volume: String(v.volume),
        uuid: String(v.uuid),
        ...(typeof v.state === 'string' ? { state: v.state } : {}),
      });
  }
  for (const host of await dirs(path.join(base, 'trash'))) layout.trash[host] = (await fs.readdir(path.join(base, 'trash', host))).length;
  return layout;
}

/**
 * What is wrong with a base path that a daemon of `hostId` has just started on (and so cleaned
 * up after itself), with no operation running anywhere: one line per problem.
 */
export function layoutProblems(l: Layout, hostIds: readonly string[]): string[] {
  const out: string[] = [];
  const volUuids = new Set(l.volumes.map((v) => v.uuid));
  const snapUuids = new Set(l.snapshots.map((s) => s.uuid));
  for (const v of l.volumes) {
    if (!l.dataDirs.includes(v.uuid)) out.push(`record of volume ${v.name} points at data/${v.uuid}, which is not there`);
    if (v.state === 'creating' && hostIds.includes(v.createdBy))
      out.push(`volume ${v.name} is still "creating" after its host ${v.createdBy} restarted`);
  }
  for (const s of l.snapshots) {
    if (!l.snapshotDirs.includes(s.uuid))
      out.push(`record of snapshot ${s.name} of ${s.volume} points at snapshots/${s.uuid}, which is not there`);
    if (!l.volumes.some((v) => v.name === s.volume)) out.push(`snapshot ${s.name} belongs to volume ${s.volume}, which has no record`);
  }
  for (const d of l.dataDirs) if (!volUuids.has(d)) out.push(`orphan volume directory data/${d} (no record names it)`);
  for (const d of l.snapshotDirs) if (!snapUuids.has(d)) out.push(`orphan snapshot directory snapshots/${d} (no record names it)`);
  for (const f of l.unreadable) out.push(`unreadable record ${f}`);
  for (const f of l.displaced) out.push(`displaced volume record ${f} (two volumes of one name)`);
  for (const h of hostIds)
    if ((l.trash[`host-${h}`] ?? 0) > 0) out.push(`trash/host-${h} holds ${l.trash[`host-${h}`]} entries after the start`);
  return out;
}
