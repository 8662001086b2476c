// The Convoy side of tools/bench/backup.ts: one backup or restore through @convoy/blockstore into
// an object store (a directory, or an s3:// URL), as a child process of its own, so the bench
// measures its wall time and peak RSS under GNU time exactly as it does borg's and restic's.
// Prints one JSON line on success.
//
//   node --conditions=@convoy/source --import ../source-resolve.ts backup-convoy-runner.ts \
//     backup  --store STORE --volume NAME --source FILE [--full] [--changed FILE] [--compression zstd]
//     restore --store STORE --volume NAME --target FILE [--id ID]   (default: the newest backup)
// STORE: a directory, vfs:///abs/path, or s3://bucket[@region]/prefix (endpoint and credentials
// from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, as the SDK reads
// them); --concurrency N sets both the blocks in flight and the S3 store's requests in flight.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FileSource, backupVolume, latestBackupId, parseCompression, parseExtents, restoreBackup } from '@convoy/blockstore';
import { FsObjectStore, openStore, type ObjectStore } from '@convoy/objectstore';

const USAGE = `usage: backup-convoy-runner.ts backup --store STORE --source FILE [--volume NAME] [--full] [--changed FILE] [--compression C] [--concurrency N]
       backup-convoy-runner.ts restore --store STORE --target FILE [--volume NAME] [--id ID] [--concurrency N]
STORE: a directory, vfs:///abs/path or s3://bucket[@region]/prefix (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, … from the environment)`;

/** A directory or a store URL; --concurrency also bounds an S3 store's requests in flight. */
function openRunnerStore(where: string, concurrency: number | undefined): Promise<ObjectStore> {
  if (!/^[a-z0-9]+:\/\//.test(where)) return new FsObjectStore(where).open();
  return openStore(where, { s3: concurrency === undefined ? {} : { concurrency } });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      store: { type: 'string' },
      volume: { type: 'string', default: 'bench' },
      source: { type: 'string' },
      target: { type: 'string' },
      id: { type: 'string' },
      full: { type: 'boolean', default: false },
      changed: { type: 'string' },
      compression: { type: 'string', default: 'zstd' },
      concurrency: { type: 'string' },
    },
  });
  const need = (name: 'store' | 'source' | 'target'): string => {
    const v = values[name];
    if (v === undefined) throw new Error(`${command ?? '(none)'} needs --${name}`);
    return v;
  };
  const concurrency = values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) };
  const store = await openRunnerStore(need('store'), concurrency.concurrency);
  try {
    if (command === 'backup') {
      const source = await FileSource.open(need('source'));
      try {
        const changed = values.changed === undefined ? undefined : parseExtents(await readFile(values.changed, 'utf8'));
        const { manifest, url } = await backupVolume({
          store,
          volume: values.volume,
          source,
          parent: values.full ? null : 'latest',
          changed,
          compression: parseCompression(values.compression),
          ...concurrency,
        });
        process.stdout.write(`${JSON.stringify({ url, id: manifest.id, stats: manifest.stats })}\n`);
      } finally {
        await source.close();
      }
    } else if (command === 'restore') {
      const id = values.id ?? (await latestBackupId(store, values.volume));
      if (id === undefined) throw new Error(`volume ${values.volume} has no backups in ${store.location}`);
      const result = await restoreBackup({ store, volume: values.volume, id, target: need('target'), ...concurrency });
      process.stdout.write(`${JSON.stringify({ id, blocksWritten: result.blocksWritten, bytesFetched: result.bytesFetched })}\n`);
    } else {
      throw new Error(`unknown command ${command ?? '(none)'}: backup or restore`);
    }
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: unknown; hint?: unknown; stack?: string; message?: string };
  process.stderr.write(
    `backup-convoy-runner: ${e.stack ?? e.message ?? String(err)}${typeof e.hint === 'string' ? `\nhint: ${e.hint}` : ''}\n`,
  );
  process.exitCode = 1;
});
