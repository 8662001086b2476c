import { parseBackupUrl, readManifest, type Manifest } from '@convoy/blockstore';
import { examples, formatBytes, formatDuration, formatTable, formatTime } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface InspectArgs {
  url: string;
}

export const inspectCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'inspect <url>',
      "Show a backup's manifest",
      (b) =>
        b.positional('url', { type: 'string', demandOption: true, describe: 'Backup URL, as create prints it' }).epilogue(
          examples([
            ["convoy-backup inspect 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=vm1'", 'Human-readable summary'],
            [
              "convoy-backup inspect 's3://bk@us-east-1/db?backup=20261124T170000000Z-3f9a1c&volume=db' --json",
              'The manifest as JSON (plus its url)',
            ],
          ]),
        ),
      (args) => select((ctx) => runInspect(args, ctx), args),
    ),
};

export async function runInspect(args: InspectArgs, ctx: CommandContext): Promise<number> {
  const ref = parseBackupUrl(args.url);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  let m: Manifest;
  try {
    m = await readManifest(store, ref.volume, ref.id, ctx.signal);
  } finally {
    await store.close();
  }
  const url = redactUrl(args.url);
  ctx.out.result({ ...m, url }, () => describeManifest(m, url));
  return EXIT.ok;
}

function describeManifest(m: Manifest, url: string): string[] {
  const s = m.stats;
  const labels = Object.entries(m.labels).map(([k, v]) => `${k}=${v}`);
  const rows: [string, string][] = [
    ['backup', m.id],
    ['volume', m.volume],
    ['url', url],
    ['created', formatTime(m.created)],
    ['snapshot', m.snapshot ?? '-'],
    ['size', `${formatBytes(m.size)} (${m.size} bytes)`],
    ['block size', formatBytes(m.blockSize)],
    ['compression', m.compression],
    ['block id', m.blockId],
    ['parent', m.parent ?? '-'],
    ['labels', labels.length === 0 ? '-' : labels.join(', ')],
    ...(m.kind === 'directory'
      ? ([
          ['kind', 'directory (convoy-backup ls URL lists its files)'],
          ['files', `${m.files?.entries ?? 0} entries; index ${m.files?.key ?? '-'}`],
          [
            'objects',
            `${m.blockMap.entries} referenced (chunks, packs, index segments); ${m.packs === undefined ? 'no packs' : `pack map ${m.packs.id.slice(0, 16)}… (${m.packs.entries} packed chunks)`}`,
          ],
        ] as [string, string][])
      : ([['blocks', `${m.blockMap.entries} with data of ${s.blocksTotal} (${formatBytes(m.blockMap.bytes)}); the rest are holes`]] as [
          string,
          string,
        ][])),
    ['block map', `${m.blockMap.key} (sha256 ${m.blockMap.sha256.slice(0, 16)}…)`],
    ['read', `${s.blocksRead} blocks (${formatBytes(s.bytesRead)})`],
    ['uploaded', `${s.blocksUploaded} blocks (${formatBytes(s.bytesUploaded)}); the others were already in the store`],
    ['took', formatDuration(s.durationMs)],
  ];
  return formatTable(['FIELD', 'VALUE'], rows).slice(1);
}
