import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupVolume, blockKey, readBlockMap, readManifest, repairStore, verifyStore } from '../src/index.js';
import { BufferSource, MiB, mixedVolume } from '../src/test-helpers.js';
import { keysUnder } from './helpers.js';

const BS = 2 * MiB;

/** A store with one backup of `data` as volume `volume`; returns the backup's block keys in volume order. */
async function backedUp(store: MemoryObjectStore, volume: string, data: Buffer): Promise<{ id: string; keys: string[] }> {
  const { manifest } = await backupVolume({ store, volume, source: new BufferSource(data) });
  const map = await readBlockMap(store, await readManifest(store, volume, manifest.id));
  return { id: manifest.id, keys: [...map.ids()].map(blockKey) };
}

function flipLastByte(store: MemoryObjectStore, key: string): void {
  const bytes = Buffer.from(store.peek(key) as Buffer);
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
  store.corrupt(key, bytes);
}

const idOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1, -'.blk'.length);

describe('repairStore', () => {
  it('puts a missing block back from the source at the same offset', async () => {
    const store = new MemoryObjectStore();
    const data = mixedVolume(4, 5000); // random, text, zeros, random, a short tail
    const { keys } = await backedUp(store, 'v', data);
    const gone = keys[1] as string;
    await store.delete([gone]);
    expect((await verifyStore({ store })).ok).toBe(false);

    const source = new BufferSource(data);
    const result = await repairStore({ store, source });
    expect(result).toEqual({ blocksChecked: keys.length, dataChecked: false, repaired: [idOf(gone)], stillDamaged: [] });
    expect(source.bytesRead).toBe(BS); // found where the backup had it: no scan of the source
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    // nothing else to do the second time
    expect(await repairStore({ store, source: new BufferSource(data) })).toMatchObject({ repaired: [], stillDamaged: [] });
  });

  it('a block verify --read-data marked damaged is rewritten without --read-data, and its marker cleared', async () => {
    const store = new MemoryObjectStore();
    const data = mixedVolume(3);
    const { keys } = await backedUp(store, 'v', data);
    const bad = keys[0] as string;
    flipLastByte(store, bad);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([expect.objectContaining({ key: bad, kind: 'corrupt' })]);
    expect(await keysUnder(store, 'gc/damaged/')).toEqual([`gc/damaged/${idOf(bad)}`]);

    const result = await repairStore({ store, source: new BufferSource(data) });
    expect(result.repaired).toEqual([idOf(bad)]);
    expect(await keysUnder(store, 'gc/damaged/')).toEqual([]);
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
  });

  it('with readData a corrupt block nobody marked is found and rewritten; without it only existence is checked', async () => {
    const store = new MemoryObjectStore();
    const data = mixedVolume(3);
    const { keys } = await backedUp(store, 'v', data);
    const bad = keys[1] as string;
    flipLastByte(store, bad);

    expect(await repairStore({ store, source: new BufferSource(data) })).toMatchObject({
      dataChecked: false,
      repaired: [],
      stillDamaged: [],
    });
    const result = await repairStore({ store, source: new BufferSource(data), readData: true });
    expect(result).toMatchObject({ dataChecked: true, repaired: [idOf(bad)], stillDamaged: [] });
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
  });

  it('finds content that moved in the source, reading the source at most once more', async () => {
    const store = new MemoryObjectStore();
    const data = mixedVolume(4); // blocks 0 and 3 random, 1 text, 2 zeros
    const { keys } = await backedUp(store, 'v', data);
    const lost = [keys[0] as string, keys[2] as string];
    await store.delete(lost);

    // the same content one block further on, behind a block of other data
    const shifted = Buffer.concat([randomBytes(BS), data]);
    const source = new BufferSource(shifted);
    const result = await repairStore({ store, source });
    expect(result.repaired).toEqual(lost.map(idOf).sort());
    expect(result.stillDamaged).toEqual([]);
    // two reads where the backup had them (wrong content there), then one pass over the source
    expect(source.bytesRead).toBeLessThanOrEqual(2 * BS + shifted.length);
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
  });

  it('reports the backups a source cannot repair, marks corrupt blocks damaged, and leaves other volumes alone', async () => {
    const store = new MemoryObjectStore();
    const a = mixedVolume(4); // random, text, zeros, random: the random blocks are a's own
    const b = mixedVolume(4);
    const backupA = await backedUp(store, 'a', a);
    const backupA2 = await backedUp(store, 'a', a); // same content: shares every block
    const backupB = await backedUp(store, 'b', b);
    const [lostA, , badA] = backupA.keys as [string, string, string];
    await store.delete([lostA]);
    flipLastByte(store, badA);
    await store.delete([backupB.keys[0] as string]);

    const unrelated = new BufferSource(randomBytes(4 * BS));
    const result = await repairStore({ store, source: unrelated, volume: 'a', readData: true });
    expect(result.repaired).toEqual([]);
    expect(result.stillDamaged).toEqual([
      { backup: `a/${backupA.id}`, blocks: 2 },
      { backup: `a/${backupA2.id}`, blocks: 2 },
    ]);
    expect(result.blocksChecked).toBe(backupA.keys.length);
    // the corrupt one is marked, so the next backup that reads its content uploads it again
    expect(await keysUnder(store, 'gc/damaged/')).toEqual([`gc/damaged/${idOf(badA)}`]);
    // volume b was not looked at: its block is still missing
    expect(await store.stat(backupB.keys[0] as string)).toBeUndefined();

    // the right source repairs all of a's
    const fixed = await repairStore({ store, source: new BufferSource(a), volume: 'a' });
    expect(fixed.repaired).toEqual([idOf(lostA), idOf(badA)].sort());
    expect(fixed.stillDamaged).toEqual([]);
    expect(await keysUnder(store, 'gc/damaged/')).toEqual([]);
    expect((await verifyStore({ store, volume: 'a', readData: true })).ok).toBe(true);
  });

  it('names a backup whose block map cannot be read as still damaged', async () => {
    const store = new MemoryObjectStore();
    const data = mixedVolume(2);
    const { id } = await backedUp(store, 'v', data);
    store.corrupt(`volumes/v/backups/${id}.blocks`, Buffer.from('not a block map'));
    const result = await repairStore({ store, source: new BufferSource(data) });
    expect(result.stillDamaged).toEqual([{ backup: `v/${id}`, blocks: 0, error: expect.stringContaining(`${id}.blocks`) }]);
  });
});
