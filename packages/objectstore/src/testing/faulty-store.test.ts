import { describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { FaultyObjectStore, type StoreOp } from './faulty-store.js';
import { Gate } from './gate.js';
import { MemoryObjectStore } from './memory-store.js';
import type { CleanupStaleOptions, ObjectStore } from '../types.js';

/** Whether a promise has settled once every pending microtask has run (no I/O is involved here). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('FaultyObjectStore', () => {
  it('counts calls, written keys and bytes', async () => {
    const f = new FaultyObjectStore(new MemoryObjectStore());
    await f.put('a', Buffer.from('12345'));
    await f.get('a');
    await f.stat('b');
    expect(f.calls).toMatchObject({ put: 1, get: 1, stat: 1 });
    expect(f.putKeys).toEqual(['a']);
    expect(f.bytesPut).toBe(5);
  });

  it('fails exactly the nth matching call with "error", before anything is written', async () => {
    const inner = new MemoryObjectStore();
    const f = new FaultyObjectStore(inner, [{ op: 'put', kind: 'error', nth: 2, key: /^blocks\// }]);
    await f.put('blocks/1', Buffer.from('1'));
    await f.put('meta', Buffer.from('m'));
    await expect(f.put('blocks/2', Buffer.from('2'))).rejects.toThrow(/injected error/);
    expect(await inner.stat('blocks/2')).toBeUndefined();
    await f.put('blocks/3', Buffer.from('3'));
    expect(await inner.stat('blocks/3')).toBeDefined();
  });

  it('"lost-ack" applies the write and still reports failure', async () => {
    const inner = new MemoryObjectStore();
    const f = new FaultyObjectStore(inner, [{ op: 'put', kind: 'lost-ack', nth: 1 }]);
    const err = await f.put('k', Buffer.from('v')).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('CONVOY_TEST_INJECTED_FAULT');
    expect((await inner.get('k')).toString()).toBe('v');
  });

  it('"drop" acknowledges a put or a delete and does nothing (a lying server)', async () => {
    const inner = new MemoryObjectStore();
    await inner.put('old', Buffer.from('o'));
    const f = new FaultyObjectStore(inner, [
      { op: 'put', kind: 'drop', nth: 1 },
      { op: 'delete', kind: 'drop', nth: 1 },
    ]);
    await f.put('k', Buffer.from('v'));
    await f.delete(['old']);
    expect(await inner.stat('k')).toBeUndefined();
    expect(await inner.stat('old')).toBeDefined();
    expect(f.putKeys).toEqual([]);
    await f.put('k', Buffer.from('v'));
    expect((await inner.get('k')).toString()).toBe('v');
  });

  it('"tear" leaves half an object behind on put and returns half on get', async () => {
    const inner = new MemoryObjectStore();
    const f = new FaultyObjectStore(inner, [
      { op: 'put', kind: 'tear', nth: 1 },
      { op: 'get', kind: 'tear', nth: 1 },
    ]);
    await expect(f.put('k', Buffer.from('abcdefgh'))).rejects.toThrow();
    expect((await inner.get('k')).toString()).toBe('abcd');
    await inner.put('k', Buffer.from('abcdefgh'));
    expect((await f.get('k')).toString()).toBe('abcd');
    expect((await f.get('k')).toString()).toBe('abcdefgh');
  });

  it('"corrupt" flips a byte of what get returns and leaves the stored object alone', async () => {
    const inner = new MemoryObjectStore();
    await inner.put('k', Buffer.from('abcdefgh'));
    const f = new FaultyObjectStore(inner, [{ op: 'get', kind: 'corrupt', times: 1 }]);
    expect((await f.get('k')).equals(Buffer.from('abcdefgh'))).toBe(false);
    expect((await f.get('k')).toString()).toBe('abcdefgh');
  });

  it('"delay" slows a call down without failing it, and custom errors are thrown as given', async () => {
    const f = new FaultyObjectStore(new MemoryObjectStore(), [
      { op: 'stat', kind: 'delay', delayMs: 20 },
      { op: 'get', kind: 'error', error: () => Object.assign(new Error('boom'), { code: 'ECONNRESET' }) },
    ]);
    expect(await f.stat('x')).toBeUndefined();
    const err = await f.get('x').catch((e: unknown) => e);
    expect(errorCode(err)).toBe('ECONNRESET');
  });

  it('a list that loses its connection mid-way fails after yielding a partial listing', async () => {
    const inner = new MemoryObjectStore();
    await Promise.all(['a/1', 'a/2', 'a/3'].map((k) => inner.put(k, Buffer.from('x'))));
    const f = new FaultyObjectStore(inner, [{ op: 'list', kind: 'lost-ack', nth: 1 }]);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const o of f.list('a/')) seen.push(o.key);
      })(),
    ).rejects.toThrow(/injected/);
    expect(seen.length).toBe(1);
  });

  describe('"pause"', () => {
    it('holds a put at the store until its gate opens, then really writes it', async () => {
      const inner = new MemoryObjectStore();
      const gate = new Gate();
      const paused: [StoreOp, string][] = [];
      const f = new FaultyObjectStore(inner, [
        { op: 'put', kind: 'pause', gate: () => gate.wait(), onPause: (op, key) => paused.push([op, key]) },
      ]);
      const put = f.put('locks/l1', Buffer.from('mine'));
      await gate.reached;
      expect(paused).toEqual([['put', 'locks/l1']]);
      expect(await inner.stat('locks/l1')).toBeUndefined();
      expect(await settled(put)).toBe(false);
      expect(f.putKeys).toEqual([]);
      gate.open();
      await put;
      expect((await inner.get('locks/l1')).toString()).toBe('mine');
      expect(f.putKeys).toEqual(['locks/l1']);
    });

    it('lets other operations through while one call is held', async () => {
      const inner = new MemoryObjectStore();
      await inner.put('other', Buffer.from('o'));
      const gate = new Gate();
      const f = new FaultyObjectStore(inner, [{ op: 'put', kind: 'pause', key: /^slow$/, gate: () => gate.wait() }]);
      const slow = f.put('slow', Buffer.from('s'));
      await gate.reached;
      await f.put('fast', Buffer.from('f'));
      expect((await f.get('other')).toString()).toBe('o');
      expect(await f.stat('fast')).toMatchObject({ size: 1 });
      await f.delete(['other']);
      const listed: string[] = [];
      for await (const o of f.list('')) listed.push(o.key);
      expect(listed).toEqual(['fast']);
      expect(await inner.stat('slow')).toBeUndefined();
      gate.open();
      await slow;
      expect(await inner.stat('slow')).toBeDefined();
    });

    it('holds only the nth matching call, as many times as told, and only keys that match', async () => {
      const inner = new MemoryObjectStore();
      const gate = new Gate();
      const held: string[] = [];
      const f = new FaultyObjectStore(inner, [
        { op: 'put', kind: 'pause', key: /^blocks\//, nth: 2, times: 2, gate: () => gate.wait(), onPause: (_op, key) => held.push(key) },
      ]);
      await f.put('blocks/1', Buffer.from('1')); // 1st match: not yet
      await f.put('meta', Buffer.from('m')); // no match
      const second = f.put('blocks/2', Buffer.from('2')); // 2nd match: held
      const third = f.put('blocks/3', Buffer.from('3')); // 3rd match: held (times: 2)
      await gate.whenReached(2);
      await f.put('blocks/4', Buffer.from('4')); // spent
      expect(held).toEqual(['blocks/2', 'blocks/3']);
      expect(gate.waiting).toBe(2);
      expect([await inner.stat('blocks/2'), await inner.stat('blocks/3')]).toEqual([undefined, undefined]);
      expect(await inner.stat('blocks/4')).toBeDefined();
      gate.open();
      await Promise.all([second, third]);
      expect(f.putKeys.sort()).toEqual(['blocks/1', 'blocks/2', 'blocks/3', 'blocks/4', 'meta']);
    });

    it('holds a list before its first entry, and a delete before any key is removed', async () => {
      const inner = new MemoryObjectStore();
      await inner.put('a/1', Buffer.from('x'));
      const listGate = new Gate();
      const deleteGate = new Gate();
      const f = new FaultyObjectStore(inner, [
        { op: 'list', kind: 'pause', key: /^a\/$/, gate: () => listGate.wait() },
        { op: 'delete', kind: 'pause', gate: () => deleteGate.wait() },
      ]);
      const listing = (async () => {
        const keys: string[] = [];
        for await (const o of f.list('a/')) keys.push(o.key);
        return keys;
      })();
      await listGate.reached;
      await inner.put('a/2', Buffer.from('y')); // written while the list is held: the list sees it
      listGate.open();
      expect((await listing).sort()).toEqual(['a/1', 'a/2']);
      const del = f.delete(['a/1']);
      await deleteGate.reached;
      expect(await inner.stat('a/1')).toBeDefined();
      deleteGate.open();
      await del;
      expect(await inner.stat('a/1')).toBeUndefined();
    });

    it('a gate that rejects fails the call before it reaches the store', async () => {
      const inner = new MemoryObjectStore();
      const f = new FaultyObjectStore(inner, [{ op: 'put', kind: 'pause', gate: () => Promise.reject(new Error('test gave up')) }]);
      await expect(f.put('k', Buffer.from('v'))).rejects.toThrow('test gave up');
      expect(await inner.stat('k')).toBeUndefined();
    });
  });

  describe('cleanupStale', () => {
    it('delegates to the inner store when it has cleanupStale, and is absent when it has not', async () => {
      const seen: CleanupStaleOptions[] = [];
      const inner = Object.assign(new MemoryObjectStore(), {
        cleanupStale: async (o: CleanupStaleOptions) => {
          seen.push(o);
          return { removed: 2, bytes: 10 };
        },
      });
      const olderThan = new Date('2024-01-01T00:00:00Z');
      expect(await new FaultyObjectStore(inner).cleanupStale?.({ olderThan })).toEqual({ removed: 2, bytes: 10 });
      expect(seen).toEqual([{ olderThan }]);
      const m = new MemoryObjectStore();
      const bare: ObjectStore = {
        location: 'bare',
        get: (k, o) => m.get(k, o),
        put: (k, b, o) => m.put(k, b, o),
        stat: (k) => m.stat(k),
        list: (p, o) => m.list(p, o),
        delete: (k, o) => m.delete(k, o),
        close: () => m.close(),
      };
      expect(new FaultyObjectStore(bare).cleanupStale).toBeUndefined();
    });
  });
});

describe('Gate', () => {
  it('holds every waiter until open, resolves reached at the first, and lets later callers straight through', async () => {
    const gate = new Gate();
    expect(await settled(gate.reached)).toBe(false);
    const a = gate.wait();
    expect(await settled(gate.reached)).toBe(true);
    const b = gate.wait();
    await gate.whenReached(2);
    expect(gate.waiting).toBe(2);
    expect([await settled(a), await settled(b)]).toEqual([false, false]);
    gate.open();
    await Promise.all([a, b]);
    expect(gate.waiting).toBe(0);
    expect(gate.isOpen).toBe(true);
    await gate.wait();
    await gate.whenReached(3);
  });
});
