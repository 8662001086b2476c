export { parseDuration, parseKeyValues, singleValues, type PairsWording } from './args.js';
export { CliError, EXIT, InterruptedError, exitCodeFor, usageError, type InterruptedOutcome } from './errors.js';
export { formatBytes, formatDuration, formatSize, formatTable, formatTime } from './format.js';
export { examples } from './help.js';
export type { CliCommand, CliIo, CommandRun, Select } from './io.js';
export { Output, describeError, type ErrorReport, type OutputOptions } from './output.js';
export { abortOnSignals, exitWhenDrained, processIo } from './process.js';
export { RETENTION_PERIODS, retentionFlags, retentionOptions, type RetentionArgs, type RetentionFlags } from './retention.js';
export {
  packageVersion,
  parseArgv,
  programParser,
  reportError,
  reportUsageError,
  runCommand,
  selectCommand,
  withCommands,
  type CliProgram,
  type Selection,
} from './program.js';
export {
  createProgress,
  progressMode,
  progressTo,
  type ProgressLine,
  type ProgressMode,
  type ProgressOptions,
  type ProgressReporter,
  type ProgressUpdate,
} from './progress.js';
