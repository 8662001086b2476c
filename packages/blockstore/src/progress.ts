/** Progress of a long operation, reported through a callback (the CLI draws it or prints JSON lines). */
export interface Progress {
  phase: 'backup' | 'restore' | 'verify' | 'gc' | 'repair' | 'maintenance' | 'upgrade';
  /** Logical bytes processed so far, of `bytesTotal`. */
  bytesDone: number;
  bytesTotal: number;
  blocksDone: number;
  blocksTotal: number;
  /** Bytes sent to (backup) or fetched from (restore) the store. */
  bytesTransferred: number;
}

export type ProgressCallback = (p: Progress) => void;
