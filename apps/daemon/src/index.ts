export { startDaemon, dockerBackend, type RunningDaemon } from './daemon.js';
export { parseArgs } from './args.js';
export { DEFAULTS, readConfigFile, validateConfig, type DaemonConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
