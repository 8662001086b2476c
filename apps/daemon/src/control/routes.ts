// The control API's routes (docs/control-api.md): one table entry per method and path shape, each
// parsing its body with the control API's schema and calling the volume manager.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConvoyError } from '@convoy/errors';
import { formatBackupUrl, parseBackupUrl, type Manifest, type Progress } from '@convoy/blockstore';
import { RANCHER_FORMAT, rancherBackupFields, type RancherBackupInfo } from '@convoy/dirbackup';
import {
  CreateBackupRequestSchema,
  CreateSnapshotRequestSchema,
  CreateVolumeRequestSchema,
  MountRequestSchema,
  type ApiError,
  type BackupSummary,
} from '@convoy/control-api';
import type { VolumeManager } from '@convoy/volumes';
import { problemLog, type Logger } from '../logger.js';
import type { Operations } from '../operations.js';
import type { BackupScheduler } from '../schedules/scheduler.js';
import { badRequest, longWork, readBody, send, toApiError } from './http.js';
import { SCHEDULE_ROUTES } from './schedule-routes.js';

export interface ControlContext {
  manager: VolumeManager;
  log: Logger;
  info: () => Promise<Record<string, unknown>>;
  /** Told the store of every backup created or deleted through the API (scheduled maintenance keeps it tidy). */
  usedStore?: (storeUrl: string) => void;
  /** Logs (and counts) each backup, restore and delete from start to end. */
  ops: Operations;
  /** Scheduled backups (schedule-routes.ts). */
  schedules?: BackupScheduler;
}

/** One request as a route sees it: `name` is the decoded path segment after the collection. */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  name: string;
  query: (key: string) => string | undefined;
}

/** `/v1/<collection>[/<name>[/<action>]]`: `name` is required (true), absent (false) or a fixed word. */
interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  collection: string;
  name: boolean | string;
  action?: string;
  run: (ctx: ControlContext, r: RouteRequest) => Promise<void>;
}

export function summarize(m: Manifest, storeUrl: string): BackupSummary {
  return {
    id: m.id,
    volume: m.volume,
    created: m.created,
    snapshot: m.snapshot,
    size: m.size,
    parent: m.parent,
    labels: m.labels,
    url: formatBackupUrl(storeUrl.split('?')[0] as string, m.volume, m.id),
    stats: { ...m.stats },
  };
}

/** One of Rancher Convoy v0.5.2's backups in a listing or inspect: our summary's fields, and Convoy's own in `convoy`. */
export function summarizeRancher(b: RancherBackupInfo, storeUrl: string): BackupSummary {
  const store = storeUrl.split('?')[0] as string;
  return {
    id: b.name,
    volume: b.volume,
    created: b.created,
    snapshot: b.snapshot === '' ? null : b.snapshot,
    size: b.size,
    parent: null,
    labels: {},
    url: formatBackupUrl(store, b.volume, b.name),
    stats: {},
    format: RANCHER_FORMAT,
    driver: b.driver,
    convoy: { ...rancherBackupFields(store, b) },
  };
}

/** A listing's unreadable records: logged, and answered as `problems` beside what could be read. */
function reported(ctx: ControlContext, problems: Error[]): { problems?: ApiError[] } {
  if (problems.length === 0) return {};
  for (const p of problems) problemLog(ctx.log, p);
  return { problems: problems.map((p) => toApiError(p).body) };
}

const required = (value: string | undefined, key: string, hint: string): string => {
  if (value === undefined) throw badRequest(`"${key}" is required`, hint);
  return value;
};
const URL_HINT = 'a backup URL: ?url=vfs:///path?backup=ID&volume=NAME, URL-encoded';

