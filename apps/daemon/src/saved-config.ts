// The configuration convoy-daemon saves under its --root at the first start and uses at the next
// ones, so that a restart with other flags, or none, never silently shows another set of volumes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '@convoy/daemon-kit';
import { ConvoyError, errorCode } from '@convoy/errors';
import type { ParsedArgs } from './args.js';
import {
  SAVED_CONFIG_FILE,
  configProblem,
  daemonConfigSchema,
  migrateSavedConfig,
  validateConfig,
  withDriverLocations,
  type DaemonConfig,
} from './config.js';
import type { Logger } from './logger.js';

const savedWire = z
  .object({ version: z.literal(1), savedAt: z.string(), config: z.preprocess(migrateSavedConfig, daemonConfigSchema) })
  .strict();

/** The values that choose which volumes the daemon sees: a start may change them only with --reconfigure. */
const LAYOUT_KEYS = ['drivers', 'driverOpts', 'hostId'] as const;

/** What differs between the saved configuration and this start's. */
export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
}

/** The configuration this start runs with, and what saving it means. */
export interface ConfigPlan {
  config: DaemonConfig;
  /** `<root>/daemon-config.json`. */
  file: string;
  /** `first-start`: nothing was saved; `saved`: used as saved; `updated`: flags changed some values (or --reconfigure). */
  source: 'first-start' | 'saved' | 'updated';
  changes: ConfigChange[];
  /** Writes the configuration (atomically) when it is new or changed; startDaemon calls it once the drivers started. */
  save(): Promise<void>;
}

/** Reads `<root>/daemon-config.json`: undefined when absent, CONVOY_STATE_INVALID when not valid (never "absent"). */
export async function readSavedConfig(file: string): Promise<DaemonConfig | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  let problem: string;
  try {
    const parsed = savedWire.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.config;
    problem = configProblem(parsed.error).message;
  } catch (err) {
    problem = (err as Error).message; // not JSON
  }
  throw new ConvoyError('CONVOY_STATE_INVALID', `the saved configuration ${file} is not valid (${problem})`, {
    hint: 'repair it (keys as in convoy-daemon --help, camelCase), or move it away and start with the flags that name your volumes (vfs.path, drivers, host id)',
    details: { file },
  });
}

/**
 * The configuration of this start: the saved one (if any) under what the flags and the config
 * file gave. A given value that changes which volumes are seen (drivers, a driver option,
 * the host id) is CONVOY_CONFIG_CONFLICT naming both values, unless `--reconfigure`.
 */
export async function planConfig(args: ParsedArgs): Promise<ConfigPlan> {
  const file = path.join(args.config.root, SAVED_CONFIG_FILE);
  const fresh = withDriverLocations(args.config);
  const saved = await readSavedConfig(file);
  if (saved === undefined) return plan(file, fresh, 'first-start', []);
  const conflicts = args.reconfigure ? [] : layoutConflicts(saved, args.given);
  if (conflicts.length > 0) throw conflictError(file, conflicts);
  const given = {
    ...args.given,
    ...(args.given.driverOpts === undefined ? {} : { driverOpts: { ...saved.driverOpts, ...args.given.driverOpts } }),
  };
  const config = withDriverLocations(validateConfig({ ...args.config, ...saved, root: args.config.root, ...given }));
  const changes = diff(saved, config).filter((c) => c.key !== 'root');
  return plan(file, config, changes.length === 0 ? 'saved' : 'updated', changes);
}

/** Logs what the start does with the saved configuration (after the logger exists: its level may come from it). */
export function logConfigPlan(log: Logger, p: ConfigPlan): void {
  if (p.source === 'first-start') log.info({ file: p.file }, 'first start: the configuration is saved for the next starts');
  else if (p.source === 'saved') log.info({ file: p.file }, 'using the saved configuration');
  else {
    const layout = p.changes.some((c) => (LAYOUT_KEYS as readonly string[]).includes(c.key.split('.')[0] ?? ''));
    log[layout ? 'warn' : 'info'](
      { file: p.file, changes: p.changes },
      `using the saved configuration with ${p.changes.map((c) => c.key).join(', ')} changed`,
    );
  }
}

function plan(file: string, config: DaemonConfig, source: ConfigPlan['source'], changes: ConfigChange[]): ConfigPlan {
  return {
    config,
    file,
    source,
    changes,
    save: async () => {
      if (source === 'saved') return;
      await writeFileAtomic(file, `${JSON.stringify({ version: 1, savedAt: new Date().toISOString(), config }, null, 2)}\n`);
    },
  };
}

/** The given values that choose another set of volumes than the saved ones. */
function layoutConflicts(saved: DaemonConfig, given: Partial<DaemonConfig>): ConfigChange[] {
  const out: ConfigChange[] = [];
  if (given.drivers !== undefined && [...given.drivers].sort().join(',') !== [...saved.drivers].sort().join(',')) {
    out.push({ key: 'drivers', from: saved.drivers.join(','), to: given.drivers.join(',') });
  }
  for (const [k, v] of Object.entries(given.driverOpts ?? {})) {
    if (saved.driverOpts[k] !== v) out.push({ key: `driverOpts.${k}`, from: saved.driverOpts[k], to: v });
  }
  if (given.hostId !== undefined && given.hostId !== saved.hostId) out.push({ key: 'hostId', from: saved.hostId, to: given.hostId });
  return out;
}

const FLAG: Record<string, string> = { drivers: '--drivers', hostId: '--host-id' };
const flagOf = (key: string): string => FLAG[key] ?? `--driver-opts ${key.slice('driverOpts.'.length)}`;
const shown = (v: unknown): string => (v === undefined ? '(unset)' : String(v));

function conflictError(file: string, conflicts: ConfigChange[]): ConvoyError {
  const what = conflicts.map((c) => `${flagOf(c.key)} is ${shown(c.to)} here but ${shown(c.from)} in the saved configuration`).join('; ');
  return new ConvoyError('CONVOY_CONFIG_CONFLICT', `${what} (${file}): starting would show another set of volumes`, {
    hint:
      `to keep the volumes of ${shown(conflicts[0]?.from)}, start without ${flagOf(conflicts[0]?.key ?? '')} (or fix the config file); ` +
      `to switch to ${shown(conflicts[0]?.to)} (the volumes of the saved value are then not shown), start once with --reconfigure`,
    details: { file, conflicts },
  });
}

function diff(a: DaemonConfig, b: DaemonConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof DaemonConfig)[]);
  for (const k of keys) {
    if (k === 'driverOpts') {
      for (const o of new Set([...Object.keys(a.driverOpts), ...Object.keys(b.driverOpts)])) {
        if (a.driverOpts[o] !== b.driverOpts[o]) out.push({ key: `driverOpts.${o}`, from: a.driverOpts[o], to: b.driverOpts[o] });
      }
    } else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push({ key: k, from: a[k], to: b[k] });
  }
  return out;
}
