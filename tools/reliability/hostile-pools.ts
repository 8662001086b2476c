// The hostile pools of names and backup/store URLs (traversal, encoded `..`, NUL, unicode, overlong
// text; some valid, so real work happens), as fast-check arbitraries for the sockets and the CLIs.
import fc from 'fast-check';

/** Where the campaign's files are: what URLs may point at. */
export interface Places {
  /** A directory of stores the daemon may write to (backup destinations). */
  stores: string;
  /** A real store with one backup of `backupVolume` (`backupId`). */
  realStore: string;
  backupVolume: string;
  backupId: string;
  /** A tree nothing may write to; URLs point into it too. */
  sentinel: string;
  /** Volumes and snapshots that exist (so some requests reach real work). */
  volumes: string[];
  snapshots: string[];
}

const ODD = [
  '',
  '.',
  '..',
  '...',
  '%',
  '%%',
  '%E0%A4%A',
  '%zz',
  '%00',
  '%2e%2e',
  '%252e%252e',
  '%2F',
  '..%2F..%2Fetc',
  '..%5C..%5C',
  '../../../../etc/passwd',
  '..\\..\\windows',
  'a\u0000b',
  '\u0000',
  'a/b',
  'a\\b',
  '//',
  '/abs',
  'C:\\x',
  ' lead',
  'trail ',
  'tab\tx',
  'nl\nx',
  'cr\rx',
  'é',
  '中文',
  '\u202etxt',
  '\ud800',
  '😀emoji',
  'a'.repeat(256),
  'x'.repeat(5000),
];

/** A volume or snapshot name: hostile or valid (valid ones exist or get created). */
export const nameArb = (places: Places): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...ODD) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.stringMatching(/^hz[a-z0-9][a-z0-9_.-]{0,12}$/) },
    { weight: 2, arbitrary: fc.constantFrom(...places.volumes, ...places.snapshots, 'hz-missing') },
  );

/** A path segment as it goes into a request target: raw, percent-encoded, or double-encoded. */
export const segmentArb = (places: Places): fc.Arbitrary<string> =>
  fc
    .tuple(nameArb(places), fc.constantFrom('raw', 'enc', 'enc2'))
    .map(([n, how]) => (how === 'raw' ? n : how === 'enc' ? safeEncode(n) : safeEncode(safeEncode(n))));

export function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // a lone surrogate: sent as it is
  }
}

/** A backup or store URL. `writable`: only destinations under the stores directory (with hostile suffixes). */
export const urlArb = (places: Places, writable: boolean): fc.Arbitrary<string> => {
  const base = writable
    ? fc.constantFrom(places.stores, `${places.stores}/new`, `${places.stores}/a b`)
    : fc.constantFrom(
        places.realStore,
        places.stores,
        places.sentinel,
        `${places.sentinel}/sub`,
        `${places.sentinel}/nothere`,
        '/etc',
        '/proc/self',
        '/',
      );
  const suffix = fc.constantFrom(
    '',
    '/',
    '//',
    '/..',
    '/../..',
    '/%2e%2e',
    '/%2e%2e/%2e%2e/sentinel',
    '/%252e%252e',
    '/.%2e',
    '/..%2F..',
    '/%00',
    '/a%00b',
    '\\..\\..',
    '/é',
    '/%',
    '/%E0%A4%A',
    `/${'x'.repeat(300)}`,
    `/${'y/'.repeat(600)}`,
  );
  const query = fc.oneof(
    fc.constant(''),
    fc.constant(`?backup=${places.backupId}&volume=${places.backupVolume}`),
    fc.tuple(nameArb(places), nameArb(places)).map(([b, v]) => `?backup=${safeEncode(b)}&volume=${safeEncode(v)}`),
    fc.tuple(nameArb(places), nameArb(places)).map(([b, v]) => `?backup=${b}&volume=${v}`),
  );
  const vfs = fc
    .tuple(fc.constantFrom('vfs://', 'VFS://', 'vfs:', 'vfs:/', 'vfs:////', 'file://'), base, suffix, query)
    .map(([s, b, x, q]) => `${s}${b}${x}${q}`);
  const s3 = fc
    .tuple(
      fc.constantFrom(
        's3://bucket',
        's3://AKFUZZ:SKFUZZ@bucket',
        's3://..',
        's3://b@',
        's3://bucket@region@x',
        's3://bucket/%2e%2e',
        's3://bucket/../x',
        's3://BUCKET',
        's3://',
      ),
      query,
    )
    .map(([u, q]) => `${u}${q}`);
  return fc.oneof(
    { weight: 4, arbitrary: vfs },
    { weight: 1, arbitrary: s3 },
    { weight: 1, arbitrary: fc.constantFrom('', 'http://x/y', '/abs/path', 'relative', `vfs://${'z'.repeat(5000)}`) },
  );
};
