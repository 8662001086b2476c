import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVMAPPER_OPTION_KEYS, optionsFromDriverOpts } from '@convoy/devmapper';
import { createDriver } from './registry.js';

describe('createDriver', () => {
  const make = (options: Record<string, string>) =>
    createDriver('vfs', { root: os.tmpdir(), options: { 'vfs.path': '/srv/v', ...options } });

  it('vfs volumes are local to this host unless vfs.shared says other hosts mount the same path (as Convoy)', () => {
    expect(make({}).scope).toBe('local');
    expect(make({ 'vfs.shared': 'false' }).scope).toBe('local');
    expect(make({ 'vfs.shared': 'true' }).scope).toBe('global');
  });

  it('refuses a vfs.shared that is neither true nor false, saying what it takes', () => {
    expect(() => make({ 'vfs.shared': 'yes' })).toThrow(
      expect.objectContaining({ code: 'CONVOY_INVALID_ARGUMENT', message: expect.stringContaining('true or false') }),
    );
  });

  it('refuses a driver option no driver knows (a typo), listing every key there is', () => {
    for (const typo of ['vfs.pth', 'dm.datadevice', 'path']) {
      let err: unknown;
      try {
        make({ [typo]: '/x' });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'CONVOY_INVALID_ARGUMENT', message: expect.stringContaining(typo) });
      for (const key of ['vfs.path', 'vfs.shared', 'vfs.defaultvolumesize', ...DEVMAPPER_OPTION_KEYS])
        expect((err as { hint: string }).hint).toContain(key);
    }
  });

  it("accepts Convoy's dm.thinpoolblocksize as dm.blocksize", () => {
    expect(optionsFromDriverOpts('/r', { 'dm.thinpoolblocksize': '4096' }).blockSize).toBe(
      optionsFromDriverOpts('/r', { 'dm.blocksize': '4096' }).blockSize,
    );
    expect(() => createDriver('devicemapper', { root: os.tmpdir(), options: { 'dm.thinpoolblocksize': '4096' } })).not.toThrow();
  });

  it("accepts Convoy's vfs.defaultvolumesize and reports it (a directory has no size to enforce); refuses one that is not a size", async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-registry-'));
    try {
      const d = createDriver('vfs', { root: base, options: { 'vfs.path': path.join(base, 'v'), 'vfs.defaultvolumesize': '10G' } });
      await d.start();
      expect(await d.info()).toMatchObject({ defaultVolumeSize: 10 * 2 ** 30 });
      expect(() => make({ 'vfs.defaultvolumesize': 'big' })).toThrow(expect.objectContaining({ code: 'CONVOY_INVALID_ARGUMENT' }));
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  });
});
