#!/usr/bin/env node
import { exitCodeOf, isConvoyError } from '@convoy/errors';
import { parseDaemonArgs } from './args.js';
import { startDaemon } from './daemon.js';
import { createLogger, openLogFile, type LogFile } from './logger.js';
import { logConfigPlan, planConfig, type ConfigPlan } from './saved-config.js';

const explain = (err: unknown): string =>
  `convoy-daemon: ${(err as Error).message}\n${isConvoyError(err) && err.hint !== undefined ? `hint: ${err.hint}\n` : ''}`;

/** convoy-daemon: runs until SIGTERM/SIGINT, then drains in-flight requests and exits 0. */
async function main(): Promise<void> {
  let plan: ConfigPlan;
  let warnings: string[];
  try {
    // the flags over the config file over the configuration saved under --root at the first start
    const args = await parseDaemonArgs(process.argv.slice(2));
    warnings = args.warnings;
    plan = await planConfig(args);
  } catch (err) {
    // 2 for flags and config (systemd's RestartPreventExitStatus: no restart loop), 3 for a damaged saved configuration
    process.stderr.write(explain(err));
    process.exit(isConvoyError(err) ? exitCodeOf(err) : 2);
  }
  const config = plan.config;
  let logFile: LogFile | undefined;
  try {
    logFile = config.logFile === undefined ? undefined : openLogFile(config.logFile);
  } catch (err) {
    process.stderr.write(
      `convoy-daemon: cannot open the log file ${config.logFile ?? ''}: ${(err as Error).message}\nhint: give --log a file the daemon can create and append to\n`,
    );
    process.exit(2);
  }
  const log = createLogger(config.logLevel, logFile);
  if (logFile !== undefined) process.on('SIGHUP', () => logFile.reopen());
  logConfigPlan(log, plan);
  for (const w of warnings) log.warn(w);
  let daemon;
  try {
    daemon = await startDaemon(config, log, { saveConfig: plan.save });
  } catch (err) {
    log.fatal(
      { code: isConvoyError(err) ? err.code : undefined, err: (err as Error).message, hint: isConvoyError(err) ? err.hint : undefined },
      'convoy-daemon could not start',
    );
    process.stderr.write(explain(err));
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'draining and stopping');
    daemon.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
