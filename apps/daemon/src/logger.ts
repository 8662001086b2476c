import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Structured JSON logs on stderr (journald keeps them); secrets are redacted by path. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['*.secretAccessKey', '*.password', '*.sessionToken', 'config.s3SecretAccessKey'], censor: '***' },
    },
    pino.destination(2),
  );
}

/** A record the daemon serves without (the error names the file and says what to do). */
export function problemLog(log: Logger, err: Error): void {
  const e = err as { code?: string; hint?: string; details?: Record<string, unknown> };
  log.warn({ code: e.code, err: err.message, hint: e.hint, ...e.details }, 'unreadable record left out');
}
