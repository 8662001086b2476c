import { ObjectNotFoundError } from '@convoy/objectstore';
import { blockCorrupt, blockMissing } from './errors.js';
import { decodeBlock } from './format/block-object.js';
import type { OpenedStore } from './format/header.js';
import { blockKey } from './format/layout.js';

/** Fetches one block and verifies it (hash, length); missing or corrupt blocks throw naming the key. The block's memory is the caller's alone. */
export async function fetchBlock(opened: OpenedStore, idHex: string, signal?: AbortSignal): Promise<{ data: Buffer; stored: number }> {
  const key = blockKey(idHex);
  let bytes: Buffer;
  try {
    bytes = await opened.store.get(key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw blockMissing(key);
    throw asBlockCorrupt(key, err);
  }
  const stored = bytes.length;
  return { data: await decodeBlock(key, idHex, bytes, opened.ids, true), stored }; // a get's buffer is ours (ObjectStore.get)
}

/** An encrypted block that fails authentication is a corrupt block (verify names it, repair rewrites it). */
export function asBlockCorrupt(key: string, err: unknown): unknown {
  if ((err as { code?: unknown }).code !== 'CONVOY_OBJECT_TAMPERED') return err;
  return blockCorrupt(key, (err as Error).message);
}
