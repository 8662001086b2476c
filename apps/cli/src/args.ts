/** Checks of the command line made before anything is sent to the daemon (failures exit 2). */
import { parseKeyValues, usageError } from '@convoy/cli-kit';

// As @convoy/volumes validates them: Docker's charset, at most 128 characters, no "..".
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SIZE = /^\s*\d+(?:\.\d+)?\s*[kmgtp]?i?b?\s*$/i;
const SCHEMES = ['vfs:', 's3:'];

/** A volume or snapshot name (also a UUID prefix, which has the same characters). */
export function checkName(kind: 'volume' | 'snapshot', name: string): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw usageError(
      `invalid ${kind} name ${JSON.stringify(name.slice(0, 80))}`,
      `${kind} names are 1-128 characters of A-Z a-z 0-9 _ . - and start with a letter or digit`,
    );
  }
  return name;
}

/** `--size`: bytes, or a number with k/m/g/t/p (powers of 1024) and an optional "i"/"b", as Convoy took it. */
export function checkSize(size: string | undefined): string | undefined {
  if (size !== undefined && (!SIZE.test(size) || Number.parseFloat(size) <= 0)) {
    throw usageError(`invalid size ${JSON.stringify(size)}`, 'write sizes like 10G, 512M or 1073741824 (bytes)');
  }
  return size;
}

/** A backup store or backup URL: vfs:///abs/path or s3://bucket@region/prefix, with ?backup=…&volume=… for a backup. */
export function checkUrl(what: 'destination' | 'backup URL', url: string, options: { backup: boolean }): string {
  let u: URL;
  try {
    // Rancher Convoy printed its backup URLs with & as \u0026 (Go's JSON): accepted as printed.
    u = new URL(url.replaceAll('\\u0026', '&'));
  } catch {
    throw usageError(`invalid ${what} ${JSON.stringify(url.slice(0, 200))}`, urlHint(options.backup));
  }
  if (!SCHEMES.includes(u.protocol)) throw usageError(`unsupported ${what} scheme ${JSON.stringify(u.protocol)}`, urlHint(options.backup));
  if (options.backup && (!u.searchParams.has('backup') || !u.searchParams.has('volume'))) {
    throw usageError(`${what} ${JSON.stringify(url.slice(0, 200))} does not name a backup`, urlHint(true));
  }
  return url;
}

function urlHint(backup: boolean): string {
  return backup
    ? 'a backup URL is what `convoy backup create` printed, e.g. vfs:///mnt/bk?backup=ID&volume=NAME (`convoy backup list DEST` shows them)'
    : 'a destination is vfs:///absolute/path or s3://bucket@region/prefix';
}

/** `--mountpoint`: an absolute path. */
export function checkMountpoint(path: string | undefined): string | undefined {
  if (path !== undefined && !path.startsWith('/'))
    throw usageError(
      `--mountpoint must be an absolute path, got ${JSON.stringify(path)}`,
      'e.g. --mountpoint /srv/db, or leave it out to let the daemon choose',
    );
  return path;
}

/** `--opt k=v` / `--label k=v` (repeatable) → { k: v }; a key given twice or a malformed pair is a usage error. */
export function parsePairs(flag: 'opt' | 'label', pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  return parseKeyValues(pairs, { noun: `--${flag}`, syntax: `--${flag}`, unique: 'key' });
}
