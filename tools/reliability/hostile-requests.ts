// What the hostile-input campaign sends to the daemon's two sockets, as fast-check arbitraries,
// and how an answer is judged. Each request has a `kind` (for the report). Names and URLs come
// from hostile pools: traversal, encoded `..` (%2e%2e, %252e), NUL, backslashes, unicode,
// invalid percent-encoding, overlong text; some names are valid, so creates, mounts and restores
// really happen (inside the daemon's root and vfs path, and the campaign's store directory).
import fc from 'fast-check';
import type { RawOutcome, RawRequest } from './hostile-http.js';

export type Socket = 'plugin' | 'control';

export interface HostileRequest extends RawRequest {
  socket: Socket;
  kind: string;
}

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

const MIB = 1024 * 1024;
const ENDPOINTS = ['Create', 'Remove', 'Mount', 'Unmount', 'Path', 'Get', 'List', 'Capabilities']
  .map((e) => `/VolumeDriver.${e}`)
  .concat('/Plugin.Activate');

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
const segmentArb = (places: Places): fc.Arbitrary<string> =>
  fc
    .tuple(nameArb(places), fc.constantFrom('raw', 'enc', 'enc2'))
    .map(([n, how]) => (how === 'raw' ? n : how === 'enc' ? safeEncode(n) : safeEncode(safeEncode(n))));

function safeEncode(s: string): string {
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

const jsonText = fc.json({ maxDepth: 4 });
const deepJson = fc
  .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([n, open, closed]) => {
    const close = open === '[' ? ']' : '}';
    return open.repeat(n) + (closed ? '1' + close.repeat(n) : '');
  });
const malformed = fc.oneof(
  fc.constantFrom(
    '{',
    '{"Name":',
    '{"Name":"a",}',
    'nul',
    'NaN',
    '{"Name":"\\ud800"}',
    '\u0000',
    '\ufeff{}',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
  ),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  jsonText.map((j) => j.slice(0, Math.max(0, j.length - 1))),
);
/** A 10 MB body: JSON-looking or not. */
const bigBody = fc
  .constantFrom('json-string', 'json-array', 'bytes')
  .map((how) =>
    how === 'json-string'
      ? Buffer.from(`{"Name":"${'a'.repeat(10 * MIB)}"}`)
      : how === 'json-array'
        ? Buffer.from(`[${'0,'.repeat(5 * MIB)}0]`)
        : Buffer.alloc(10 * MIB, 0xff),
  );

const methodArb = fc.constantFrom(
  'GET',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'post',
  'GETX',
  'BREW',
);
const targetArb = (places: Places): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      '/',
      '//',
      '///',
      '*',
      '%',
      '/%',
      '/%E0%A4%A',
      '/..',
      '/../..',
      '/v1/../v1/info',
      '/v1/%2e%2e/info',
      'http://x/v1/info',
      '/v1/info?%',
      '/v1/info#x',
      '/v1//volumes',
      '/v1/volumes/',
      '/\u0000',
      '/é',
      '/a b',
      `/${'x'.repeat(9000)}`,
    ),
    fc
      .tuple(
        fc.constantFrom('/v1', '/v2', '', '/VolumeDriver.Get', '/Plugin.Activate'),
        fc.constantFrom('volumes', 'snapshots', 'backups', 'info', 'x'),
        segmentArb(places),
        fc.constantFrom('', '/mount', '/umount', '/x', '/inspect'),
      )
      .map(([v, c, s, a]) => `${v}/${c}/${s}${a}`),
  );
const contentTypes = fc.constantFrom<Record<string, string>>(
  {},
  { 'Content-Type': 'text/plain' },
  { 'Content-Type': 'application/xml' },
  { 'Content-Type': 'multipart/form-data; boundary=x' },
  { 'Content-Type': 'application/json; charset=utf-16' },
  { 'Content-Encoding': 'gzip' },
  { Expect: '100-continue' },
  { Accept: 'application/x-ndjson' },
  { Connection: 'Upgrade', Upgrade: 'websocket' },
  { Upgrade: 'h2c', Connection: 'Upgrade, HTTP2-Settings' },
);

const post = (
  socket: Socket,
  kind: string,
  target: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): HostileRequest => ({ socket, kind, method: 'POST', target, body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), headers });

