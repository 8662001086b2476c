// The control API's schedule routes (docs/control-api.md): scheduled backups of a volume.
import { SetScheduleRequestSchema } from '@convoy/control-api';
import { validateVolumeName } from '@convoy/rules';
import type { BackupScheduler } from '../schedules/scheduler.js';
import { readBody, send } from './http.js';
import type { ControlContext, RouteRequest } from './routes.js';

const schedulerOf = (ctx: ControlContext): BackupScheduler => {
  if (ctx.schedules === undefined) throw new Error('scheduled backups are not running in this daemon');
  return ctx.schedules;
};

export const SCHEDULE_ROUTES = [
  {
    method: 'GET' as const,
    collection: 'schedules',
    name: false,
    run: async (ctx: ControlContext, { res }: RouteRequest) => send(res, 200, { schedules: schedulerOf(ctx).list() }),
  },
  {
    method: 'POST' as const,
    collection: 'schedules',
    name: false,
    run: async (ctx: ControlContext, { req, res }: RouteRequest) => {
      const body = await readBody(req, SetScheduleRequestSchema);
      await ctx.manager.require(body.volume); // a schedule of a volume that does not exist is refused now, not at its first run
      send(res, 200, await schedulerOf(ctx).set(body));
    },
  },
  {
    method: 'DELETE' as const,
    collection: 'schedules',
    name: true,
    run: async (ctx: ControlContext, { res, name }: RouteRequest) => {
      validateVolumeName(name);
      await schedulerOf(ctx).remove(name);
      send(res, 200, {});
    },
  },
];
