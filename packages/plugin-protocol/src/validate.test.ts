import { isConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { PLUGIN_ENDPOINTS } from './types.js';
import { parseBody, parseEndpoint, parseRequest, validateMountId, validateOpts } from './validate.js';

/** The name rule at the plugin boundary: what a Docker request's Name goes through. */
const validateVolumeName = (name: unknown): string => parseRequest('/VolumeDriver.Get', JSON.stringify({ Name: name })).Name;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isConvoyError(err)) return err.code;
    throw err;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a throw');
}

describe('Name, at the plugin boundary (the one rule of @convoy/rules)', () => {
  const good = [
    'a', // Docker's local driver wants 2, but a plugin gets the name as given; Rancher Convoy's CLI made 1-character names
    'ab',
    'vol1',
    'Data_01',
    'a.b',
    'a-b_c.d',
    '0start',
    'x'.repeat(128),
    'f0c3a1b2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d', // Docker's anonymous volume names
  ];
  it.each(good)('accepts %j', (name) => {
    expect(validateVolumeName(name)).toBe(name);
  });

  const bad: [label: string, name: unknown, code: string, reason: RegExp][] = [
    ['empty', '', 'CONVOY_VOLUME_NAME_INVALID', /empty/],
    ['300 characters', 'v'.repeat(300), 'CONVOY_VOLUME_NAME_INVALID', /300 characters long, more than 128/],
    ['129 characters', 'v'.repeat(129), 'CONVOY_VOLUME_NAME_INVALID', /more than 128/],
    ['a slash', 'a/b', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['an absolute path', '/etc', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['a traversal', '../etc', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['dot dot inside', 'a..b', 'CONVOY_VOLUME_NAME_INVALID', /holds "\.\."/],
    ['dot dot', '..', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['dot', '.', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['a NUL', 'ab\0cd', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['a leading dot', '.hidden', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['a leading dash', '-rf', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['a leading underscore', '_x', 'CONVOY_VOLUME_NAME_INVALID', /start with a letter or digit/],
    ['unicode letters', 'données', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['an emoji', 'vol😀', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['a space', 'my vol', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['a colon', 'a:b', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['a newline', 'ab\n', 'CONVOY_VOLUME_NAME_INVALID', /characters other than/],
    ['a number', 42, 'CONVOY_PLUGIN_REQUEST_INVALID', /Name must be a string, got a number/],
    ['null', null, 'CONVOY_PLUGIN_REQUEST_INVALID', /got null/],
    ['an array', ['ab'], 'CONVOY_PLUGIN_REQUEST_INVALID', /got an array/],
  ];
  it.each(bad)('rejects %s', (_label, name, code, reason) => {
    expect(codeOf(() => validateVolumeName(name))).toBe(code);
    expect(messageOf(() => validateVolumeName(name))).toMatch(reason);
  });

  it('quotes the name in the message with control characters escaped and long names cut', () => {
    expect(messageOf(() => validateVolumeName('ab\0cd'))).toContain('"ab\\u0000cd"');
    const long = messageOf(() => validateVolumeName('v'.repeat(300)));
    expect(long).toContain(`"${'v'.repeat(60)}…"`);
    expect(long).not.toContain('v'.repeat(61));
  });
});

describe('validateOpts', () => {
  it.each([
    ['missing', undefined, {}],
    ['null (docker 28 without -o)', null, {}],
    ['empty', {}, {}],
    ['strings', { size: '10G', fs: 'ext4' }, { size: '10G', fs: 'ext4' }],
    ['an empty value', { backup: '' }, { backup: '' }],
  ])('accepts %s', (_label, opts, expected) => {
    expect(validateOpts(opts)).toEqual(expected);
  });

  it.each([
    ['a number value', { size: 10 }, /option "size" must be a string, got a number/],
    ['a boolean value', { ro: true }, /option "ro" must be a string, got a boolean/],
    ['a null value', { size: null }, /got null/],
    ['a nested object', { x: { y: '1' } }, /got an object/],
    ['an array', ['size=1'], /Opts must be an object of strings, got an array/],
    ['a string', 'size=1', /got a string/],
    ['a number', 7, /got a number/],
  ])('rejects %s', (_label, opts, reason) => {
    expect(codeOf(() => validateOpts(opts))).toBe('CONVOY_PLUGIN_REQUEST_INVALID');
    expect(messageOf(() => validateOpts(opts))).toMatch(reason);
  });

  it('keeps "__proto__" as a plain key', () => {
    const opts = validateOpts(JSON.parse('{"__proto__":"x","a":"b"}'));
    expect(Object.getPrototypeOf(opts)).toBe(Object.prototype);
    expect(Object.keys(opts).sort()).toEqual(['__proto__', 'a']);
  });
});

describe('validateMountId', () => {
  it('accepts Docker IDs', () => {
    expect(validateMountId('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')).toMatch(/^e3b0/);
  });
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 12],
    ['too long', 'i'.repeat(1025)],
  ])('rejects %s', (_label, id) => {
    expect(codeOf(() => validateMountId(id))).toBe('CONVOY_PLUGIN_REQUEST_INVALID');
  });
});

describe('parseEndpoint', () => {
  it.each(PLUGIN_ENDPOINTS.map((e) => [e]))('knows %s', (endpoint) => {
    expect(parseEndpoint(endpoint)).toBe(endpoint);
    expect(parseEndpoint(`${endpoint}?x=1`)).toBe(endpoint);
  });
  it.each([
    '/',
    '/VolumeDriver.Snapshot',
    '/volumedriver.create',
    '/VolumeDriver.Create/',
    'VolumeDriver.Create',
    '/NetworkDriver.GetCapabilities',
  ])('answers %j with an unknown-endpoint error', (path) => {
    expect(codeOf(() => parseEndpoint(path))).toBe('CONVOY_PLUGIN_ENDPOINT_UNKNOWN');
  });
});

describe('parseBody', () => {
  it.each([
    ['an empty body (Activate)', Buffer.alloc(0), {}],
    ['whitespace', Buffer.from(' \n'), {}],
    ['JSON null', Buffer.from('null'), {}],
    ['an object with the trailing newline Go writes', Buffer.from('{"Name":"v1"}\n'), { Name: 'v1' }],
    ['a byte order mark', Buffer.from('\uFEFF{"Name":"v1"}'), { Name: 'v1' }],
    ['a string', '{"a":1}', { a: 1 }],
  ])('reads %s', (_label, body, expected) => {
    expect(parseBody(body)).toEqual(expected);
  });

  it.each([
    ['truncated JSON', Buffer.from('{"Name":'), /not valid JSON/],
    ['garbage', Buffer.from('Name=v1'), /not valid JSON/],
    ['an array', Buffer.from('["v1"]'), /must be a JSON object, got an array/],
    ['a string', Buffer.from('"v1"'), /got a string/],
    ['a number', Buffer.from('1'), /got a number/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
  ])('rejects %s', (_label, body, reason) => {
    expect(codeOf(() => parseBody(body))).toBe('CONVOY_PLUGIN_REQUEST_INVALID');
    expect(messageOf(() => parseBody(body))).toMatch(reason);
  });
});

describe('parseRequest', () => {
  const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v)}\n`);

  it('reads what Docker sends to each endpoint', () => {
    expect(parseRequest('/Plugin.Activate', Buffer.alloc(0))).toEqual({});
    expect(parseRequest('/VolumeDriver.Capabilities', json({}))).toEqual({});
    expect(parseRequest('/VolumeDriver.List', json({}))).toEqual({});
    expect(parseRequest('/VolumeDriver.Create', json({ Name: 'v1', Opts: null }))).toEqual({ Name: 'v1', Opts: {} });
    expect(parseRequest('/VolumeDriver.Create', json({ Name: 'v1' }))).toEqual({ Name: 'v1', Opts: {} });
    expect(parseRequest('/VolumeDriver.Create', json({ Name: 'v1', Opts: { size: '1G' } }))).toEqual({ Name: 'v1', Opts: { size: '1G' } });
    expect(parseRequest('/VolumeDriver.Mount', json({ Name: 'v1', ID: 'abc' }))).toEqual({ Name: 'v1', ID: 'abc' });
    expect(parseRequest('/VolumeDriver.Unmount', json({ Name: 'v1', ID: 'abc' }))).toEqual({ Name: 'v1', ID: 'abc' });
    for (const e of ['/VolumeDriver.Get', '/VolumeDriver.Path', '/VolumeDriver.Remove'] as const) {
      expect(parseRequest(e, json({ Name: 'v1' }))).toEqual({ Name: 'v1' });
    }
  });

  it('ignores unknown fields, as Docker does', () => {
    expect(parseRequest('/VolumeDriver.Get', json({ Name: 'v1', Extra: [1] }))).toEqual({ Name: 'v1' });
  });

  it.each([
    ['/VolumeDriver.Create', {}, 'CONVOY_PLUGIN_REQUEST_INVALID', /Name is missing/],
    ['/VolumeDriver.Create', { Name: 'v1', Opts: [] }, 'CONVOY_PLUGIN_REQUEST_INVALID', /Opts/],
    ['/VolumeDriver.Create', { Name: 'v1', Opts: { size: 1 } }, 'CONVOY_PLUGIN_REQUEST_INVALID', /option "size"/],
    ['/VolumeDriver.Create', { Name: '../x' }, 'CONVOY_VOLUME_NAME_INVALID', /does not start with a letter or digit/],
    ['/VolumeDriver.Mount', { Name: 'v1' }, 'CONVOY_PLUGIN_REQUEST_INVALID', /ID must be a string, got nothing/],
    ['/VolumeDriver.Mount', { Name: 'v1', ID: 5 }, 'CONVOY_PLUGIN_REQUEST_INVALID', /ID must be a string/],
    ['/VolumeDriver.Unmount', { ID: 'x' }, 'CONVOY_PLUGIN_REQUEST_INVALID', /Name is missing/],
    ['/VolumeDriver.Get', { Name: null }, 'CONVOY_PLUGIN_REQUEST_INVALID', /Name must be a string/],
    ['/VolumeDriver.Remove', { Name: 'x'.repeat(300) }, 'CONVOY_VOLUME_NAME_INVALID', /more than 128/],
  ] as const)('%s %j → %s', (endpoint, body, code, reason) => {
    expect(codeOf(() => parseRequest(endpoint, json(body)))).toBe(code);
    expect(messageOf(() => parseRequest(endpoint, json(body)))).toMatch(reason);
  });

  it('rejects an empty body where a Name is required', () => {
    expect(codeOf(() => parseRequest('/VolumeDriver.Get', Buffer.alloc(0)))).toBe('CONVOY_PLUGIN_REQUEST_INVALID');
  });
});
