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
