// The long operations of the daemon — backup, restore, backup delete, volume delete, snapshot restore — from both
// sockets: each logs when it starts and when it ends (duration, bytes, outcome), and backups and
// restores feed the metrics.
import { isConvoyError, redactUrl } from '@convoy/errors';
import type { Progress } from '@convoy/blockstore';
import type { Logger } from './logger.js';
import type { DaemonMetrics, Outcome } from './metrics.js';

export type OperationKind = 'backup' | 'restore' | 'backup delete' | 'volume delete' | 'snapshot restore';

/** What the start and end lines say about an operation besides its kind. */
export interface OperationFields {
  volume: string;
  snapshot?: string;
  /** A store or backup URL: logged redacted. */
  url?: string;
  caller?: 'cli' | 'docker';
}

export interface Operations {
  /**
   * Runs `work` as an operation of this kind: logs `<kind> started`, then `<kind> done` (info) or
   * `<kind> failed` / `<kind> cancelled` (warn) with ms, bytes (read or written), bytes transferred
   * and outcome; `work` is given a progress callback that also calls `onProgress`.
   */
  run<T>(
    kind: OperationKind,
    fields: OperationFields,
    work: (onProgress: (p: Progress) => void) => Promise<T>,
    onProgress?: (p: Progress) => void,
  ): Promise<T>;
}

export interface OperationsOptions {
  log: Logger;
  metrics?: DaemonMetrics;
  /** The clock (tests): ms since the epoch. */
  now?: () => number;
}

export function createOperations(o: OperationsOptions): Operations {
  const now = o.now ?? Date.now;
  return {
    async run(kind, fields, work, onProgress) {
      const base = {
        op: kind,
        volume: fields.volume,
        snapshot: fields.snapshot,
        ...(fields.url === undefined ? {} : { url: redactUrl(fields.url) }),
        caller: fields.caller,
      };
      const started = now();
      let last: Progress | undefined;
      o.log.info(base, `${kind} started`);
      const end = (outcome: Outcome, extra: Record<string, unknown>): void => {
        const at = now();
        const bytes = last?.bytesDone ?? 0;
        const transferred = last?.bytesTransferred ?? 0;
        const line = { ...base, outcome, ms: at - started, bytes, bytesTransferred: transferred, ...extra };
        if (outcome === 'ok') o.log.info(line, `${kind} done`);
        else o.log.warn(line, `${kind} ${outcome}`);
        if (kind === 'backup' || kind === 'restore')
          o.metrics?.transferEnded({ kind, volume: fields.volume, outcome, seconds: (at - started) / 1000, bytes, transferred, at });
      };
      try {
        const result = await work((p) => {
          last = p;
          onProgress?.(p);
        });
        end('ok', {});
        return result;
      } catch (err) {
        const code = isConvoyError(err) ? err.code : undefined;
        end(code === 'CONVOY_ABORTED' || (err as Error).name === 'AbortError' ? 'cancelled' : 'failed', {
          code,
          err: (err as Error).message,
        });
        throw err;
      }
    },
  };
}
