// The report's sections for campaign 5 (kill -9 of convoy-daemon, corrupt shared records) and
// the two-daemons part of campaign 4 (shared-vfs), from their trial records.
import { finalTrialLines, table } from './report-common.js';
import type { TrialRecord } from './trial.js';

const failed = (rs: readonly TrialRecord[]): string => {
  const n = rs.filter((r) => !r.passed).length;
  return n === 0 ? '0' : `**${n}**`;
};
const held = (rs: readonly TrialRecord[], check: string): number => rs.reduce((n, r) => n + (r.checks[check] ?? 0), 0);

/** Where in the operation the kill landed: the call it died at (`open meta/volumes/…` → `open meta/volumes`). */
function phase(r: TrialRecord): string {
  const m = /^killed (at step \d+\/\d+: (\S+) (\S+)|after the answer)/.exec(r.outcome);
  if (m === null) return r.outcome || '-';
  if (m[2] === undefined) return 'after it answered';
  const where = (m[3] ?? '')
    .replace(/\/[^/]*[~.-][^/]*$/, '/…')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')
    .replace(/(restore|backup)-\w{6}/, '$1-…');
  return `${m[2]} ${m[2] === 'spawn' ? where : where.split('/').slice(0, 3).join('/')}`;
}

/** The fixes these campaigns led to (in packages/; regression tests there). */
export const DAEMON_BUGS: readonly { title: string; test: string }[] = [
  {
    title:
      'kill -9 mid-snapshot (after its copy was renamed into place, before its record) or mid-delete left an orphan `snapshots/<uuid>` directory forever, and a killed delete left snapshot records that a re-created volume of the same name showed',
    test: 'packages/vfs/test/vfs-restart.test.ts ("vfs driver restarted after kill -9")',
  },
  {
    title: 'a Docker mount on one daemon racing a delete on the other: both succeeded, and the mounted directory vanished',
    test: 'packages/vfs/test/vfs-restart.test.ts ("a mount racing a delete")',
  },
  {
    title:
      "two daemons creating and deleting one name: a late create finish overwrote a newer volume's record (record pointing at nothing, orphan data), and a delete removed a newer volume's record",
    test: 'packages/vfs/test/vfs-interleave.test.ts',
  },
  {
    title:
      'a daemon restarted after a kill mid-delete put back the record it had taken, over a volume the other host had created meanwhile (displaced record, orphan data)',
    test: 'packages/vfs/test/vfs-restart.test.ts ("mid-swap of a record")',
  },
  {
    title:
      "Docker's Create failed on one daemon ('cannot write refs/…: ENOENT') when the other deleted the volume right after the reference's rename (the put's directory fsync found the directory pruned)",
    test: 'packages/objectstore/src/drivers/fs-store.test.ts ("a put whose object another writer deletes")',
  },
  {
    title: 'temporary files of metadata writes killed halfway stayed under meta/ for ever',
    test: 'packages/vfs/test/vfs-restart.test.ts ("mid-write of a record")',
  },
  {
    title:
      "kill -9 mid-Mount after this host's lease was written, before the mount state was saved: after the restart nothing held the volume, yet every other host's delete was refused for ever",
    test: 'packages/volumes/test/manager.test.ts ("killed between the lease and the saved mount state")',
  },
];

