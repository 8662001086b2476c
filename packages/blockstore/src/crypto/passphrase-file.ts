// A passphrase kept in a file (convoy-backup --password-file, the daemon's backupPasswordFile):
// its text less one trailing newline, as restic reads it. How an unreadable or empty file is
// reported is the caller's (a usage error for a CLI flag, a configuration error for the daemon).
import fs from 'node:fs/promises';

export type PassphraseFileProblem = { kind: 'unreadable'; reason: string } | { kind: 'empty' };

export async function readPassphraseFile(file: string, fail: (problem: PassphraseFileProblem) => Error): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw fail({ kind: 'unreadable', reason: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
  }
  const pass = text.replace(/\r?\n$/, '');
  if (pass === '') throw fail({ kind: 'empty' });
  return pass;
}
