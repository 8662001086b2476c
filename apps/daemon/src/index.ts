export { startDaemon, dockerBackend, type RunningDaemon, type StartOptions } from './daemon.js';
export { parseArgs } from './args.js';
export { DEFAULTS, maintenanceSchedule, readConfigFile, validateConfig, type DaemonConfig, type MaintenanceSchedule } from './config.js';
export { MaintenanceScheduler, systemTimers, type SchedulerOptions, type Timers } from './maintenance.js';
export { createLogger, type Logger } from './logger.js';
