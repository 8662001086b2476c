// What an encrypted store must not reveal (docs/format.md, "Encryption"): no stored object other
// than the header (convoy.json) and the key files (keys/) holds a piece of a source image, and no
// object's name or body holds a plain block id (the sha256 of a block, which a plain store names
// its blocks by). Samples are taken from the random and text regions of every state a completed
// backup was taken of, at offsets drawn from each region's own seed.
import fs from 'node:fs/promises';
import { REGION, regionBytes, type ImageState } from './images.js';
import { Rng } from './prng.js';
import type { Trial } from './trial.js';
import type { World } from './world.js';

const SAMPLE_BYTES = 48;
const MAX_SAMPLES = 48;
const MAX_IDS = 32;

/** Objects an encrypted store keeps plain: what it takes to find the key. */
export const isPlainObject = (key: string): boolean => key === 'convoy.json' || key.startsWith('keys/');

interface Sample {
  bytes: Buffer;
  /** Where it comes from: for a failure message, and to check it against the source. */
  what: string;
  state: ImageState;
}

/** Up to MAX_SAMPLES samples of the non-zero regions of `states` (two per region, at seeded offsets). */
export function plaintextSamples(states: readonly ImageState[]): Sample[] {
  const out: Sample[] = [];
  const seen = new Set<number>();
  for (const state of states) {
    state.regions.forEach((region, i) => {
      if (region.kind === 'zero' || seen.has(region.seed) || out.length >= MAX_SAMPLES) return;
      seen.add(region.seed);
      const length = Math.min(REGION, state.size - i * REGION);
      const bytes = regionBytes(region, length);
      const rng = new Rng(region.seed).fork('plaintext-sample');
      for (let k = 0; k < 2 && length > SAMPLE_BYTES; k++) {
        const at = rng.int(0, length - SAMPLE_BYTES);
        out.push({
          bytes: Buffer.from(bytes.subarray(at, at + SAMPLE_BYTES)),
          what: `${region.kind} region ${i} (seed ${region.seed}) at +${at}`,
          state,
        });
      }
    });
  }
  return out;
}

/**
 * The check on the store of `w` (encrypted): every stored object but the plain ones is read raw
 * and searched for each sample and each plain block id (hex in names and bodies, raw bytes in
 * bodies). The samples are first found in the volumes' source files, so the search itself is
 * known to see what it looks for.
 */
export async function checkNoPlaintext(w: World, trial: Trial): Promise<void> {
  const states = [...w.backups().map((b) => b.state), ...[...w.volumes.values()].map((v) => v.state)];
  const samples = plaintextSamples(states);
  const ids = [...new Set(states.flatMap((s) => s.blockIds).filter((id): id is string => id !== null))].slice(0, MAX_IDS);
  // The search sees plaintext where it is: each sample of a volume's current state is in its source file.
  let inSources = 0;
  for (const v of w.volumes.values()) {
    if (v.dir !== undefined) continue;
    const source = await fs.readFile(v.source);
    for (const s of samples.filter((x) => x.state === v.state)) {
      if (source.includes(s.bytes)) inSources++;
      else trial.fail(`plaintext sample not found in its own source ${v.source}: ${s.what}`);
    }
  }
  trial.check('the plaintext search finds its samples in the sources', inSources > 0 && samples.length > 0, 'no sample to search for');
  const found: string[] = [];
  let objects = 0;
  let bytes = 0;
  for (const key of await w.store.raw.list('')) {
    if (isPlainObject(key)) continue;
    for (const id of ids) if (key.includes(id)) found.push(`the name ${key} holds the plain block id ${id.slice(0, 12)}…`);
    const body = await w.store.raw.get(key);
    if (body === undefined) continue; // removed meanwhile
    objects++;
    bytes += body.length;
    for (const s of samples) if (body.includes(s.bytes)) found.push(`${key} holds ${SAMPLE_BYTES} plain bytes of a source (${s.what})`);
    for (const id of ids) {
      if (body.includes(Buffer.from(id, 'hex')) || body.includes(Buffer.from(id, 'latin1')))
        found.push(`${key} holds the plain block id ${id.slice(0, 12)}…`);
    }
  }
  trial.measure('plaintextSamples', samples.length);
  trial.measure('objectsSearched', objects);
  trial.measure('bytesSearched', bytes);
  trial.check(
    'an encrypted store holds no plaintext of a source and no plain block id',
    objects > 0 && found.length === 0,
    objects === 0 ? 'no stored object to search' : `${found.length} finding(s): ${found.slice(0, 5).join('; ')}`,
  );
}
