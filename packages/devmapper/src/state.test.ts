import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEVICE_ID, StateFile, allocateDeviceId, assignMissingUuids, emptyState, knownDeviceIds, parseState } from './state.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dm-state-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('driver state', () => {
  it('round-trips through an atomic file and leaves no temporary files', async () => {
    const f = new StateFile(dir);
    expect(await f.load()).toBeUndefined();
    const s = emptyState('pool', 2 * 1024 * 1024);
    const id = allocateDeviceId(s);
    s.volumes.v = {
      name: 'v',
      uuid: 'u-v',
      deviceId: id,
      size: 4096,
      fs: 'ext4',
      createdAt: 'now',
      formatted: false,
      snapshots: { s1: { name: 's1', uuid: 'u-s1', deviceId: 9, size: 4096, createdAt: 'now', backups: { 'vfs:///x': 'b1' } } },
    };
    s.pending.push({ op: 'snapshot', deviceId: 10, volume: 'v', snapshot: 's2', origin: id, started: 'now' });
    await f.save(s);
    await f.save(s);
    expect(await f.load()).toEqual(s);
    expect(await fs.readdir(dir)).toEqual(['state.json']);
    expect([...knownDeviceIds(s)].sort()).toEqual([1, 10, 9]);
  });

  it('names the file and the field of a malformed state', () => {
    expect(() => parseState('/r/state.json', '{')).toThrow(/state.json is invalid/);
    expect(() => parseState('/r/state.json', '{"format":"other"}')).toThrow(/not a convoy-devmapper-state/);
    const s = emptyState('p', 2097152) as unknown as Record<string, unknown>;
    expect(() => parseState('f', JSON.stringify({ ...s, version: 2 }))).toThrow(
      expect.objectContaining({ code: 'CONVOY_FORMAT_UNSUPPORTED' }),
    );
    expect(() => parseState('f', JSON.stringify({ ...s, volumes: { v: { name: 'v' } } }))).toThrow(/volumes\[v\]\.deviceId is malformed/);
    const vol = { name: 'v', deviceId: 1, size: 4096, fs: 'ext4', createdAt: 'x', formatted: true, snapshots: {} };
    const snap = { name: 's', deviceId: 2, size: 4096, createdAt: 'x', backups: { 'vfs:///b': 7 } };
    expect(() => parseState('f', JSON.stringify({ ...s, volumes: { v: { ...vol, snapshots: { s: snap } } } }))).toThrow(
      /volumes\[v\]\.snapshots\[s\]\.backups\[vfs:\/\/\/b\] is malformed/,
    );
    expect(() => parseState('f', JSON.stringify({ ...s, volumes: { v: { ...vol, deviceId: 2 ** 24 } } }))).toThrow(
      expect.objectContaining({ code: 'CONVOY_STATE_INVALID' }),
    );
    expect(parseState('f', JSON.stringify({ ...s, volumes: { v: vol } })).volumes.v?.fs).toBe('ext4');
    expect(() => parseState('f', JSON.stringify({ ...s, pending: [{ op: 'explode', deviceId: 1, volume: 'v', started: 'x' }] }))).toThrow(
      /unknown op explode/,
    );
  });

  it('allocates ids that no record or pending operation holds, wrapping at 2^24', () => {
    const s = emptyState('p', 2097152);
    s.nextDeviceId = MAX_DEVICE_ID;
    s.volumes.a = { name: 'a', uuid: 'u-a', deviceId: 1, size: 1, fs: 'ext4', createdAt: '', formatted: true, snapshots: {} };
    s.pending.push({ op: 'create', deviceId: 2, volume: 'b', started: '' });
    expect(allocateDeviceId(s)).toBe(MAX_DEVICE_ID);
    expect(allocateDeviceId(s)).toBe(3);
    expect(s.nextDeviceId).toBe(4);
  });

  it('gives records written before UUIDs (or by Rancher Convoy) one each, once', () => {
    const old = {
      ...emptyState('p', 2097152),
      volumes: {
        v: {
          name: 'v',
          deviceId: 1,
          size: 4096,
          fs: 'ext4',
          createdAt: '',
          formatted: true,
          snapshots: { s: { name: 's', deviceId: 2, size: 4096, createdAt: '', backups: {} } },
        },
      },
    };
    const s = parseState('f', JSON.stringify(old));
    expect(assignMissingUuids(s)).toBe(true);
    expect(s.volumes.v?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.volumes.v?.snapshots.s?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const kept = s.volumes.v?.uuid;
    expect(assignMissingUuids(s)).toBe(false);
    expect(s.volumes.v?.uuid).toBe(kept);
  });
});
