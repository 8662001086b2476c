import { describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { formatStoreUrl, parseStoreUrl, s3EndpointProblem } from './url.js';

function rejects(url: string): { code: string | undefined; message: string; hint: string | undefined } {
  try {
    parseStoreUrl(url);
  } catch (err) {
    return { code: errorCode(err), message: (err as Error).message, hint: (err as { hint?: string }).hint };
  }
  throw new Error(`${url} was accepted`);
}

describe('parseStoreUrl', () => {
  it('parses vfs URLs with an absolute path and keeps query parameters for the layers above', () => {
    const p = parseStoreUrl('vfs:///var/lib/convoy-backups/?backup=abc&volume=v1');
    expect(p.location).toEqual({ kind: 'vfs', path: '/var/lib/convoy-backups' });
    expect(p.params.get('backup')).toBe('abc');
    expect(p.params.get('volume')).toBe('v1');
  });

  it("reads Rancher Convoy's printed URLs, with a literal \\u0026 in place of &, as the & form", () => {
    for (const url of [
      'vfs:///tmp/cg/store?backup=backup-f12db86493774ab7\\u0026volume=vol1',
      'vfs:///tmp/cg/store?backup=backup-f12db86493774ab7&volume=vol1',
      's3://backups@us-east-1/convoy?backup=backup-f12db86493774ab7\\u0026volume=vol1',
    ]) {
      const p = parseStoreUrl(url);
      expect(p.params.get('backup')).toBe('backup-f12db86493774ab7');
      expect(p.params.get('volume')).toBe('vol1');
    }
  });

  it('decodes percent-encoded vfs paths', () => {
    expect(parseStoreUrl('vfs:///mnt/my%20backups').location).toEqual({ kind: 'vfs', path: '/mnt/my backups' });
  });

  it('parses s3 URLs with bucket, region and prefix', () => {
    expect(parseStoreUrl('s3://backups@us-west-2/convoy/prod?volume=v').location).toEqual({
      kind: 's3',
      bucket: 'backups',
      region: 'us-west-2',
      prefix: 'convoy/prod',
    });
    expect(parseStoreUrl('s3://backups').location).toEqual({ kind: 's3', bucket: 'backups', region: undefined, prefix: '' });
    expect(parseStoreUrl('s3://backups@/p/').location).toEqual({ kind: 's3', bucket: 'backups', region: undefined, prefix: 'p' });
  });

  it('round-trips through formatStoreUrl, also paths with spaces, %, ? and #', () => {
    for (const u of ['vfs:///a/b', 's3://bkt@eu-west-1/x/y', 's3://bkt', 'vfs:///tmp/odd%20%2541%20dir%3F%23']) {
      expect(formatStoreUrl(parseStoreUrl(u).location)).toBe(u);
    }
    expect(parseStoreUrl(formatStoreUrl({ kind: 'vfs', path: '/tmp/odd %41 dir?#' })).location).toEqual({
      kind: 'vfs',
      path: '/tmp/odd %41 dir?#',
    });
  });

  it.each([
    ['vfs://relative/path', /absolute path/, /vfs:\/\/\/relative\/path/],
    ['vfs:///a/../etc', /"\." or "\.\."/, undefined],
    ['vfs:///a/./b', /"\." or "\.\."/, undefined],
    ['vfs:///srv/backups\\..\\..', /"\." or "\.\."/, undefined],
    ['vfs:///srv/backups%5C..%5Cetc', /"\." or "\.\."/, undefined],
    ['vfs:///', /refusing/, undefined],
    ['vfs:///a%00b', /NUL/, undefined],
    ['/var/backups', /is a path/, /vfs:\/\/\/var\/backups/],
    ['ftp://host/x', /unsupported store URL scheme "ftp:"/, /s3:\/\//],
    ['backups', /unsupported/, undefined],
    ['', /empty/, undefined],
    ['s3://AKIA:secret@bucket/x', /credentials/, /AWS_ACCESS_KEY_ID/],
    ['s3://Bad_Bucket', /bucket name/, undefined],
    ['s3://ab', /bucket name/, undefined],
    ['s3://bucket@US_EAST/x', /region/, undefined],
    ['s3://bucket@r/../x', /prefix/, undefined],
  ])('rejects %s with a clear message and hint', (url, message, hint) => {
    const r = rejects(url);
    expect(r.code).toBe('CONVOY_STORE_URL_INVALID');
    expect(r.message).toMatch(message);
    expect(r.hint).toBeDefined();
    if (hint !== undefined) expect(r.hint).toMatch(hint);
  });

  it('refuses a vfs path with a name over 255 bytes or longer than a path can be, instead of failing later with ENAMETOOLONG', () => {
    expect(rejects(`vfs:///tmp/${'x'.repeat(256)}`)).toMatchObject({
      code: 'CONVOY_STORE_URL_INVALID',
      message: expect.stringContaining('too long'),
    });
    expect(rejects(`vfs:///tmp/${'é'.repeat(128)}`)).toMatchObject({ code: 'CONVOY_STORE_URL_INVALID' });
    expect(rejects(`vfs:///${'y/'.repeat(1600)}z`)).toMatchObject({ code: 'CONVOY_STORE_URL_INVALID' });
    expect(parseStoreUrl('vfs:///tmp/a\\b..c').location).toEqual({ kind: 'vfs', path: '/tmp/a\\b..c' }); // a backslash alone is a character
    expect(parseStoreUrl(`vfs:///tmp/${'x'.repeat(255)}`).location).toEqual({ kind: 'vfs', path: `/tmp/${'x'.repeat(255)}` });
  });

  it('never echoes a secret from a rejected URL', () => {
    const r = rejects('s3://AKIA:topsecret@bucket/x');
    expect(`${r.message} ${r.hint}`).not.toContain('topsecret');
    for (const url of [
      's3://AKIA:topsecret@bucket/x#frag',
      's3://AKIA:top secret@bucket/x#f',
      'vfs://u:topsecret@host/x',
      'vfs://u:topsecret@/x%zz',
      's3://AKIA:top%secret@bucket/%zz',
    ]) {
      const e = rejects(url);
      expect(`${e.message} ${e.hint}`, url).not.toMatch(/topsecret|top secret|top%secret/);
    }
  });
});

describe('s3EndpointProblem', () => {
  it('accepts http(s) URLs without credentials and describes the others without quoting what could be a key', () => {
    expect(s3EndpointProblem('http://127.0.0.1:7480')).toBeUndefined();
    expect(s3EndpointProblem('https://s3.example.com')).toBeUndefined();
    for (const endpoint of [
      'SKtopsecret',
      'topsecret@host',
      'http://AK:top secret@host',
      'http://AK:topsecret@host',
      'ftp://topsecret@x',
      'ftp://x',
    ]) {
      const problem = s3EndpointProblem(endpoint);
      expect(problem, endpoint).toBeDefined();
      expect(problem, endpoint).not.toMatch(/topsecret|top secret/);
    }
  });
});
