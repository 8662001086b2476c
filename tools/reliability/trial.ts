// One trial of a campaign: what was injected, what happened, which "nothing lost" checks ran and
// which failed. Checks are soft (a trial collects every failure, then throws once), so a report
// says everything that went wrong in a trial, not only the first thing. Records are appended to a
// JSON-lines file that the report is written from.
import { appendFileSync } from 'node:fs';
import { classify } from './bugs.js';
import { commandLine, describeResult, type CliResult } from './convoy.js';

export type Campaign =
  | 'crash'
  | 'pause'
  | 'corruption'
  | 'concurrency'
  | 's3-faults'
  | 'lease-expiry'
  | 'hostile'
  | 'daemon'
  | 'shared-vfs'
  | 'keys'
  | 'forget'
  | 'schedules'
  | 'known-bug';

export interface TrialRecord {
  campaign: Campaign;
  store: 'vfs' | 's3';
  /** The operation or scenario under test (e.g. `create-full`, `block-flip`). */
  op: string;
  name: string;
  /** Seed of this trial's own generator (derived from the run's seed and the trial's name). */
  seed: number;
  faults: string[];
  outcome: string;
  /** Checks that passed, by name, with how many times. */
  checks: Record<string, number>;
  failures: string[];
  /** Every convoy-backup run of the trial: command line and result. */
  commands: string[];
  /** Bugs this trial documents (see KNOWN_BUGS in bugs.ts), when it fails because of one. */
  knownBugs: string[];
  /** Extra numbers for the report (waits, sweeps, blocks at risk). */
  measures: Record<string, number>;
  durationMs: number;
  passed: boolean;
}

export class Trial {
  readonly record: TrialRecord;
  readonly #started = performance.now();

  constructor(campaign: Campaign, store: 'vfs' | 's3', op: string, name: string, seed: number) {
    this.record = {
      campaign,
      store,
      op,
      name,
      seed,
      faults: [],
      outcome: '',
      checks: {},
      failures: [],
      commands: [],
      knownBugs: [],
      measures: {},
      durationMs: 0,
      passed: false,
    };
  }

  fault(text: string): void {
    this.record.faults.push(text);
  }

  outcome(text: string): void {
    this.record.outcome = text;
  }

  measure(name: string, value: number): void {
    this.record.measures[name] = value;
  }

  /** Remembers a run (for the report of a failed trial); counts the packs a directory backup wrote and repacked. */
  ran(r: CliResult): CliResult {
    this.record.commands.push(describeResult(r));
    const stats = (r.json as { stats?: { packsWritten?: unknown; packsRepacked?: unknown } } | undefined)?.stats;
    if (r.code === 0 && typeof stats?.packsWritten === 'number' && typeof stats.packsRepacked === 'number') {
      const m = this.record.measures;
      m.dirBackups = (m.dirBackups ?? 0) + 1;
      m.packsWritten = (m.packsWritten ?? 0) + stats.packsWritten;
      m.packsRepacked = (m.packsRepacked ?? 0) + stats.packsRepacked;
    }
    return r;
  }

  noteCommand(args: readonly string[], what: string): void {
    this.record.commands.push(`${commandLine(args)} → ${what}`);
  }

  /** A named check: counted when it holds, a failure (with `detail`) when not. Answers `ok`. */
  check(name: string, ok: boolean, detail?: string | (() => string)): boolean {
    if (ok) this.record.checks[name] = (this.record.checks[name] ?? 0) + 1;
    else this.record.failures.push(`${name}: ${typeof detail === 'function' ? detail() : (detail ?? 'failed')}`);
    return ok;
  }

  fail(text: string): void {
    this.record.failures.push(text);
  }

  /** Marks the trial as documenting a known bug (its failure is expected until the bug is fixed). */
  knownBug(id: string): void {
    if (!this.record.knownBugs.includes(id)) this.record.knownBugs.push(id);
  }

  /** Writes the record to `resultsFile` and throws if any check failed. */
  finish(resultsFile: string | undefined, error?: unknown): void {
    if (error !== undefined)
      this.record.failures.push(`trial aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    this.record.durationMs = performance.now() - this.#started;
    this.record.passed = this.record.failures.length === 0;
    for (const id of classify(this.record)) this.knownBug(id);
    if (resultsFile !== undefined) appendFileSync(resultsFile, `${JSON.stringify(this.record)}\n`);
    if (!this.record.passed) {
      const bugs = this.record.knownBugs.length > 0 ? `bug ${this.record.knownBugs.join(', ')} (tools/reliability/bugs.ts)\n` : '';
      throw new Error(
        `${bugs}${this.record.failures.join('\n')}\n(seed ${this.record.seed}; commands:\n  ${this.record.commands.join('\n  ')})`,
      );
    }
  }
}

/** Runs a trial's body and finishes it: an exception is one more failure, never a lost record. */
export async function runTrial(trial: Trial, resultsFile: string, body: (trial: Trial) => Promise<void>): Promise<void> {
  let error: unknown;
  try {
    await body(trial);
  } catch (err) {
    error = err;
  }
  trial.finish(resultsFile, error);
}
