// The damage campaign 3 inflicts on a copy of a healthy store, through raw object access (never
// Convoy's code): which object, what was done to it, and which backups need it.
import { blockKey } from './images.js';
import type { Rng } from './prng.js';
import type { RawStore } from './stores.js';
import type { Backup } from './world.js';

export const DAMAGE_KINDS = [
  'block-flip',
  'block-delete',
  'block-swap',
  'manifest-truncate',
  'blockmap-remove',
  'header-garble',
  'index-run-remove',
  'index-run-garble',
  'generation-remove',
  'generation-garble',
] as const;
export type DamageKind = (typeof DAMAGE_KINDS)[number];

export interface Damage {
  kind: DamageKind;
  /** The damaged objects (store keys). */
  keys: string[];
  /** Backups that can no longer be restored (of the damaged volume, or all for the header). */
  affected: Backup[];
  /** The header: every operation on the store must refuse it. */
  storeWide: boolean;
  /** The reference index: no backup needs it to restore, maintenance needs it to collect safely. */
  index: boolean;
  text: string;
}

export interface DamageTarget {
  raw: RawStore;
  /** Backups of the volume to damage, oldest first (two). */
  victims: Backup[];
  /** Every backup in the store. */
  all: Backup[];
}

const manifestKey = (b: Backup): string => `volumes/${b.volume}/backups/${b.id}.json`;
const blockMapKey = (b: Backup): string => `volumes/${b.volume}/backups/${b.id}.blocks`;
const idsOf = (b: Backup): Set<string> => new Set(b.state.blockIds.filter((id): id is string => id !== null));

/** Overwrites `n` bytes at a seeded offset in [from, length) with 0xff. */
function garble(rng: Rng, body: Buffer, from: number, n = 8): Buffer {
  const out = Buffer.from(body);
  const at = rng.int(Math.min(from, out.length - 1), Math.max(from, out.length - n));
  for (let i = at; i < Math.min(out.length, at + n); i++) out[i] = 0xff;
  return out;
}

async function mustGet(raw: RawStore, key: string): Promise<Buffer> {
  const body = await raw.get(key);
  if (body === undefined) throw new Error(`damage: ${key} is not in the store`);
  return body;
}

/** Block ids only `b` uses among `all` (so damaging them touches no other backup). */
function uniqueBlocks(b: Backup, all: readonly Backup[]): string[] {
  const others = new Set(all.filter((x) => x !== b).flatMap((x) => [...idsOf(x)]));
  return [...idsOf(b)].filter((id) => !others.has(id)).sort();
}

/** The runs and the key of the newest generation of the reference index. */
async function newestGeneration(raw: RawStore): Promise<{ key: string; runs: string[] }> {
  const gens = (await raw.list('refs/index/')).filter((k) => k.endsWith('.json')).sort();
  const key = gens.at(-1);
  if (key === undefined) throw new Error('damage: the store has no reference index generation (run maintenance first)');
  const g = JSON.parse((await mustGet(raw, key)).toString('utf8')) as { shards: Record<string, { key: string }[]> };
  return {
    key,
    runs: Object.values(g.shards)
      .flatMap((rs) => rs.map((r) => r.key))
      .sort(),
  };
}

export async function inflict(kind: DamageKind, rng: Rng, t: DamageTarget): Promise<Damage> {
  const { raw } = t;
  const [first, second] = t.victims as [Backup, Backup];
  const base = { kind, storeWide: false, index: false };
  switch (kind) {
    case 'block-flip': {
      const id = rng.pick(uniqueBlocks(second, t.all));
      const key = blockKey(id);
      const body = Buffer.from(await mustGet(raw, key));
      const at = rng.int(12, body.length - 1); // past the 12-byte block header: the payload
      body[at] = (body[at] as number) ^ (1 << rng.int(0, 7));
      await raw.put(key, body);
      return { ...base, keys: [key], affected: [second], text: `flipped one bit at byte ${at} of ${key}` };
    }
    case 'block-delete': {
      const key = blockKey(rng.pick(uniqueBlocks(second, t.all)));
      await raw.remove(key);
      return { ...base, keys: [key], affected: [second], text: `deleted ${key}` };
    }
    case 'block-swap': {
      const a = blockKey(rng.pick(uniqueBlocks(first, t.all)));
      const b = blockKey(rng.pick(uniqueBlocks(second, t.all)));
      const [ba, bb] = [await mustGet(raw, a), await mustGet(raw, b)];
      await raw.put(a, bb);
      await raw.put(b, ba);
      return { ...base, keys: [a, b], affected: [first, second], text: `swapped the contents of ${a} and ${b}` };
    }
    case 'manifest-truncate': {
      const key = manifestKey(first);
      const body = await mustGet(raw, key);
      const keep = rng.int(1, body.length - 1);
      await raw.put(key, body.subarray(0, keep));
      return { ...base, keys: [key], affected: [first], text: `truncated ${key} to ${keep} of ${body.length} bytes` };
    }
    case 'blockmap-remove': {
      const key = blockMapKey(second);
      await raw.remove(key);
      return { ...base, keys: [key], affected: [second], text: `removed ${key}` };
    }
    case 'header-garble': {
      const body = await mustGet(raw, 'convoy.json');
      await raw.put('convoy.json', garble(rng, body, 0));
      return { ...base, storeWide: true, keys: ['convoy.json'], affected: [...t.all], text: 'overwrote 8 bytes of convoy.json with 0xff' };
    }
    case 'index-run-remove':
    case 'index-run-garble': {
      const { runs } = await newestGeneration(raw);
      const key = rng.pick(runs);
      if (kind === 'index-run-remove') await raw.remove(key);
      else await raw.put(key, garble(rng, await mustGet(raw, key), 44, 1)); // one byte of the body (past the 44-byte header)
      return {
        ...base,
        index: true,
        keys: [key],
        affected: [],
        text: kind === 'index-run-remove' ? `removed ${key}` : `overwrote one byte of ${key}'s body`,
      };
    }
    case 'generation-remove':
    case 'generation-garble': {
      const { key } = await newestGeneration(raw);
      if (kind === 'generation-remove') await raw.remove(key);
      else await raw.put(key, garble(rng, await mustGet(raw, key), 0));
      return {
        ...base,
        index: true,
        keys: [key],
        affected: [],
        text:
          kind === 'generation-remove'
            ? `removed ${key} (the newest generation)`
            : `overwrote 8 bytes of ${key} (the newest generation) with 0xff`,
      };
    }
  }
}