export function pluginRequestArb(places: Places): fc.Arbitrary<HostileRequest> {
  const endpoint = fc.constantFrom(...ENDPOINTS);
  const nameBody = fc
    .tuple(nameArb(places), fc.option(nameArb(places), { nil: undefined }))
    .map(([Name, ID]) => JSON.stringify({ Name, ID }));
  const optsBody = fc
    .tuple(
      nameArb(places),
      fc.dictionary(
        fc.constantFrom('size', 'backup', 'driver', 'x', '__proto__', 'constructor'),
        fc.oneof(
          urlArb(places, false),
          fc.constantFrom('1G', '-1', '1e400', '0', '99999999999T', 'ab'),
          fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
        ),
      ),
    )
    .map(([Name, Opts]) => JSON.stringify({ Name, Opts }));
  return fc.oneof(
    fc.tuple(endpoint, jsonText).map(([e, b]) => post('plugin', 'random JSON', e, b)),
    fc.tuple(endpoint, malformed).map(([e, b]) => post('plugin', 'malformed JSON', e, b)),
    fc.tuple(endpoint, deepJson).map(([e, b]) => post('plugin', 'deep nesting', e, b)),
    fc.tuple(endpoint, nameBody).map(([e, b]) => post('plugin', 'odd names', e, b)),
    optsBody.map((b) => post('plugin', 'odd options and backup URLs', '/VolumeDriver.Create', b)),
    fc.tuple(endpoint, fc.oneof(nameBody, jsonText), contentTypes).map(([e, b, h]) => post('plugin', 'odd content types', e, b, h)),
    fc.tuple(endpoint, methodArb, fc.option(nameBody, { nil: undefined })).map(([e, m, b]): HostileRequest => ({
      socket: 'plugin',
      kind: 'wrong methods',
      method: m,
      target: e,
      ...(b === undefined ? {} : { body: Buffer.from(b) }),
    })),
    fc.tuple(targetArb(places), nameBody).map(([t, b]) => post('plugin', 'odd URLs', t, b)),
  );
}

/** One request of each kind that is costly to generate often: 10 MB bodies. */
export const bigRequest = (socket: Socket, places: Places): fc.Arbitrary<HostileRequest> =>
  fc
    .tuple(
      bigBody,
      socket === 'plugin'
        ? fc.constantFrom(...ENDPOINTS)
        : fc.constantFrom('/v1/volumes', '/v1/snapshots', '/v1/backups', `/v1/volumes/${places.volumes[0] ?? 'x'}/mount`),
    )
    .map(([b, t]) => post(socket, '10 MB bodies', t, b));

export function controlRequestArb(places: Places): fc.Arbitrary<HostileRequest> {
  const seg = segmentArb(places);
  const q = (u: string): string => safeEncode(u);
  const withQuery = fc.oneof(
    urlArb(places, false).map((u) => ({ method: 'GET', target: `/v1/backups?dest=${q(u)}` })),
    fc.tuple(urlArb(places, false), seg).map(([u, v]) => ({ method: 'GET', target: `/v1/backups?dest=${q(u)}&volume=${v}` })),
    urlArb(places, false).map((u) => ({ method: 'GET', target: `/v1/backups/inspect?url=${q(u)}` })),
    urlArb(places, false).map((u) => ({ method: 'DELETE', target: `/v1/backups?url=${q(u)}` })),
    urlArb(places, false).map((u) => ({ method: 'GET', target: `/v1/backups?dest=${u}` })),
    fc
      .tuple(seg, fc.constantFrom('', '?force=1', '?reference=1', '?force=%', '?force=1&force=0'))
      .map(([v, x]) => ({ method: 'DELETE', target: `/v1/volumes/${v}${x}` })),
  );
  const bodies = fc.oneof(
    fc
      .tuple(
        nameArb(places),
        fc.option(urlArb(places, false), { nil: undefined }),
        fc.option(fc.constantFrom('1G', '-5', 'x', '1e400'), { nil: undefined }),
      )
      .map(([name, backup, size]) => ({ target: '/v1/volumes', body: { name, backup, size } })),
    fc.tuple(nameArb(places), nameArb(places)).map(([volume, name]) => ({ target: '/v1/snapshots', body: { volume, name } })),
    fc
      .tuple(nameArb(places), urlArb(places, true), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }))
      .map(([snapshot, dest, labels]) => ({ target: '/v1/backups', body: { snapshot, dest, labels } })),
    fc
      .tuple(seg, fc.option(fc.constantFrom('/tmp', '/etc', '../x', 'rel'), { nil: undefined }))
      .map(([v, mountpoint]) => ({ target: `/v1/volumes/${v}/mount`, body: { mountpoint } })),
    fc.tuple(seg).map(([v]) => ({ target: `/v1/volumes/${v}/umount`, body: {} })),
  );
  const anyTarget = fc.constantFrom(
    '/v1/volumes',
    '/v1/snapshots',
    '/v1/backups',
    '/v1/info',
    `/v1/volumes/${places.volumes[0] ?? 'x'}/mount`,
  );
  return fc.oneof(
    fc.tuple(anyTarget, jsonText).map(([t, b]) => post('control', 'random JSON', t, b)),
    fc.tuple(anyTarget, malformed).map(([t, b]) => post('control', 'malformed JSON', t, b)),
    fc.tuple(anyTarget, deepJson).map(([t, b]) => post('control', 'deep nesting', t, b)),
    fc.tuple(bodies, contentTypes).map(([r, h]) => post('control', 'odd names and backup URLs', r.target, JSON.stringify(r.body), h)),
    withQuery.map((r): HostileRequest => ({ socket: 'control', kind: 'odd names and backup URLs', ...r })),
    fc
      .tuple(fc.constantFrom('GET', 'POST', 'DELETE'), seg, fc.constantFrom('', '/mount', '/umount', '/x'))
      .map(([m, v, a]): HostileRequest => ({
        socket: 'control',
        kind: 'odd URLs',
        method: m,
        target: `/v1/volumes/${v}${a}`,
        ...(m === 'POST' ? { body: Buffer.from('{}') } : {}),
      })),
    fc.tuple(methodArb, targetArb(places)).map(([m, t]): HostileRequest => ({ socket: 'control', kind: 'odd URLs', method: m, target: t })),
    fc
      .tuple(methodArb, anyTarget)
      .map(([m, t]): HostileRequest => ({ socket: 'control', kind: 'wrong methods', method: m, target: t, body: Buffer.from('{}') })),
    fc
      .tuple(anyTarget, bodies, contentTypes)
      .map(([t, r, h]) => post('control', 'odd content types', t, JSON.stringify(r.body), { ...h, 'Transfer-Encoding': 'chunked' })),
  );
}

