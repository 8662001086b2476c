// Where convoy-backup gets passphrases, as restic does: a file (--password-file), the environment
// (CONVOY_PASSWORD), or the terminal. A passphrase is never printed, logged or put in an error.
import { readPassphraseFile, type PassphraseSource } from '@convoy/blockstore';
import { usageError, type CliIo } from '@convoy/cli-kit';

function fromFile(file: string, flag: string): Promise<string> {
  return readPassphraseFile(file, (p) =>
    p.kind === 'empty'
      ? usageError(`${flag} ${file} is empty`, 'the file must hold the passphrase (one line)')
      : usageError(`cannot read ${flag} ${file}: ${p.reason}`, 'give a readable file that holds the passphrase'),
  );
}

/** The passphrase that opens a store: asked for only when the store turns out to be encrypted. */
export function storePassphrase(passwordFile: string | undefined, io: CliIo, store: string): PassphraseSource {
  let cached: Promise<string | undefined> | undefined;
  return () =>
    (cached ??= (async () => {
      if (passwordFile !== undefined) return fromFile(passwordFile, '--password-file');
      const env = io.env.CONVOY_PASSWORD;
      if (env !== undefined && env !== '') return env;
      if (io.readSecret === undefined) return undefined;
      return nonEmpty(await io.readSecret(`passphrase for ${store}: `));
    })());
}

/**
 * A new passphrase (init --encrypt, key add, key change): from `file`, else `envName`, else asked
 * twice on the terminal. Without any of them: a usage error saying how to give one.
 */
export async function newPassphrase(file: string | undefined, flag: string, envName: string, io: CliIo): Promise<string> {
  if (file !== undefined) return fromFile(file, flag);
  const env = io.env[envName];
  if (env !== undefined && env !== '') return env;
  if (io.readSecret === undefined) {
    throw usageError('a new passphrase is needed and there is no terminal to ask it on', `pass ${flag} FILE or set ${envName}`);
  }
  const first = nonEmpty(await io.readSecret('new passphrase: '));
  if (first === undefined) throw usageError('the passphrase is empty', 'choose a passphrase of at least one character');
  if ((await io.readSecret('enter it again: ')) !== first) throw usageError('the passphrases do not match', 'run the command again');
  return first;
}

function nonEmpty(s: string): string | undefined {
  return s === '' ? undefined : s;
}
