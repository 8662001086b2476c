import { ObjectExistsError, readJsonRecord, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import { confirmWritten } from '../confirm-writes.js';
import { BlockstoreError } from '../errors.js';
import { INDEX_PREFIX, LATEST_KEY, generationKey, parseGenerationKey } from '../format/layout.js';
import { refCorrupt } from '../format/ref-file.js';

/**
 * A generation of the reference index (docs/format.md, "Reference index"): for each shard (the
 * first `shardDigits` hex digits of a block id) the count runs whose sum, id by id, is the number
 * of committed backups that reference the block. Written only-if-absent as
 * `refs/index/<gen>.json`: the newest generation is the index, and two maintenance runs can never
 * both commit the same one. `consumed` names the pending markers merged into it, so a run that
 * crashed after committing never merges them twice.
 */
const runRef = z.object({
  key: z.string().regex(/^refs\/runs\/[0-9a-f]{1,4}\/\d{12}-[0-9a-f]{8}\.run$/, 'not a run key'),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type RunRef = z.infer<typeof runRef>;

const generationSchema = z
  .object({
    format: z.literal('convoy-ref-index'),
    version: z.literal(1),
    gen: z.number().int().nonnegative(),
    created: z.string(),
    shardDigits: z.number().int().min(1).max(4),
    shards: z.record(z.string().regex(/^[0-9a-f]{1,4}$/), z.array(runRef)),
    consumed: z.array(z.string()),
  })
  .refine(
    (g) =>
      Object.entries(g.shards).every(
        ([shard, runs]) => shard.length === g.shardDigits && runs.every((r) => r.key.startsWith(`refs/runs/${shard}/`)),
      ),
    {
      message: 'a run is filed under the wrong shard',
    },
  );
export type Generation = z.infer<typeof generationSchema>;

export const emptyGeneration = (shardDigits: number): Generation => ({
  format: 'convoy-ref-index',
  version: 1,
  gen: 0,
  created: new Date(0).toISOString(),
  shardDigits,
  shards: {},
  consumed: [],
});

export function shardsOf(digits: number): string[] {
  return Array.from({ length: 16 ** digits }, (_, i) => i.toString(16).padStart(digits, '0'));
}

export const shardOfId = (id: Buffer, digits: number): string => id.toString('hex', 0, Math.ceil(digits / 2)).slice(0, digits);

/** Generation numbers present in the store, ascending. */
export async function listGenerations(store: ObjectStore, signal?: AbortSignal): Promise<number[]> {
  const gens: number[] = [];
  for await (const o of store.list(INDEX_PREFIX, { signal })) {
    const g = parseGenerationKey(o.key);
    if (g !== undefined) gens.push(g);
  }
  return gens.sort((a, b) => a - b);
}

export async function readGeneration(store: ObjectStore, gen: number, signal?: AbortSignal): Promise<Generation | undefined> {
  const key = generationKey(gen);
  const g = await readJsonRecord(store, key, generationSchema, (reason) => refCorrupt(key, reason), { signal });
  if (g !== undefined && g.gen !== gen) throw refCorrupt(key, `holds generation ${g.gen}`);
  return g;
}

const latestSchema = z.object({ gen: z.number().int().positive() });

/** The generation the pointer (`refs/latest.json`, rewritten after each commit) names, if any. */
export async function readLatestPointer(store: ObjectStore, signal?: AbortSignal): Promise<number | undefined> {
  return (await readJsonRecord(store, LATEST_KEY, latestSchema, (reason) => refCorrupt(LATEST_KEY, reason), { signal }))?.gen;
}

export const indexLost = (gen: number): BlockstoreError =>
  new BlockstoreError('CONVOY_INDEX_CORRUPT', `reference index generation ${gen} (${generationKey(gen)}) is missing or unreadable`, {
    hint: 'nothing is deleted while the index is damaged; run `convoy-backup maintenance STORE --rebuild-index` to rebuild it from the backups',
    details: { key: generationKey(gen) },
  });

/**
 * The newest generation, or an empty generation 0 for a store whose index was never written. A
 * generation the pointer names that is missing (an object lost to a person, a lifecycle rule, a
 * disk) is CONVOY_INDEX_CORRUPT, never the previous one: an older index would let the sweep delete
 * blocks that backups merged since then use.
 */
export async function loadLatestGeneration(store: ObjectStore, shardDigits: number, signal?: AbortSignal): Promise<Generation> {
  const pointer = await readLatestPointer(store, signal);
  const gens = await listGenerations(store, signal);
  if (pointer !== undefined && !gens.includes(pointer) && (gens.at(-1) ?? 0) < pointer) throw indexLost(pointer);
  for (let i = gens.length - 1; i >= 0; i--) {
    const g = await readGeneration(store, gens[i] as number, signal);
    if (g !== undefined) return g;
    if (pointer !== undefined && (gens[i] as number) >= pointer) throw indexLost(gens[i] as number); // listed, then gone
  }
  return emptyGeneration(shardDigits);
}

/** Commits a generation, then points at it; fails with CONVOY_STORE_LOCKED if another maintenance committed it first. */
export async function commitGeneration(store: ObjectStore, g: Generation, signal?: AbortSignal): Promise<void> {
  // Runs this generation wrote (named after it), then the generation itself, are confirmed before
  // anything points at them: a lost one would leave an index no maintenance can read.
  const tag = `/${String(g.gen).padStart(12, '0')}-`;
  const fresh = Object.values(g.shards)
    .flatMap((runs) => runs.map((r) => r.key))
    .filter((k) => k.includes(tag));
  await confirmWritten(store, fresh, `reference index generation ${g.gen} was not committed`, signal);
  try {
    await store.put(generationKey(g.gen), Buffer.from(`${JSON.stringify(g)}\n`), { ifAbsent: true, signal });
    await confirmWritten(store, [generationKey(g.gen)], 'the index pointer was not moved to it', signal);
    await store.put(LATEST_KEY, Buffer.from(`${JSON.stringify({ gen: g.gen })}\n`), { signal });
  } catch (err) {
    if (err instanceof ObjectExistsError) {
      throw new BlockstoreError('CONVOY_STORE_LOCKED', `reference index generation ${g.gen} was committed by another maintenance run`, {
        hint: 'two maintenance runs overlapped (one lost its lease); run maintenance again',
      });
    }
    throw err;
  }
}