export function daemonSection(rs: readonly TrialRecord[]): string[] {
  const kills = rs.filter((r) => r.op !== 'final' && !r.op.startsWith('corrupt-'));
  const corrupt = rs.filter((r) => r.op.startsWith('corrupt-'));
  const ops = [...new Set(kills.map((r) => r.op))];
  const phases = new Map<string, TrialRecord[]>();
  for (const r of kills) phases.set(`${r.op}\u0000${phase(r)}`, [...(phases.get(`${r.op}\u0000${phase(r)}`) ?? []), r]);
  return [
    '## 5. Daemon restarts (kill -9 of convoy-daemon, vfs driver)',
    '',
    "convoy-daemon runs as a child process (the build, with `tools/reliability/daemon-kill-hook.ts` preloaded) and is driven through its control API, as the `convoy` CLI does. Each trial runs one operation and kills the daemon's process group with SIGKILL at a seeded step of it: every filesystem change and every program the daemon starts (cp, tar, sync) is a step, counted by the hook, so the kills land on each durable state the operation passes through (sometimes a few ms after the step, inside a cp or tar; sometimes after the answer). Then the daemon is started again and must find: the base path consistent (no orphan volume or snapshot directory, no record pointing at nothing, nothing of this host left `creating`, its trash empty); every volume, snapshot and backup that had completed, with its exact content; the interrupted one absent or complete (a restore is never shown finished with part of its data); running it again succeeds; `convoy-backup verify --read-data` of the vfs:// backup store clean; each new backup restoring bit-exact.",
    '',
    table(
      ['operation', 'trials', 'steps in the operation', 'restart ok', 'consistent', 're-run ok', 'failed'],
      ops.map((op) => {
        const g = kills.filter((r) => r.op === op);
        return [
          op,
          g.length,
          g[0]?.measures.stepsTotal ?? '-',
          held(g, 'the daemon restarts'),
          g.filter((r) => !r.failures.some((f) => f.startsWith('no orphan'))).length,
          held(g, 're-running the interrupted operation succeeds'),
          failed(g),
        ];
      }),
    ),
    '',
    'Kills by phase (the call the daemon died at):',
    '',
    table(
      ['operation', 'killed at', 'trials', 'failed'],
      [...phases].sort().map(([k, g]) => [k.split('\u0000')[0] as string, k.split('\u0000')[1] as string, g.length, failed(g)]),
    ),
    '',
    'Corrupt records on the shared path across a kill -9 and restart: a lease or Docker reference of another host (garbage, no uuid, empty, naming another volume), a volume record (garbage), a snapshot record (truncated). Each must be reported as `CONVOY_RECORD_CORRUPT` naming the file (by `delete`, `delete --force`, Docker\'s Remove and, for volume and snapshot records, the listings) and block the delete — never read as "not mounted" — and the delete must go through once the file is repaired.',
    '',
    table(
      ['damage', 'trials', 'delete blocked, naming the file', "Docker's Remove blocked", 'deleted once repaired', 'failed'],
      corrupt.map((r) => [
        r.op.replace(/^corrupt-/, ''),
        1,
        held([r], 'a corrupt record blocks delete as CONVOY_RECORD_CORRUPT naming the file'),
        held([r], "a corrupt record blocks Docker's Remove, naming the file"),
        held([r], 'once repaired, the delete goes through'),
        failed([r]),
      ]),
    ),
    '',
    ...finalTrialLines(rs),
    '',
    `Mount and unmount are Docker's Mount and Unmount (the plugin protocol): after the restart this host's lease on the shared path and the daemon's mount state must agree, and Docker's retry must succeed. ${kills.filter((r) => r.faults.some((f) => f.includes('daemon alone'))).length} of the kills spared the programs the daemon had started (as a hand-made \`kill -9 PID\`; the others kill its process group, as systemd does): the cp or tar ran on while the daemon restarted. In ${kills.filter((r) => r.faults.some((f) => f.startsWith('its restart SIGKILLed'))).length} trials the restart itself was killed first, at a seeded step of its recovery (the hook armed from the process's start), before the restart that is judged.`,
    '',
    'Fixed because these campaigns (5 and 4b) found them (regression tests in packages/):',
    '',
    ...DAEMON_BUGS.map((b) => `- ${b.title} — ${b.test}`),
    '',
    "Not covered: device-mapper thin volumes (they need the qemu guest of `tools/test-all.sh`'s dm-guest stage); backups to s3:// from the daemon (the crash campaign covers s3 with convoy-backup); kills of a daemon while a real Docker engine holds its volumes (apps/daemon/test/docker-kill-restart.test.ts covers one case).",
    '',
  ];
}

export function sharedVfsSection(rs: readonly TrialRecord[]): string[] {
  const rounds = rs.filter((r) => r.op !== 'final');
  const total = (key: RegExp): number =>
    rounds.reduce(
      (n, r) =>
        n +
        Object.entries(r.measures)
          .filter(([k]) => key.test(k))
          .reduce((m, [, v]) => m + v, 0),
      0,
    );
  return [
    '## 4b. Concurrency: two daemons on one vfs path',
    '',
    'Two convoy-daemon processes with their own `--root` and host ids share one vfs base path, as two hosts on NFS. In each round four streams run at once — on each daemon a Docker stream (the plugin protocol: Create, Get, Mount with a fresh ID, Unmount, Remove, as Docker sends them) and an operator stream (the control API: create, delete, delete --force) — each a seeded sequence of operations on the same few names; a Docker stream keeps a marker file in each volume it holds mounted. In about half of the rounds (seeded) one daemon is killed with SIGKILL after a seeded number of calls and restarted while the other goes on; calls to it in that window may get no answer (their effect is then unknown, and the checks allow both). Every call must answer (no hang, no deadlock) with success or a refusal two hosts must expect (exists, not found, in use, referenced, incomplete, being deleted, deleted by the other host); a volume one daemon mounts is never deleted by the other (its mountpoint and marker stay until it is unmounted); a volume disappears only through a delete that succeeded; at the end of a round both daemons list the same volumes, no lease is left, and the base path is consistent. At the end both daemons restart (one with kill -9) and must still agree.',
    '',
    table(
      [
        'rounds',
        'daemons killed mid-round',
        'calls',
        'succeeded',
        'refused as expected',
        'no answer (daemon killed)',
        'mounts held',
        'deletes that succeeded',
        'failed',
      ],
      [
        [
          rounds.length,
          total(/^daemonKills$/),
          total(/ /),
          total(/ ok$/),
          total(/ (CONVOY_|refused)/),
          total(/ killed$/),
          total(/^docker-mount ok$/),
          total(/^(delete|delete --force|docker-remove) ok$/),
          failed(rounds),
        ],
      ],
    ),
    '',
    ...finalTrialLines(rs),
    '',
  ];
}
