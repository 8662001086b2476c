import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from './testing/index.js';
import { readJsonRecord } from './json-record.js';

const schema = z.object({ host: z.string(), n: z.number() });
const corrupt = (key: string) => (reason: string) => new Error(`${key} is corrupt: ${reason}`);

describe('readJsonRecord', () => {
  it('reads a record through its schema; absent is undefined', async () => {
    const store = new MemoryObjectStore();
    await store.put('r/a.json', Buffer.from('{"host":"h1","n":1}'));
    expect(await readJsonRecord(store, 'r/a.json', schema, corrupt('r/a.json'))).toEqual({ host: 'h1', n: 1 });
    expect(await readJsonRecord(store, 'r/none.json', schema, corrupt('r/none.json'))).toBeUndefined();
  });
  it('a record that is not JSON, off-schema or refused by check is corrupt, never absent', async () => {
    const store = new MemoryObjectStore();
    await store.put('bad', Buffer.from('{"host":'));
    await store.put('off', Buffer.from('{"host":1}'));
    await store.put('odd', Buffer.from('{"host":"h2","n":2}'));
    await expect(readJsonRecord(store, 'bad', schema, corrupt('bad'))).rejects.toThrow('bad is corrupt: not valid JSON');
    await expect(readJsonRecord(store, 'off', schema, corrupt('off'))).rejects.toThrow(/off is corrupt: host: .*; n: /);
    await expect(
      readJsonRecord(store, 'odd', schema, corrupt('odd'), { check: (r) => (r.host === 'h1' ? undefined : `names host ${r.host}`) }),
    ).rejects.toThrow('odd is corrupt: names host h2');
  });
});
