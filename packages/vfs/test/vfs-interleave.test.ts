// Two hosts on one base path, with another host's steps run at an exact point of this host's
// create or delete (a wrapper around the metadata store: InterleavingStore). These are the
// interleavings the shared-vfs campaign of tools/reliability hit with two daemons: a create that
// finished over a newer volume's record, and a delete that removed a newer volume's record.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectInfo, ObjectStore, PutBody, PutOptions } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { VfsDriver } from '../src/index.js';

/**
 * Runs `between` once, at the `nth` call touching `key`: after a read (get) has returned, or
 * before a write (put, delete) — that is, between this host's read and its next write.
 */
class InterleavingStore implements ObjectStore {
  readonly location: string;
  readonly #inner: ObjectStore;
  #calls = 0;
  #armed: { key: string; nth: number; between: () => Promise<void> } | undefined;
  fired = false;

  constructor(inner: ObjectStore) {
    this.#inner = inner;
    this.location = inner.location;
  }

  arm(key: string, nth: number, between: () => Promise<void>): void {
    this.#armed = { key, nth, between };
    this.#calls = 0;
  }

  async #maybe(keys: readonly string[]): Promise<void> {
    const a = this.#armed;
    if (a === undefined || !keys.includes(a.key) || ++this.#calls !== a.nth) return;
    this.#armed = undefined;
    this.fired = true;
    await a.between();
  }

  async get(key: string): Promise<Buffer> {
    const b = await this.#inner.get(key);
    await this.#maybe([key]);
    return b;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<void> {
    await this.#maybe([key]);
    return this.#inner.put(key, body, options);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.#maybe(keys);
    return this.#inner.delete(keys);
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.#inner.stat(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.#inner.list(prefix);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

let base: string;
let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-interleave-'));
  base = path.join(tmp, 'shared');
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function hosts(): Promise<{ a: VfsDriver; b: VfsDriver; meta: InterleavingStore }> {
  let meta: InterleavingStore | undefined;
  const a = new VfsDriver({ basePath: base, hostId: 'h1', wrapMeta: (s) => (meta = new InterleavingStore(s)) });
  await a.start();
  const b = new VfsDriver({ basePath: base, hostId: 'h2' });
  await b.start();
  if (meta === undefined) throw new Error('wrapMeta was not called');
  return { a, b, meta };
}

const req = (name: string) => ({ name, uuid: randomUUID(), options: {} });
const recordOf = async (name: string): Promise<{ uuid: string }> =>
  JSON.parse(await fs.readFile(path.join(base, 'meta', 'volumes', `${name}.json`), 'utf8')) as { uuid: string };

describe('two hosts on one base path, steps interleaved', () => {
  it("a create whose volume another host deleted and created again before it finished never overwrites the new volume's record", async () => {
    const { a, b, meta } = await hosts();
    let theirs: string | undefined;
    // h1's create: 1st touch of the record claims the name, the 2nd finishes it; h2 gets in between
    meta.arm('volumes/v.json', 2, async () => {
      await b.remove('v').catch(() => undefined); // (no record to delete while h1 holds it to swap)
      theirs = (await b.create(req('v'))).uuid;
    });
    const err = await rejectionOf(a.create(req('v')));
    expect(meta.fired).toBe(true);
    expect(err.code).toBe('CONVOY_VOLUME_DELETED');
    expect((await recordOf('v')).uuid).toBe(theirs);
    expect(await fs.readdir(path.join(base, 'data'))).toEqual([theirs]);
    expect((await b.get('v'))?.state).toBeUndefined();
  });

  it("a delete whose volume another host deleted and created again meanwhile leaves the new volume's record, leases and data alone", async () => {
    const { a, b, meta } = await hosts();
    await a.create(req('v'));
    let theirs: string | undefined;
    // h1's delete reads the record (1st touch); h2 deletes the volume and creates a new one, and mounts it
    meta.arm('volumes/v.json', 1, async () => {
      await b.remove('v');
      theirs = (await b.create(req('v'))).uuid;
      await b.mount('v');
    });
    const err = await rejectionOf(a.remove('v', { force: true }));
    expect(meta.fired).toBe(true);
    expect(err.code).toBe('CONVOY_VOLUME_DELETED');
    expect((await recordOf('v')).uuid).toBe(theirs);
    expect(await fs.readdir(path.join(base, 'data'))).toEqual([theirs]);
    expect((await b.leases('v')).map((l) => [l.host, l.uuid])).toEqual([['h2', theirs]]);
  });
});