const ROUTES: readonly Route[] = [
  ...SCHEDULE_ROUTES,
  { method: 'GET', collection: 'info', name: false, run: async (ctx, { res }) => send(res, 200, await ctx.info()) },
  {
    method: 'GET',
    collection: 'volumes',
    name: false,
    run: async (ctx, { res }) => {
      const { volumes, problems } = await ctx.manager.list();
      send(res, 200, { volumes, ...reported(ctx, problems) });
    },
  },
  {
    method: 'POST',
    collection: 'volumes',
    name: false,
    run: async (ctx, { req, res }) => {
      const body = await readBody(req, CreateVolumeRequestSchema);
      const backup = body.backup ?? body.options?.backup;
      await longWork(req, res, (signal, onProgress) =>
        backup === undefined
          ? ctx.manager.create({ ...body, caller: 'cli', signal, onProgress })
          : ctx.ops.run(
              'restore',
              { volume: body.name, url: backup, caller: 'cli' },
              (p) => ctx.manager.create({ ...body, caller: 'cli', signal, onProgress: p }),
              onProgress,
            ),
      );
    },
  },
  { method: 'GET', collection: 'volumes', name: true, run: async (ctx, { res, name }) => send(res, 200, await ctx.manager.require(name)) },
  {
    method: 'DELETE',
    collection: 'volumes',
    name: true,
    run: async (ctx, { res, name, query }) => {
      const o = {
        caller: 'cli' as const,
        force: query('force') === '1' || query('force') === 'true',
        keepData: query('reference') === '1',
      };
      await ctx.ops.run('volume delete', { volume: name, caller: 'cli' }, () => ctx.manager.remove(name, o));
      send(res, 200, {});
    },
  },
  {
    method: 'POST',
    collection: 'volumes',
    name: true,
    action: 'mount',
    run: async (ctx, { req, res, name }) => {
      const { mountpoint } = await readBody(req, MountRequestSchema);
      send(res, 200, { mountpoint: await ctx.manager.mount(name, { id: 'cli', caller: 'cli', mountpoint }) });
    },
  },
  {
    method: 'POST',
    collection: 'volumes',
    name: true,
    action: 'umount',
    run: async (ctx, { res, name }) => {
      await ctx.manager.unmount(name, { id: 'cli' });
      send(res, 200, {});
    },
  },
  {
    method: 'GET',
    collection: 'snapshots',
    name: false,
    run: async (ctx, { res, query }) => {
      const { snapshots, problems } = await ctx.manager.snapshotList(query('volume'));
      send(res, 200, { snapshots, ...reported(ctx, problems) });
    },
  },
  {
    method: 'POST',
    collection: 'snapshots',
    name: false,
    run: async (ctx, { req, res }) => {
      const { volume, name } = await readBody(req, CreateSnapshotRequestSchema);
      send(res, 200, await ctx.manager.snapshotCreate(volume, name));
    },
  },
  {
    method: 'GET',
    collection: 'snapshots',
    name: true,
    run: async (ctx, { res, name }) => send(res, 200, await ctx.manager.snapshotInspect(name)),
  },
  {
    method: 'POST',
    collection: 'snapshots',
    name: true,
    action: 'restore',
    run: async (ctx, { res, name }) => {
      const s = await ctx.manager.snapshotInspect(name);
      const fields = { volume: s.volume, snapshot: s.name, caller: 'cli' as const };
      send(res, 200, await ctx.ops.run('snapshot restore', fields, () => ctx.manager.snapshotRestore(name)));
    },
  },
  {
    method: 'DELETE',
    collection: 'snapshots',
    name: true,
    run: async (ctx, { res, name }) => {
      await ctx.manager.snapshotDelete(name);
      send(res, 200, {});
    },
  },
  {
    method: 'POST',
    collection: 'backups',
    name: false,
    run: async (ctx, { req, res }) => {
      const { snapshot, dest, labels } = await readBody(req, CreateBackupRequestSchema);
      await longWork(req, res, async (signal, onProgress) => {
        const { volume } = await ctx.manager.snapshotInspect(snapshot);
        const backup = async (p: (p: Progress) => void): Promise<{ url: string; id: string }> => {
          const created = await ctx.manager.backupCreate(snapshot, dest, { signal, onProgress: p, labels });
          ctx.usedStore?.(dest);
          return created;
        };
        return ctx.ops.run('backup', { volume, snapshot, url: dest, caller: 'cli' }, backup, onProgress);
      });
    },
  },
  {
    method: 'GET',
    collection: 'backups',
    name: false,
    run: async (ctx, { res, query }) => {
      const dest = required(query('dest'), 'dest', 'e.g. ?dest=vfs:///var/lib/convoy-backups');
      const { manifests, rancher, problems } = await ctx.manager.backupList(dest, query('volume'));
      const backups = [...manifests.map((m) => summarize(m, dest)), ...rancher.map((b) => summarizeRancher(b, dest))];
      if (rancher.length > 0) backups.sort((a, b) => a.created.localeCompare(b.created));
      send(res, 200, { backups, ...reported(ctx, problems) });
    },
  },
  {
    method: 'GET',
    collection: 'backups',
    name: 'inspect',
    run: async (ctx, { res, query }) => {
      const url = required(query('url'), 'url', URL_HINT);
      const found = await ctx.manager.backupInspect(url);
      if (found.format === 'convoy') send(res, 200, { ...summarize(found.manifest, url), manifest: found.manifest });
      else send(res, 200, summarizeRancher(found.backup, url));
    },
  },
  {
    method: 'DELETE',
    collection: 'backups',
    name: false,
    run: async (ctx, { res, query }) => {
      const url = required(query('url'), 'url', URL_HINT);
      const deleted = await ctx.ops.run('backup delete', { volume: parseBackupUrl(url).volume, url, caller: 'cli' }, () =>
        ctx.manager.backupDelete(url),
      );
      ctx.usedStore?.(url);
      send(res, 200, deleted);
    },
  },
];

/** The route for a method and the segments after /v1, or CONVOY_UNKNOWN_ROUTE. */
export function findRoute(method: string, parts: readonly string[], pathname: string): { route: Route; name: string } {
  const [version, collection, name, action, ...rest] = parts;
  if (version === 'v1' && rest.length === 0) {
    for (const route of ROUTES) {
      if (route.method !== method || route.collection !== collection || route.action !== action) continue;
      if (
        route.name === false
          ? name === undefined
          : route.name === true
            ? name !== undefined && !(action === undefined && isFixedName(collection, name))
            : route.name === name
      ) {
        return { route, name: name ?? '' };
      }
    }
  }
  throw new ConvoyError('CONVOY_UNKNOWN_ROUTE', `no such route ${method} ${pathname}`, { hint: 'see docs/control-api.md' });
}

/** A fixed word in the name position (GET /v1/backups/inspect) is never read as a name. */
const isFixedName = (collection: string | undefined, name: string): boolean =>
  ROUTES.some((r) => r.collection === collection && r.name === name);
