// Bodies the fake daemon answers with in the CLI tests.
import type { BackupSummary, ProgressEvent, Snapshot, Volume } from '@convoy/control-api';

export const vol = (name: string, extra: Partial<Volume> = {}): Volume => ({
  name,
  uuid: `${name}-0b5c6a53-3f4e-4a47`,
  driver: 'vfs',
  createdAt: '2026-11-24T17:00:00.000Z',
  mountedBy: [],
  ...extra,
});

export const snap = (name: string, volume = 'db'): Snapshot => ({
  name,
  uuid: `${name}-uuid`,
  volume,
  driver: 'vfs',
  createdAt: '2026-11-24T17:01:00.000Z',
  size: 2048,
});

export const BACKUP_URL = 'vfs:///mnt/bk?backup=0001&volume=db';

export const summary = (id: string, extra: Partial<BackupSummary> = {}): BackupSummary => ({
  id,
  volume: 'db',
  created: '2026-11-24T17:02:00.000Z',
  snapshot: 'nightly-1',
  size: 10 * 1024 * 1024,
  parent: null,
  labels: {},
  url: `vfs:///mnt/bk?backup=${id}&volume=db`,
  stats: { blocksUploaded: 5 },
  ...extra,
});

export const progress = (phase: string, bytesDone: number, bytesTotal = 100): ProgressEvent => ({
  type: 'progress',
  phase,
  bytesDone,
  bytesTotal,
  blocksDone: Math.floor(bytesDone / 10),
  blocksTotal: Math.floor(bytesTotal / 10),
  bytesTransferred: bytesDone,
});
