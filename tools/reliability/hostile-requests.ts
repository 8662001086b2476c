// What the hostile-input campaign sends to the daemon's two sockets, as fast-check arbitraries
// (bodies, methods, targets, content types). Each request has a `kind` (for the report). Names
// and URLs come from hostile-pools.ts; how an answer is judged is hostile-judge.ts.
import fc from 'fast-check';
import type { RawRequest } from './hostile-http.js';
import { nameArb, safeEncode, segmentArb, urlArb, type Places } from './hostile-pools.js';

export type Socket = 'plugin' | 'control';

export interface HostileRequest extends RawRequest {
  socket: Socket;
  kind: string;
}

const MIB = 1024 * 1024;
const ENDPOINTS = ['Create', 'Remove', 'Mount', 'Unmount', 'Path', 'Get', 'List', 'Capabilities']
  .map((e) => `/VolumeDriver.${e}`)
  .concat('/Plugin.Activate');

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
