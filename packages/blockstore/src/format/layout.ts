import { validateBackupId, validateVolumeName } from './names.js';

/** Where each object of format v1 lives in a store (docs/format.md). */
export const HEADER_KEY = 'convoy.json';
export const VOLUMES_PREFIX = 'volumes/';
export const BLOCKS_PREFIX = 'blocks/';
export const LOCKS_PREFIX = 'locks/';

export function volumeKey(volume: string): string {
  validateVolumeName(volume);
  return `volumes/${volume}/volume.json`;
}

export function backupsPrefix(volume: string): string {
  validateVolumeName(volume);
  return `volumes/${volume}/backups/`;
}

export function manifestKey(volume: string, id: string): string {
  validateBackupId(id);
  return `${backupsPrefix(volume)}${id}.json`;
}

export function blockMapKey(volume: string, id: string): string {
  validateBackupId(id);
  return `${backupsPrefix(volume)}${id}.blocks`;
}

export function blockKey(hashHex: string): string {
  return `blocks/${hashHex.slice(0, 2)}/${hashHex.slice(2, 4)}/${hashHex}.blk`;
}

/** The id in a block key, or undefined if the key is not a block key. */
export function blockIdFromKey(key: string): string | undefined {
  const m = /^blocks\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.blk$/.exec(key);
  return m !== null && m[3]?.startsWith(`${m[1]}${m[2]}`) === true ? m[3] : undefined;
}

/** (volume, id, kind) of a key under volumes/*\/backups/, or undefined. */
export function parseBackupKey(key: string): { volume: string; id: string; kind: 'manifest' | 'blockmap' } | undefined {
  const m = /^volumes\/([^/]+)\/backups\/(\d{8}T\d{9}Z-[0-9a-f]{6})\.(json|blocks)$/.exec(key);
  if (m === null) return undefined;
  return { volume: m[1] as string, id: m[2] as string, kind: m[3] === 'json' ? 'manifest' : 'blockmap' };
}

export function lockKey(id: string): string {
  return `${LOCKS_PREFIX}${id}.json`;
}
