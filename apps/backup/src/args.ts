import { validateBackupId } from '@convoy/blockstore';
import { parseKeyValues, usageError } from '@convoy/cli-kit';

/** `--label k=v` (repeatable) → { k: v }; a key given twice or a malformed pair is a usage error. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  return parseKeyValues(pairs, { noun: 'label', syntax: 'labels as --label', unique: 'label key' });
}

/** `--parent ID|latest|none` → what backupVolume takes: an id, 'latest', or null (a full backup). */
export function parseParent(value: string | undefined): string | null | undefined {
  if (value === undefined || value === 'latest') return value;
  if (value === 'none') return null;
  validateBackupId(value);
  return value;
}

/** `--snapshot NAME`: recorded in the manifest; printable, at most 255 characters. */
export function parseSnapshotName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.length > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw usageError(`invalid snapshot name ${JSON.stringify(value.slice(0, 80))}`, 'a snapshot name is 1-255 printable characters');
  }
  return value;
}
