import cliProgress from 'cli-progress';
import { formatBytes, formatDuration } from './format.js';

/**
 * What the progress display reads of a long operation's report: @convoy/blockstore's `Progress`,
 * or the `ProgressEvent` convoy-daemon streams. Everything else a report holds (`type`,
 * `bytesTransferred`, …) goes into the JSON line as it is.
 */
export interface ProgressUpdate {
  /** What the operation is doing: "backup", "restore", "read", "upload", … */
  phase: string;
  /** Logical bytes processed so far, of `bytesTotal` (0 when the phase has no byte total: counted in blocks). */
  bytesDone: number;
  bytesTotal: number;
  blocksDone: number;
  blocksTotal: number;
}

/** Shows the progress of one long operation. `stop()` is idempotent; updates after it are ignored. */
export interface ProgressReporter {
  update(p: ProgressUpdate): void;
  stop(): void;
}

/** bar: cli-progress on a terminal; json: `{"type":"progress",…}` lines; off: nothing. */
export type ProgressMode = 'bar' | 'json' | 'off';

/** Nothing with --quiet, JSON lines with --json, else a bar when stderr is a terminal. */
export function progressMode(options: { json: boolean; quiet?: boolean; isTTY: boolean }): ProgressMode {
  if (options.quiet === true) return 'off';
  if (options.json) return 'json';
  return options.isTTY ? 'bar' : 'off';
}

export interface ProgressOptions {
  /** Shown before the bar (e.g. "backup"). */
  label: string;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
  /**
   * JSON mode: at most one line per interval, plus the first, the last and the first of each new
   * phase (default 250 ms).
   */
  intervalMs?: number;
  /** Bar mode: show the current phase after the ETA, for operations that go through several (default false). */
  showPhase?: boolean;
}

/** One JSON progress line (each CLI's README documents it): the update, the time since the start and the rate. */
export type ProgressLine = ProgressUpdate & {
  type: 'progress';
  elapsedMs: number;
  /** Logical bytes processed per second since the start (0 until measurable). */
  bytesPerSecond: number;
};

export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream, options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  if (mode === 'json') return new JsonLines(stream, now, options.intervalMs ?? 250);
  if (mode === 'bar') return new TerminalBar(stream, now, options.label, options.showPhase === true);
  return { update: () => undefined, stop: () => undefined };
}

function rate(done: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
}

const finished = (p: ProgressUpdate): boolean => p.blocksTotal > 0 && p.blocksDone >= p.blocksTotal;

class JsonLines implements ProgressReporter {
  readonly #stream: NodeJS.WritableStream;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #started: number;
  #lastWrite: number | undefined;
  #lastPhase: string | undefined;
  #pending: ProgressUpdate | undefined;
  #stopped = false;

  constructor(stream: NodeJS.WritableStream, now: () => number, intervalMs: number) {
    this.#stream = stream;
    this.#now = now;
    this.#intervalMs = intervalMs;
    this.#started = now();
  }

  update(p: ProgressUpdate): void {
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

  #write(p: ProgressUpdate, t: number): void {
    const elapsedMs = t - this.#started;
    // `type` first, then the update's own fields (a daemon event's `type` keeps that place)
    const line: ProgressLine = { type: 'progress', ...p, elapsedMs, bytesPerSecond: rate(p.bytesDone, elapsedMs) };
    this.#stream.write(`${JSON.stringify(line)}\n`);
    this.#lastWrite = t;
    this.#lastPhase = p.phase;
    this.#pending = undefined;
  }
}

/** A cli-progress bar in bytes (or blocks, for phases without a byte total) with rate, ETA and optionally the phase. */
class TerminalBar implements ProgressReporter {
  readonly #stream: NodeJS.WritableStream;
  readonly #now: () => number;
  readonly #label: string;
  readonly #showPhase: boolean;
  readonly #started: number;
  #bar: cliProgress.SingleBar | undefined;
  #stopped = false;

  constructor(stream: NodeJS.WritableStream, now: () => number, label: string, showPhase: boolean) {
    this.#stream = stream;
    this.#now = now;
    this.#label = label;
    this.#showPhase = showPhase;
    this.#started = now();
  }

  update(p: ProgressUpdate): void {
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
          format: `${this.#label} [{bar}] {percentage}% | {done} / {all} | {speed} | ETA {remaining}${this.#showPhase ? ' | {phase}' : ''}`,
          barsize: 30,
          hideCursor: null,
          clearOnComplete: false,
          stopOnComplete: false,
          linewrap: false,
          fps: 10,
          // bar mode is chosen only when stderr is a terminal (CliIo.isTTY, progressMode); trust that
          // decision (on a terminal stream this changes nothing)
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

/**
 * The `progress(label)` of a command context: a bar, JSON lines or nothing on `io.stderr`, as
 * progressMode decides from the output options and `io.isTTY`, timed by `io.now`.
 */
export function progressTo(
  io: { stderr: NodeJS.WritableStream; isTTY: boolean; now?: () => number },
  output: { json: boolean; quiet?: boolean },
  options: Pick<ProgressOptions, 'showPhase'> = {},
): (label: string) => ProgressReporter {
  const mode = progressMode({ json: output.json, quiet: output.quiet === true, isTTY: io.isTTY });
  return (label) => createProgress(mode, io.stderr, { label, now: io.now, ...options });
}
