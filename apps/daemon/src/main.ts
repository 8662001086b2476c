#!/usr/bin/env node
import { isConvoyError } from '@convoy/errors';
import { parseArgs } from './args.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './logger.js';

/** convoy-daemon: runs until SIGTERM/SIGINT, then drains in-flight requests and exits 0. */
async function main(): Promise<void> {
  let config;
  try {
    config = await parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`convoy-daemon: ${(err as Error).message}\n${isConvoyError(err) && err.hint !== undefined ? `hint: ${err.hint}\n` : ''}`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  let daemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (err) {
    log.fatal({ code: isConvoyError(err) ? err.code : undefined, err: (err as Error).message, hint: isConvoyError(err) ? err.hint : undefined }, 'convoy-daemon could not start');
    process.stderr.write(`convoy-daemon: ${(err as Error).message}\n${isConvoyError(err) && err.hint !== undefined ? `hint: ${err.hint}\n` : ''}`);
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
