#!/usr/bin/env node
import { exitCodeOf, isConvoyError } from '@convoy/errors';
import { parseDaemonArgs } from './args.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { logConfigPlan, planConfig, type ConfigPlan } from './saved-config.js';

const explain = (err: unknown): string =>
  `convoy-daemon: ${(err as Error).message}\n${isConvoyError(err) && err.hint !== undefined ? `hint: ${err.hint}\n` : ''}`;

/** convoy-daemon: runs until SIGTERM/SIGINT, then drains in-flight requests and exits 0. */
async function main(): Promise<void> {
  let plan: ConfigPlan;
  try {
    // the flags over the config file over the configuration saved under --root at the first start
    plan = await planConfig(await parseDaemonArgs(process.argv.slice(2)));
  } catch (err) {
    // 2 for flags and config (systemd's RestartPreventExitStatus: no restart loop), 3 for a damaged saved configuration
    process.stderr.write(explain(err));
    process.exit(isConvoyError(err) ? exitCodeOf(err) : 2);
  }
  const config = plan.config;
  const log = createLogger(config.logLevel);
  logConfigPlan(log, plan);
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
