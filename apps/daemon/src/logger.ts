import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** A log file the daemon appends to (`--log FILE`): created 0640 with its directory; reopen() after logrotate moved it. */
export type LogFile = ReturnType<typeof pino.destination>;

/** Opens `file` for appending; a file that cannot be opened fails the start here, with its path, not at the first log line. */
export function openLogFile(file: string): LogFile {
  return pino.destination({ dest: file, append: true, mkdir: true, mode: 0o640, sync: true });
}

/** Structured JSON logs on stderr (journald keeps them) or in `--log FILE`; secrets are redacted by path. */
export function createLogger(level: string, destination: LogFile = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['*.secretAccessKey', '*.password', '*.sessionToken', 'config.s3SecretAccessKey'], censor: '***' },
    },
    destination,
  );
}

/** A record the daemon serves without (the error names the file and says what to do). */
export function problemLog(log: Logger, err: Error): void {
  const e = err as { code?: string; hint?: string; details?: Record<string, unknown> };
  log.warn({ code: e.code, err: err.message, hint: e.hint, ...e.details }, 'unreadable record left out');
}