/** What an answer is, for the report: `2xx`, `4xx`, … or `no answer`. */
export function answerClass(o: RawOutcome): string {
  return o.kind === 'answer' ? `${Math.floor(o.status / 100)}xx` : o.kind === 'hang' ? 'no answer (hang)' : 'connection dropped';
}

const CODE = /^CONVOY_[A-Z0-9_]+$/;

/** Why an answer is wrong, or undefined when it is a proper answer (success, or an error with a code). */
export function judge(req: HostileRequest, o: RawOutcome): string | undefined {
  if (o.kind === 'hang') return 'no answer before the deadline';
  if (o.kind === 'dropped') return `connection dropped: ${o.detail}`;
  if (req.method === 'HEAD') return o.status >= 400 && o.status < 500 ? undefined : `HEAD answered ${o.status}`;
  if (req.socket === 'plugin') {
    const body = o.json as { Err?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return `${o.status} with a body that is not a JSON object: ${o.body.toString('utf8').slice(0, 120)}`;
    if (body.Err === undefined) return o.status === 200 ? undefined : `${o.status} without Err`;
    if (typeof body.Err !== 'string' || body.Err === '') return `Err is not a message: ${JSON.stringify(body.Err)}`;
    if (body.Err.startsWith('internal error')) return `an internal error for bad input: ${body.Err.slice(0, 200)}`;
    return undefined;
  }
  if (o.headers['content-type']?.includes('ndjson') === true) {
    const last = o.body.toString('utf8').trim().split('\n').at(-1) ?? '';
    let line: { type?: string; error?: { code?: unknown } } | undefined;
    try {
      line = JSON.parse(last) as typeof line;
    } catch {
      return `a progress stream that does not end in a JSON line: ${last.slice(0, 120)}`;
    }
    if (line?.type === 'result') return undefined;
    if (line?.type === 'error' && typeof line.error?.code === 'string' && CODE.test(line.error.code)) return internal(line.error.code);
    return `a progress stream that ends in neither a result nor an error with a code: ${last.slice(0, 120)}`;
  }
  if (o.status >= 200 && o.status < 300) return o.json === undefined ? `${o.status} with a body that is not JSON` : undefined;
  const error = (o.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code !== 'string' || !CODE.test(error.code) || typeof error.message !== 'string')
    return `${o.status} without a JSON error with a CONVOY_* code: ${o.body.toString('utf8').slice(0, 160)}`;
  // A 5xx is for what is not the request's fault: a store that cannot be reached (no S3
  // credentials, endpoint down), stored data that is damaged (a URL naming a directory with a
  // garbage convoy.json). Never a usage error, never CONVOY_INTERNAL (a bug).
  if (o.status >= 500 && /INVALID|USAGE/.test(error.code)) return `${o.status} ${error.code} for bad input: ${error.message.slice(0, 200)}`;
  return internal(error.code);
}

const internal = (code: string): string | undefined => (code === 'CONVOY_INTERNAL' ? 'CONVOY_INTERNAL for bad input' : undefined);
