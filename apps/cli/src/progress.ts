import type { ProgressEvent } from '@convoy/control-api';
import cliProgress from 'cli-progress';
import { formatBytes, formatDuration } from './format.js';

/** Shows the progress the daemon streams for one long operation. `stop()` is idempotent. */
export interface ProgressReporter {
  update(p: ProgressEvent): void;
  stop(): void;
}

/** bar: cli-progress on a terminal; json: `{"type":"progress",…}` lines on stderr; off: nothing. */
export type ProgressMode = 'bar' | 'json' | 'off';

export function progressMode(options: { json: boolean; isTTY: boolean }): ProgressMode {
  if (options.json) return 'json';
  return options.isTTY ? 'bar' : 'off';
}

export interface ProgressOptions {
  /** Shown before the bar (e.g. "backup"). */
  label: string;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
  /** JSON mode: at most one line per interval, plus the first and the last (default 250 ms). */
  intervalMs?: number;
}

/** One JSON progress line: the daemon's event plus the time since the start and the rate. */
export interface ProgressLine extends ProgressEvent {
  elapsedMs: number;
  /** Bytes processed per second since the start (0 until measurable). */
  bytesPerSecond: number;
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream, options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  if (mode === 'json') return new JsonLines(stream, now, options.intervalMs ?? 250);
  if (mode === 'bar') return new TerminalBar(stream, now, options.label);
  return { update: () => undefined, stop: () => undefined };
}

function rate(done: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
}

const finished = (p: ProgressEvent): boolean => p.blocksTotal > 0 && p.blocksDone >= p.blocksTotal;

class JsonLines implements ProgressReporter {
  readonly #stream: NodeJS.WritableStream;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #started: number;
  #lastWrite: number | undefined;
  #lastPhase: string | undefined;
  #pending: ProgressEvent | undefined;
  #stopped = false;

  constructor(stream: NodeJS.WritableStream, now: () => number, intervalMs: number) {
    this.#stream = stream;
    this.#now = now;
    this.#intervalMs = intervalMs;
    this.#started = now();
  }

  update(p: ProgressEvent): void {
    if (this.#stopped) return;
    const t = this.#now();
    const due = this.#lastWrite === undefined || t - this.#lastWrite >= this.#intervalMs || p.phase !== this.#lastPhase || finished(p);
    if (due) this.#write(p, t);
    else this.#pending = { ...p };
  }

  stop(): void {
    if (this.#stopped) return;
    if (this.#pending !== undefined) this.#write(this.#pending, this.#now()); // the latest state is always shown
    this.#stopped = true;
  }

  #write(p: ProgressEvent, t: number): void {
    const elapsedMs = t - this.#started;
    const line: ProgressLine = { ...p, type: 'progress', elapsedMs, bytesPerSecond: rate(p.bytesDone, elapsedMs) };
    this.#stream.write(`${JSON.stringify(line)}\n`);
    this.#lastWrite = t;
    this.#lastPhase = p.phase;
    this.#pending = undefined;
  }
}

/** A cli-progress bar in bytes (or blocks, for phases without a byte total) with phase, rate and ETA. */
class TerminalBar implements ProgressReporter {
  readonly #stream: NodeJS.WritableStream;
  readonly #now: () => number;
  readonly #label: string;
  readonly #started: number;
  #bar: cliProgress.SingleBar | undefined;
  #stopped = false;

  constructor(stream: NodeJS.WritableStream, now: () => number, label: string) {
    this.#stream = stream;
    this.#now = now;
    this.#label = label;
    this.#started = now();
  }

  update(p: ProgressEvent): void {
    if (this.#stopped) return;
    const bytes = p.bytesTotal > 0;
    const total = bytes ? p.bytesTotal : p.blocksTotal;
    if (total <= 0) return; // nothing to measure against (e.g. GC)
    const value = bytes ? p.bytesDone : p.blocksDone;
    const perSecond = rate(value, this.#now() - this.#started);
    const unit = (n: number): string => (bytes ? formatBytes(n) : `${n} blocks`);
    const payload = {
      phase: p.phase,
      done: unit(value),
      all: unit(total),
      speed: perSecond > 0 ? `${bytes ? formatBytes(perSecond) : `${perSecond} blocks`}/s` : '-',
      remaining: perSecond > 0 ? formatDuration(((total - value) * 1000) / perSecond) : '-',
    };
    if (this.#bar === undefined) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#stream,
          format: `${this.#label} [{bar}] {percentage}% | {done} / {all} | {speed} | ETA {remaining} | {phase}`,
          barsize: 30,
          hideCursor: null,
          clearOnComplete: false,
          stopOnComplete: false,
          linewrap: false,
          fps: 10,
          // the CLI draws a bar only when stderr is a terminal (io.isTTY); trust that decision
          noTTYOutput: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(total, value, payload);
    } else {
      this.#bar.setTotal(total);
      this.#bar.update(value, payload);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bar?.stop();
  }
}
