import { validateBackupId } from './names.js';
import { validateVolumeName } from '@convoy/rules';

/** Where each object of formats v1 and v2 lives in a store (docs/format.md). */
export const HEADER_KEY = 'convoy.json';
export const VOLUMES_PREFIX = 'volumes/';
export const BLOCKS_PREFIX = 'blocks/';
export const LOCKS_PREFIX = 'locks/';
/** v2: reference markers of backups not yet merged into the index (adds) and deletes (tombstones). */
export const PENDING_PREFIX = 'refs/pending/';
export const ABANDONED_PREFIX = 'refs/abandoned/';
export const RUNS_PREFIX = 'refs/runs/';
export const INDEX_PREFIX = 'refs/index/';
/** v2: names the newest index generation, so a lost one is noticed instead of read as the one before. */
export const LATEST_KEY = 'refs/latest.json';
export const SWEEPS_PREFIX = 'gc/sweeps/';
export const DAMAGED_PREFIX = 'gc/damaged/';
/** v2: written at the end of every full maintenance; its store time says when the last one ran. */
export const LAST_FULL_KEY = 'gc/last-full.json';

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

/** Directory backups: the file index root (docs/format.md, "File index"). */
export function filesKey(volume: string, id: string): string {
  validateBackupId(id);
  return `${backupsPrefix(volume)}${id}.files`;
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
export function parseBackupKey(key: string): { volume: string; id: string; kind: 'manifest' | 'blockmap' | 'files' } | undefined {
  const m = /^volumes\/([^/]+)\/backups\/(\d{8}T\d{9}Z-[0-9a-f]{6})\.(json|blocks|files)$/.exec(key);
  if (m === null) return undefined;
  return { volume: m[1] as string, id: m[2] as string, kind: m[3] === 'json' ? 'manifest' : m[3] === 'files' ? 'files' : 'blockmap' };
}

export function lockKey(id: string): string {
  return `${LOCKS_PREFIX}${id}.json`;
}

/** v2: the sorted ids a backup references, written before its manifest. */
export function addMarkerKey(volume: string, id: string): string {
  validateVolumeName(volume);
  validateBackupId(id);
  return `${PENDING_PREFIX}${volume}/${id}.add`;
}

/**
 * v2: where maintenance leaves the add marker of a backup it judged abandoned, before it removes
 * the pending one: the backup, if it was only paused, finds it and withdraws its manifest; a
 * marker that is simply gone was merged (docs/gc-safety.md, "Abandoned markers").
 */
export function abandonedKey(volume: string, id: string): string {
  validateVolumeName(volume);
  validateBackupId(id);
  return `${ABANDONED_PREFIX}${volume}/${id}.add`;
}

/** v2: a delete's tombstone. */
export function delMarkerKey(volume: string, id: string): string {
  validateVolumeName(volume);
  validateBackupId(id);
  return `${PENDING_PREFIX}${volume}/${id}.del`;
}

/** (volume, id, kind) of a pending marker key, or undefined. */
export function parseMarkerKey(key: string): { volume: string; id: string; kind: 'add' | 'del' } | undefined {
  const m = /^refs\/pending\/([^/]+)\/(\d{8}T\d{9}Z-[0-9a-f]{6})\.(add|del)$/.exec(key);
  if (m === null) return undefined;
  return { volume: m[1] as string, id: m[2] as string, kind: m[3] as 'add' | 'del' };
}

export function generationKey(gen: number): string {
  return `${INDEX_PREFIX}${String(gen).padStart(12, '0')}.json`;
}

export function parseGenerationKey(key: string): number | undefined {
  const m = /^refs\/index\/(\d{12})\.json$/.exec(key);
  return m === null ? undefined : Number(m[1]);
}

export function runKey(shard: string, name: string): string {
  return `${RUNS_PREFIX}${shard}/${name}.run`;
}

export function sweepKey(name: string): string {
  return `${SWEEPS_PREFIX}${name}.json`;
}

export function doomedKey(name: string): string {
  return `${SWEEPS_PREFIX}${name}.ids`;
}

export function damagedKey(hashHex: string): string {
  return `${DAMAGED_PREFIX}${hashHex}`;
}
