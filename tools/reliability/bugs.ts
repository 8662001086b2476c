// Bugs in packages/ and apps/ that the campaigns found. They are not fixed here (other people own
// that code): each has a focused test in bugs.test.ts that failed when the bug was found and
// passes once it is fixed (then it guards against a regression), and campaign trials that fail
// because of one are tagged with its id (the failure still counts: it is a real one).
import type { TrialRecord } from './trial.js';

export interface KnownBug {
  id: string;
  title: string;
  /** Where the fault is. */
  where: string;
  /** Shell steps that show it. */
  reproduce: string;
  /** The commit that fixed it, if any (a failing test then means a regression). */
  fixedIn?: string;
  /** Whether a failure (one line of a record's `failures`) is this bug showing. */
  matches(record: TrialRecord, failure: string): boolean;
}

const INDEX_OPS = ['index-run-remove', 'index-run-garble', 'generation-remove', 'generation-garble'];

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: 'B1',
    fixedIn: 'fc347b9',
    title: 'A removed reference-index generation makes full maintenance delete blocks that committed backups use (silent data loss)',
    where:
      'packages/blockstore/src/refs/generation.ts loadLatestGeneration (a missing newest generation reads as the previous one, or as an empty index) and the sweep, which trusts it',
    reproduce: [
      'S=vfs:///tmp/b1; convoy-backup create disk.img --dest $S --volume v',
      'convoy-backup maintenance $S                  # merges the add marker into refs/index/000000000001.json, removes the marker',
      'rm /tmp/b1/refs/index/000000000001.json       # one lost object (a person, a lifecycle rule, a bad disk)',
      'convoy-backup maintenance $S --full --grace 0s; convoy-backup maintenance $S --full --grace 0s   # exit 0 both',
      'convoy-backup verify $S --read-data           # exit 3: every block of the backup is missing',
    ].join('\n'),
    matches: (r, f) => r.op === 'generation-remove' && /CONVOY_BLOCK_MISSING|did not spread|nothing lost/.test(f),
  },
  {
    id: 'B2',
    fixedIn: 'fc347b9',
    title: 'verify does not check the reference index: a removed or corrupt run or generation passes `verify --read-data` (exit 0)',
    where: 'packages/blockstore/src/verify.ts (reads manifests, block maps and blocks only)',
    reproduce: [
      'S=vfs:///tmp/b2; convoy-backup create disk.img --dest $S --volume v; convoy-backup maintenance $S',
      'printf "\\xff" | dd of=$(ls /tmp/b2/refs/runs/*/*.run | head -1) bs=1 seek=60 conv=notrunc',
      'convoy-backup verify $S --read-data           # exit 0, "ok"; maintenance --full then fails CONVOY_INDEX_CORRUPT, and nothing can rebuild the index',
    ].join('\n'),
    matches: (r, f) =>
      INDEX_OPS.includes(r.op) &&
      /^verify (exits 3|names the damaged object)/.test(f) &&
      !r.failures.some((x) => x.includes('CONVOY_OBJECT_KEY_INVALID')),
  },
  {
    id: 'B3',
    fixedIn: 'fc347b9',
    title: 'A damaged newest backup (block map or manifest unreadable) stops every later default backup of its volume',
    where:
      'packages/blockstore/src/backup.ts (the default parent is the newest id; its manifest and map must read, with no fall-back to an older backup or a full backup)',
    reproduce: [
      'S=vfs:///tmp/b3; convoy-backup create disk.img --dest $S --volume v',
      'rm /tmp/b3/volumes/v/backups/*.blocks',
      'convoy-backup create disk.img --dest $S --volume v   # exit 1 CONVOY_MANIFEST_INVALID until the damaged backup is deleted or --parent none is given',
    ].join('\n'),
    matches: (_r, f) => f.startsWith('a backup of the damaged volume goes on') && f.includes('CONVOY_MANIFEST_INVALID'),
  },
  {
    id: 'B5',
    fixedIn: 'fc347b9',
    title:
      'A backup whose manifest a maintenance merges between its manifest write and its marker check is withdrawn (exit 1 CONVOY_LOCK_LOST) and its blocks leak for good',
    where:
      "packages/blockstore/src/backup.ts commitV2: after the manifest it takes a missing add marker as 'judged abandoned', but a maintenance that saw the manifest merged the marker (+1 in the index) and removed it; the backup then deletes its committed manifest, and no tombstone will ever subtract those references",
    reproduce: [
      'S=vfs:///tmp/b5; convoy-backup create disk.img --dest $S --volume v; convoy-backup maintenance $S; (change disk.img)',
      'convoy-backup create disk.img --dest $S --volume v &   # SIGSTOP it the moment volumes/v/backups/<new id>.json appears (inotify; bugs.test.ts holds its next request in a proxy instead, on radosgw)',
      'convoy-backup maintenance $S                           # quick, default grace: merges the new backup (adds: 1) and removes its marker',
      'kill -CONT %1                                          # exit 1 CONVOY_LOCK_LOST "judged abandoned"; the manifest is gone',
      "convoy-backup maintenance $S --full --grace 0s (twice) # the withdrawn backup's new blocks stay: referenced by the index, by no manifest",
    ].join('\n'),
    matches: (r, f) =>
      r.op === 'B5' || (r.campaign !== 'known-bug' && r.outcome.includes('CONVOY_LOCK_LOST') && f.startsWith('no leaked blocks')),
  },
  {
    id: 'B4',
    fixedIn: 'fc347b9',
    title: 'create reports a duration of 0 (`stats.durationMs: 0` with --json, "in 0.0 s" without) on format v2 stores',
    where:
      'packages/blockstore/src/backup.ts backupVolume returns the manifest built before commitV2 set durationMs; the stored manifest has the real value',
    reproduce:
      'convoy-backup create disk.img --dest vfs:///tmp/b4 --volume v --json   # stats.durationMs 0; `convoy-backup inspect URL --json` shows the real one',
    matches: (r) => r.op === 'B4',
  },
  {
    id: 'B6',
    fixedIn: '5d826f7',
    title:
      'After `maintenance --rebuild-index` repaired a garbled generation, the next maintenance still fails CONVOY_INDEX_CORRUPT naming that old generation (once)',
    where:
      'packages/blockstore/src/maintenance/maintenance.ts pruneGenerations: it reads the generations it keeps without tolerating a corrupt one (it tolerates them only among those it deletes), after committing its own generation; the run after that succeeds',
    reproduce: [
      'S=vfs:///tmp/b6; convoy-backup create disk.img --dest $S --volume v; convoy-backup maintenance $S',
      '(change disk.img); convoy-backup create disk.img --dest $S --volume v; convoy-backup maintenance $S   # generations 1 and 2',
      'printf "\\xff\\xff\\xff\\xff" | dd of=/tmp/b6/refs/index/000000000002.json bs=1 seek=10 conv=notrunc',
      'convoy-backup maintenance $S --rebuild-index          # exit 0, generation 3; verify is clean',
      'convoy-backup maintenance $S --full --grace 0s        # exit 1 CONVOY_INDEX_CORRUPT refs/index/000000000002.json (no sweep); run again: exit 0',
    ].join('\n'),
    matches: (r, f) =>
      r.op === 'B6' ||
      (r.op === 'generation-garble' && f.startsWith('full maintenance succeeds after the recovery') && f.includes('CONVOY_INDEX_CORRUPT')),
  },
  {
    id: 'B7',
    fixedIn: 'b60a008',
    title:
      'A generation whose JSON still parses but holds a garbled run key makes verify exit 1 with CONVOY_OBJECT_KEY_INVALID (a key-syntax hint) instead of exit 3 naming the generation; quick maintenance copies the bad key into the next generation',
    where:
      'packages/blockstore/src/refs/generation.ts: the generation schema takes any string as a run key, so the damage surfaces later as an invalid object key in @convoy/objectstore rather than as CONVOY_INDEX_CORRUPT naming refs/index/<gen>.json',
    reproduce: [
      'S=vfs:///tmp/b7; convoy-backup create disk.img --dest $S --volume v; convoy-backup maintenance $S',
      "python3 -c \"p='/tmp/b7/refs/index/000000000001.json'; b=bytearray(open(p,'rb').read()); i=b.find(b'refs/runs/')+6; b[i:i+4]=b'\\xff'*4; open(p,'wb').write(b)\"",
      'convoy-backup verify $S --read-data --json           # exit 1 CONVOY_OBJECT_KEY_INVALID, no problem list',
      'convoy-backup maintenance $S; convoy-backup maintenance $S --full --grace 0s   # exit 0 (generation 2 keeps the bad key), then exit 1 the same way',
    ].join('\n'),
    matches: (r, f) =>
      r.op === 'B7' ||
      (r.op === 'generation-garble' &&
        r.failures.some((x) => x.includes('CONVOY_OBJECT_KEY_INVALID')) &&
        /^(verify|maintenance|full maintenance)/.test(f)),
  },
];

/** Ids of the known bugs a record's failures show. */
export function classify(record: TrialRecord): string[] {
  return KNOWN_BUGS.filter((b) => record.failures.some((f) => b.matches(record, f))).map((b) => b.id);
}
