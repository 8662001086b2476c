// Size of @convoy/fileindex's index for the issue-12 tree shape (20,000 small files in 200
// directories + 4 large files): segments, bytes raw and zstd-compressed, how many segments an
// incremental after a 1 % scattered change (+ an append to a large file) writes anew, and how
// many segments a single-file lookup reads. Synthetic entries: no files are written.
//
//   npm run bench:fileindex -w tools/bench -- [--files 20000] [--min-kib 128] [--cut-bits 11]
import {
  DEFAULT_SEGMENT_PARAMS,
  FileIndexReader,
  FileIndexWriter,
  decodeRoot,
  type FileEntry,
  type SegmentParams,
  type SegmentRef,
} from '@convoy/fileindex';
import { compress } from '@mongodb-js/zstd';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { UsageError, parseCommandLine } from './cli-args.js';

const USAGE = 'usage: fileindex.ts [--files N (default 20000)] [--min-kib N (segment minimum, default 128)] [--cut-bits N (default 11)]';
const opts = parseCommandLine<{ files: number; params: SegmentParams }>('fileindex.ts', USAGE, (argv) => {
  const { values } = parseArgs({
    args: argv,
    options: { files: { type: 'string' }, 'min-kib': { type: 'string' }, 'cut-bits': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help === true) return 'help';
  const int = (v: string | undefined, name: string, dflt: number): number => {
    const n = Number(v ?? dflt);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
    return n;
  };
  const minBytes = int(values['min-kib'], 'min-kib', DEFAULT_SEGMENT_PARAMS.minBytes / 1024) * 1024;
  return {
    files: int(values.files, 'files', 20000),
    params: { ...DEFAULT_SEGMENT_PARAMS, minBytes, cutBits: int(values['cut-bits'], 'cut-bits', DEFAULT_SEGMENT_PARAMS.cutBits) },
  };
});
if (typeof opts === 'number') process.exit(opts);
const { params } = opts;

const id = (s: string): string => createHash('sha256').update(s).digest('hex');
const base = { mode: 0o644, uid: 1000, gid: 1000 };
const T0 = 1_764_600_000_000_000_000n;

function tree(files: number, version: number): FileEntry[] {
  const out: FileEntry[] = [];
  const dirs = Math.max(1, Math.round(files / 100));
  for (let d = 0; d < dirs; d++) {
    const dir = `data/dir${String(d).padStart(4, '0')}`;
    if (d === 0) out.push({ path: 'data', type: 'dir', ...base, mode: 0o755, mtimeNs: T0, ctimeNs: T0, ino: 2n, size: 0 });
    out.push({ path: dir, type: 'dir', ...base, mode: 0o755, mtimeNs: T0, ctimeNs: T0, ino: BigInt(10 + d), size: 0 });
    for (let f = 0; f < files / dirs; f++) {
      const n = d * 100 + f;
      const changed = version > 0 && n % 100 === 37; // 1 % scattered
      const size = 1000 + ((n * 7919) % 30000) + (changed ? 1 : 0);
      const t = changed ? T0 + 86_400_000_000_000n : T0;
      out.push({
        path: `${dir}/file${String(f).padStart(3, '0')}.txt`,
        type: 'file',
        ...base,
        mtimeNs: t,
        ctimeNs: t,
        ino: BigInt(100000 + n),
        size,
        chunks: [{ id: id(`${n}:${changed ? version : 0}`), size }],
      });
    }
  }
  for (let b = 0; b < 4; b++) {
    const size = 64 * 1048576 + (version > 0 && b === 0 ? 1048576 : 0);
    const sizes: number[] = [];
    for (let left = size; left > 0; left -= Math.min(left, 1258291)) sizes.push(Math.min(left, 1258291));
    out.push({
      path: `large${b}.bin`,
      type: 'file',
      ...base,
      mtimeNs: T0,
      ctimeNs: T0,
      ino: BigInt(900 + b),
      size,
      chunks: sizes.map((s, i) => ({ id: id(`L${b}:${i}:${version > 0 && b === 0 && i === sizes.length - 1 ? version : 0}`), size: s })),
    });
  }
  return out;
}

async function build(entries: FileEntry[]): Promise<{ refs: SegmentRef[]; objects: Map<string, Buffer>; root: Buffer }> {
  const objects = new Map<string, Buffer>();
  const w = new FileIndexWriter({
    root: { mode: 0o755, uid: 0, gid: 0, mtimeNs: T0 },
    store: async (s) => void objects.set(s.ref.id, s.bytes),
    params,
  });
  for (const e of entries) await w.add(e);
  const { root, bytes } = await w.finish();
  return { refs: root.segments, objects, root: bytes };
}

const zstdBytes = async (bs: Buffer[]): Promise<number> =>
  (await Promise.all(bs.map((b) => compress(b)))).reduce((a, b) => a + b.length, 0);

const full = await build(tree(opts.files, 0));
const raw = [...full.objects.values()];
console.log(
  `file index of ${opts.files} small files in ${Math.round(opts.files / 100)} directories + 4 × 64 MiB files, segments ${JSON.stringify(opts.params)}:`,
);
console.log(
  `  full:        ${full.refs.length} segments, ${raw.reduce((a, b) => a + b.length, 0)} bytes NDJSON (${await zstdBytes(raw)} with zstd), root ${full.root.length} bytes`,
);
const incr = await build(tree(opts.files, 1));
const fresh = [...incr.objects.entries()].filter(([k]) => !full.objects.has(k)).map(([, v]) => v);
console.log(
  `  incremental: ${fresh.length} of ${incr.refs.length} segments new, ${fresh.reduce((a, b) => a + b.length, 0)} bytes NDJSON (${await zstdBytes(fresh)} with zstd)`,
);
let reads = 0;
const reader = new FileIndexReader(decodeRoot(incr.root, 'bench'), async (r) => {
  reads++;
  return incr.objects.get(r.id)!;
});
const t0 = process.hrtime.bigint();
const e = await reader.lookup('data/dir0123/file042.txt');
console.log(
  `  lookup of one file: ${reads} segment(s) read, ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms, found ${e?.path}`,
);
const t1 = process.hrtime.bigint();
let n = 0;
for await (const _ of reader.entries()) n++;
const t2 = process.hrtime.bigint();
const w0 = process.hrtime.bigint();
await build(tree(opts.files, 1));
console.log(
  `  read all ${n} entries: ${(Number(t2 - t1) / 1e6).toFixed(0)} ms; write them: ${(Number(process.hrtime.bigint() - w0) / 1e6).toFixed(0)} ms (synthetic entries included)`,
);
