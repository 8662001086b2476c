import { validateBackupId } from '@convoy/blockstore';
import { usageError } from './errors.js';

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\/-]{0,127}$/;

/** `--label k=v` (repeatable) → { k: v }; a key given twice or a malformed pair is a usage error. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !LABEL_KEY.test(key)) {
      throw usageError(`invalid label ${JSON.stringify(pair)}`, 'write labels as --label key=value; keys are 1-128 characters of A-Z a-z 0-9 _ . / - starting with a letter or digit');
    }
    if (Object.hasOwn(labels, key)) throw usageError(`label ${key} is given twice`, 'give each label key once');
    labels[key] = pair.slice(eq + 1);
  }
  return labels;
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
