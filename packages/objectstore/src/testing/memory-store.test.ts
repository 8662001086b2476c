import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from './memory-store.js';

describe('MemoryObjectStore', () => {
  it('stamps every put, overwrites included, with the injected clock, and stat and list report it', async () => {
    const clock = new Date('2024-03-01T10:00:00Z');
    const store = new MemoryObjectStore('clock', () => clock);
    await store.put('k', Buffer.from('first'));
    expect((await store.stat('k'))?.lastModified).toEqual(new Date('2024-03-01T10:00:00Z'));

    clock.setTime(Date.parse('2024-03-02T12:30:00Z')); // the clock advances its one Date in place
    await store.put('k', Buffer.from('second'));
    await store.put('other', Buffer.from('o'));
    expect((await store.stat('k'))?.lastModified).toEqual(new Date('2024-03-02T12:30:00Z'));
    const listed = new Map<string, Date | undefined>();
    for await (const o of store.list('')) listed.set(o.key, o.lastModified);
    expect(listed).toEqual(
      new Map([
        ['k', new Date('2024-03-02T12:30:00Z')],
        ['other', new Date('2024-03-02T12:30:00Z')],
      ]),
    );

    clock.setTime(Date.parse('2024-03-03T00:00:00Z'));
    await store.put('k', Buffer.from('refused'), { ifAbsent: true }).catch(() => undefined);
    expect((await store.stat('k'))?.lastModified).toEqual(new Date('2024-03-02T12:30:00Z')); // a refused put stamps nothing
  });
});
