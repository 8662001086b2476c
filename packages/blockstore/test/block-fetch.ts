import type { ObjectStore } from '@convoy/objectstore';
import { decodeBlock, readHeader, blockKey, blockIdFunction } from '../src/index.js';

/** Fetches and verifies one block (the restore path without a target file). */
export async function fetchBlockForTest(store: ObjectStore, hex: string): Promise<Buffer> {
  const h = await readHeader(store);
  return decodeBlock(blockKey(hex), hex, await store.get(blockKey(hex)), blockIdFunction(h.header.blockId));
}
