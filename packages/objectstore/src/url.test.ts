import { describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { formatStoreUrl, parseStoreUrl } from './url.js';

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
    expect(parseStoreUrl(formatStoreUrl({ kind: 'vfs', path: '/tmp/odd %41 dir?#' })).location).toEqual({ kind: 'vfs', path: '/tmp/odd %41 dir?#' });
  });

  it.each([
    ['vfs://relative/path', /absolute path/, /vfs:\/\/\/relative\/path/],
    ['vfs:///a/../etc', /"\." or "\.\."/, undefined],
    ['vfs:///a/./b', /"\." or "\.\."/, undefined],
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

  it('never echoes a secret from a rejected URL', () => {
    const r = rejects('s3://AKIA:topsecret@bucket/x');
    expect(`${r.message} ${r.hint}`).not.toContain('topsecret');
  });
});
