// One backup as `--json` shows it in create's result and list's entries: where it is, what it is,
// and its stats (inspect shows the whole manifest instead).
import { formatBackupUrl, type Manifest } from '@convoy/blockstore';
import { redactUrl } from '@convoy/errors';

export interface BackupJson {
  url: string;
  id: string;
  volume: string;
  kind: 'blocks' | 'directory';
  created: string;
  snapshot: string | null;
  parent: string | null;
  size: number;
  compression: string;
  labels: Record<string, string>;
  stats: Manifest['stats'];
}

/** `storeUrl` as formatStoreUrl gives it; the backup URL is redacted (no credentials). */
export function backupJson(storeUrl: string, m: Manifest): BackupJson {
  return {
    url: redactUrl(formatBackupUrl(storeUrl, m.volume, m.id)),
    id: m.id,
    volume: m.volume,
    kind: m.kind ?? 'blocks',
    created: m.created,
    snapshot: m.snapshot,
    parent: m.parent,
    size: m.size,
    compression: m.compression,
    labels: m.labels,
    stats: m.stats,
  };
}
