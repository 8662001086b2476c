import type { Argv } from 'yargs';
import { examples, EXIT, formatSize, formatTable, formatTime } from '@convoy/cli-kit';
import type { ApiError, Snapshot } from '@convoy/control-api';
import { checkName } from '../args.js';
import type { CliCommand, CommandContext, Select } from '../context.js';
import { reportProblems } from '../output.js';
import { prettyJson } from './inspect.js';

export const snapshotCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'snapshot <command>',
      'Create, list, inspect, restore and delete snapshots of volumes',
      (b) =>
        subcommands(b, select)
          .demandCommand(1, 'name a snapshot command: create, delete, inspect, list, restore')
          .epilogue(
            examples([
              ['convoy snapshot create db --name before-upgrade', 'Snapshot volume db'],
              ['convoy snapshot list db', 'Snapshots of db'],
              ['convoy create db-copy --snapshot before-upgrade', 'A new volume from a snapshot'],
              ['convoy snapshot restore before-upgrade', 'Roll db back to the snapshot (db unmounted)'],
            ]),
          ),
      () => undefined,
    ),
};

function subcommands(y: Argv, select: Select): Argv {
  return y
    .command(
      'create <volume>',
      'Take a point-in-time snapshot of a volume; prints its name',
      (b) =>
        b
          .positional('volume', { type: 'string', demandOption: true, describe: 'Volume name' })
          .option('name', { type: 'string', requiresArg: true, describe: 'Snapshot name (default: chosen by the daemon)' })
          .epilogue(
            examples([
              ['convoy snapshot create db', 'A snapshot of db named by the daemon'],
              ['convoy snapshot create db --name nightly-1', 'A snapshot named nightly-1'],
              ['convoy snapshot create db --json', 'Print the snapshot as JSON (last line)'],
            ]),
          ),
      (args) => select((ctx) => runSnapshotCreate(args, ctx), args),
    )
    .command(
      'delete <snapshot>',
      'Delete a snapshot',
      (b) =>
        b
          .positional('snapshot', { type: 'string', demandOption: true, describe: 'Snapshot name' })
          .epilogue(examples([['convoy snapshot delete nightly-1', 'Delete snapshot nightly-1']])),
      (args) => select((ctx) => runSnapshotDelete(args, ctx), args),
    )
    .command(
      'inspect <snapshot>',
      'Show a snapshot as JSON',
      (b) =>
        b.positional('snapshot', { type: 'string', demandOption: true, describe: 'Snapshot name' }).epilogue(
          examples([
            ['convoy snapshot inspect nightly-1', 'Snapshot nightly-1 as indented JSON'],
            ['convoy snapshot inspect nightly-1 --json', 'On one line'],
          ]),
        ),
      (args) => select((ctx) => runSnapshotInspect(args, ctx), args),
    )
    .command(
      'restore <snapshot>',
      "Roll the snapshot's volume back to it, in place: its data since the snapshot is lost",
      (b) =>
        b
          .positional('snapshot', { type: 'string', demandOption: true, describe: 'Snapshot name' })
          .epilogue(
            [
              'The volume keeps its name and UUID; its other snapshots stay. Refused while the volume is mounted,',
              'on this host or another (stop its containers, or `convoy umount`). To keep the current data too,',
              'make a new volume from the snapshot instead: `convoy create NEW --snapshot SNAP`.',
              '',
              examples([['convoy snapshot restore before-upgrade', 'Roll its volume back to before-upgrade']]),
            ].join('\n'),
          ),
      (args) => select((ctx) => runSnapshotRestore(args, ctx), args),
    )
    .command(
      'list [volume]',
      'List snapshots, of one volume or of all',
      (b) =>
        b.positional('volume', { type: 'string', describe: "Only this volume's snapshots" }).epilogue(
          examples([
            ['convoy snapshot list', 'Every snapshot'],
            ['convoy snapshot list db --json', 'Snapshots of db as a JSON array'],
          ]),
        ),
      (args) => select((ctx) => runSnapshotList(args, ctx), args),
    );
}

export async function runSnapshotCreate(args: { volume: string; name?: string | undefined }, ctx: CommandContext): Promise<number> {
  const volume = checkName('volume', args.volume);
  const name = args.name === undefined ? undefined : checkName('snapshot', args.name);
  const snap = await ctx.client().createSnapshot({ volume, name }, { signal: ctx.signal });
  ctx.out.result(snap, () => [snap.name]);
  return EXIT.ok;
}

export async function runSnapshotDelete(args: { snapshot: string }, ctx: CommandContext): Promise<number> {
  const name = checkName('snapshot', args.snapshot);
  await ctx.client().deleteSnapshot(name, { signal: ctx.signal });
  ctx.out.result({ snapshot: name, deleted: true }, () => []);
  return EXIT.ok;
}

export async function runSnapshotRestore(args: { snapshot: string }, ctx: CommandContext): Promise<number> {
  const snap = await ctx.client().restoreSnapshot(checkName('snapshot', args.snapshot), { signal: ctx.signal });
  ctx.out.result({ ...snap, restored: true }, () => [snap.volume]);
  return EXIT.ok;
}

export async function runSnapshotInspect(args: { snapshot: string }, ctx: CommandContext): Promise<number> {
  const snap = await ctx.client().getSnapshot(checkName('snapshot', args.snapshot), { signal: ctx.signal });
  ctx.out.result(snap, () => prettyJson(snap));
  return EXIT.ok;
}

export async function runSnapshotList(args: { volume?: string | undefined }, ctx: CommandContext): Promise<number> {
  const volume = args.volume === undefined ? undefined : checkName('volume', args.volume);
  const problems: ApiError[] = [];
  const snaps = await ctx.client().listSnapshots(volume, { signal: ctx.signal, onProblem: (p) => problems.push(p) });
  ctx.out.result(snaps, () =>
    snaps.length === 0 ? [volume === undefined ? 'no snapshots' : `no snapshots of volume ${volume}`] : snapshotTable(snaps),
  );
  return reportProblems(ctx, problems);
}

function snapshotTable(snaps: readonly Snapshot[]): string[] {
  return formatTable(
    ['NAME', 'VOLUME', 'DRIVER', 'SIZE', 'CREATED', 'UUID'],
    snaps.map((s) => [s.name, s.volume, s.driver, formatSize(s.size), formatTime(s.createdAt), s.uuid]),
  );
}
