import os from 'node:os';
import { describe, expect, it } from 'vitest';
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
});
