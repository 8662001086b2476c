import { describe, expect, it } from 'vitest';
import { checkVfsStoreRoot } from './store-roots.js';

describe('checkVfsStoreRoot (--vfs-store-roots)', () => {
  const roots = ['/var/lib/convoy/backups'];

  it('lets every store through when no roots are given', () => {
    expect(() => checkVfsStoreRoot('vfs:///srv/anywhere', undefined)).not.toThrow();
    expect(() => checkVfsStoreRoot('vfs:///srv/anywhere', [])).not.toThrow();
  });

  it('allows a vfs store in a root or below it, with or without query parameters', () => {
    expect(() => checkVfsStoreRoot('vfs:///var/lib/convoy/backups', roots)).not.toThrow();
    expect(() => checkVfsStoreRoot('vfs:///var/lib/convoy/backups/nightly?backup=b1&volume=v1', roots)).not.toThrow();
  });

  it('refuses a vfs store outside the roots, naming the path and where to put it instead', () => {
    for (const url of ['vfs:///srv/backups', 'vfs:///var/lib/convoy/backups-old/x', 'vfs:///var/lib/convoy']) {
      let err: unknown;
      try {
        checkVfsStoreRoot(url, roots);
      } catch (e) {
        err = e;
      }
      expect(err, url).toMatchObject({ code: 'CONVOY_INVALID_ARGUMENT' });
      expect((err as Error).message).toContain(url.slice('vfs://'.length));
      expect((err as { hint?: string }).hint).toContain('/var/lib/convoy/backups');
    }
  });

  it('does not judge s3 stores or malformed URLs (openStore refuses those itself)', () => {
    expect(() => checkVfsStoreRoot('s3://bucket@us-east-1/prefix', roots)).not.toThrow();
    expect(() => checkVfsStoreRoot('vfs://relative/path', roots)).not.toThrow();
  });
});
