// The parent of an incremental backup (a block image's, or a directory backup's): the one rule
// both kinds follow for which earlier backup to read less against.
import { BlockstoreError } from './errors.js';

/** Codes that make an earlier backup no parent (it is damaged or gone), rather than an error. */
const NOT_A_PARENT = ['CONVOY_MANIFEST_INVALID', 'CONVOY_FORMAT_UNSUPPORTED', 'CONVOY_BACKUP_NOT_FOUND'];

export interface ParentChoice<P> {
  /** The volume's committed backup ids, oldest first. */
  ids: readonly string[];
  /** An id (it must read, and be of the right kind), `latest` or undefined (the default), or null (none: a full backup). */
  wanted: string | null | undefined;
  /** Reads a backup as a parent; undefined when it is of the other kind. */
  read: (id: string) => Promise<P | undefined>;
  /** The error for a wanted backup of the other kind. */
  incompatible: (id: string) => BlockstoreError;
  /** More codes that make a backup no parent (e.g. a corrupt file index). */
  alsoSkip?: readonly string[];
}

/**
 * The given backup, none, or by default the newest backup of the right kind that reads: a damaged
 * newest backup makes the backup incremental against an older one (or full), never fail, since the
 * parent only saves reading. Any other error (the store failing) is thrown.
 */
export async function chooseParentBackup<P>(c: ParentChoice<P>): Promise<P | undefined> {
  if (c.wanted === null) return undefined;
  if (c.wanted !== undefined && c.wanted !== 'latest') {
    const p = await c.read(c.wanted);
    if (p === undefined) throw c.incompatible(c.wanted);
    return p;
  }
  const skip = new Set([...NOT_A_PARENT, ...(c.alsoSkip ?? [])]);
  for (let i = c.ids.length - 1; i >= 0; i--) {
    try {
      const p = await c.read(c.ids[i] as string);
      if (p !== undefined) return p;
    } catch (err) {
      if (!skip.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
  return undefined;
}
