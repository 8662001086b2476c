import { describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { FaultyObjectStore } from './faulty-store.js';
import { MemoryObjectStore } from './memory-store.js';

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

  it('"tear" leaves half an object behind on put and returns half on get', async () => {
    const inner = new MemoryObjectStore();
    const f = new FaultyObjectStore(inner, [{ op: 'put', kind: 'tear', nth: 1 }, { op: 'get', kind: 'tear', nth: 1 }]);
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
});
