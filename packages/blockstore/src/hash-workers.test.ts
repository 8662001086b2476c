import { createHash, createHmac, randomBytes } from 'node:crypto';
import { markAsUntransferable } from 'node:worker_threads';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { scanBlock } from './block-scan.js';
import { hmacIds, SHA256, type BlockIdFunction } from './format/block-id.js';
import { HashWorkers } from './hash-workers.js';

const pool = new HashWorkers(2);
afterAll(() => pool.close());

/** A frame that owns its memory: `head` bytes of room, then `body`. */
function frameOf(body: Buffer, head = 12): Buffer {
  const f = Buffer.allocUnsafeSlow(head + body.length);
  f.fill(0xee, 0, head);
  body.copy(f, head);
  return f;
}

describe('HashWorkers', () => {
  it('hashes a range on a thread (SHA-256 or HMAC), returns the memory unchanged and detaches the sender', async () => {
    const body = randomBytes(300_000);
    const key = randomBytes(32);
    for (const k of [undefined, key]) {
      const f = frameOf(body);
      const before = Buffer.from(f);
      const r = await pool.scan({ frame: f.buffer as ArrayBuffer, offset: 12, length: body.length, key: k, zeroCheck: true });
      expect(f.byteLength).toBe(0); // transferred, not copied
      expect(Buffer.from(r.frame).equals(before)).toBe(true);
      expect(r.zero).toBe(false);
      const want = (k === undefined ? createHash('sha256') : createHmac('sha256', k)).update(body).digest();
      expect(r.id?.equals(want)).toBe(true);
    }
  });

  it('reports a zero range without an id, and a single non-zero byte anywhere as data', async () => {
    const zeros = Buffer.alloc(200_000);
    const r = await pool.scan({ frame: frameOf(zeros).buffer as ArrayBuffer, offset: 12, length: zeros.length, zeroCheck: true });
    expect(r).toMatchObject({ zero: true, id: undefined });
    for (const at of [0, 65_535, 65_536, 199_999]) {
      const z = Buffer.alloc(200_000);
      z[at] = 1;
      const s = await pool.scan({ frame: frameOf(z).buffer as ArrayBuffer, offset: 12, length: z.length, zeroCheck: true });
      expect(s.zero).toBe(false);
      expect(s.id?.equals(createHash('sha256').update(z).digest())).toBe(true);
    }
    // the header's non-zero bytes are outside the range: only the range counts
    const tail = await pool.scan({ frame: frameOf(Buffer.alloc(10)).buffer as ArrayBuffer, offset: 12, length: 10, zeroCheck: true });
    expect(tail.zero).toBe(true);
  });

  it('answers many scans in flight on both threads, each with its own block', async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(50_000 + i));
    const results = await Promise.all(
      bodies.map((b) => pool.scan({ frame: frameOf(b, 0).buffer as ArrayBuffer, offset: 0, length: b.length, zeroCheck: false })),
    );
    results.forEach((r, i) => {
      expect(
        r.id?.equals(
          createHash('sha256')
            .update(bodies[i] as Buffer)
            .digest(),
        ),
      ).toBe(true);
      expect(Buffer.from(r.frame).equals(bodies[i] as Buffer)).toBe(true);
    });
  });

  it('compresses a range in place with zstd, and leaves data it cannot shrink as it was', async () => {
    const text = Buffer.from('2026-12-03 07:50 backup ok volume=vol-7\n'.repeat(50_000));
    const f = frameOf(text);
    const r = await pool.compress({ frame: f.buffer as ArrayBuffer, offset: 12, length: text.length });
    expect(f.byteLength).toBe(0); // transferred, not copied
    const back = Buffer.from(r.frame);
    expect(back.subarray(0, 12).equals(Buffer.alloc(12, 0xee))).toBe(true); // the header's room untouched
    expect(r.size).toBeGreaterThan(0);
    expect(r.size).toBeLessThan(text.length / 20);
    expect(zstdDecompressSync(back.subarray(12, 12 + (r.size ?? 0))).equals(text)).toBe(true);
    // random data: the probe finds it incompressible; a small random range is tried whole and does not shrink
    for (const random of [randomBytes(2 * 1024 * 1024), randomBytes(1000)]) {
      const g = frameOf(random);
      const before = Buffer.from(g);
      const q = await pool.compress({ frame: g.buffer as ArrayBuffer, offset: 12, length: random.length });
      expect(q.size).toBeUndefined();
      expect(Buffer.from(q.frame).equals(before)).toBe(true);
    }
  });

  it('scans and compresses on `size` threads, decodes on `decodeSize`', async () => {
    const own = new HashWorkers(1, 2);
    const body = randomBytes(300_000);
    const scans = Array.from({ length: 6 }, () =>
      own.scan({ frame: frameOf(body).buffer as ArrayBuffer, offset: 12, length: body.length, zeroCheck: false }),
    );
    await Promise.all(scans);
    expect(own.threads).toBe(1);
    const text = Buffer.from('decoded on two threads\n'.repeat(20_000));
    const payload = zstdCompressSync(text);
    const decodes = await Promise.all(
      Array.from({ length: 6 }, () =>
        own.decode({ frame: frameOf(payload).buffer as ArrayBuffer, offset: 12, length: payload.length, expected: text.length }),
      ),
    );
    expect(own.threads).toBe(2);
    for (const d of decodes) {
      expect('data' in d && d.data.equals(text)).toBe(true);
      expect('id' in d && d.id.equals(createHash('sha256').update(text).digest())).toBe(true);
    }
    await own.close();
    expect(own.threads).toBe(0);
  });

  it('keeps the memory of a thread bounded over many blocks (its garbage is collected as it goes)', async () => {
    const own = new HashWorkers(1);
    const text = Buffer.from('a line of a log that compresses well, 0123456789\n'.repeat(40_000));
    // each encode allocates ≥ 128 KiB of output chunks that die at once: 600 make ~100 MiB of garbage,
    // more than V8's 64 MiB of external memory before it collects on its own
    for (let i = 0; i < 600; i++) await own.compress({ frame: frameOf(text).buffer as ArrayBuffer, offset: 12, length: text.length });
    const usage = await own.threadMemory();
    expect(usage.external).toBeLessThan(24 * 1024 * 1024);
    await own.close();
  });

  it('fails the jobs of a stopped thread, and the next scan starts a new one', async () => {
    const own = new HashWorkers(1);
    const b = randomBytes(4 * 1024 * 1024);
    const inFlight = own.scan({ frame: frameOf(b).buffer as ArrayBuffer, offset: 12, length: b.length, zeroCheck: false });
    await own.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'CONVOY_INTERNAL', message: expect.stringMatching(/block thread/) });
    const again = await own.scan({ frame: frameOf(b).buffer as ArrayBuffer, offset: 12, length: b.length, zeroCheck: false });
    expect(again.id?.equals(createHash('sha256').update(b).digest())).toBe(true);
    await own.close();
  });
});

describe('scanBlock', () => {
  const body = randomBytes(100_000);
  const key = randomBytes(32);

  it('gives the id each id function defines, on a thread when the memory may travel', async () => {
    for (const ids of [SHA256, hmacIds(key)]) {
      const f = frameOf(body);
      const r = await scanBlock(ids, f.subarray(12), { zeroCheck: true, transfer: true });
      expect(f.byteLength).toBe(0); // went to a thread
      expect(r.id?.equals(ids.digest(body))).toBe(true);
      expect(r.data.equals(body)).toBe(true);
      expect(r.data.byteOffset).toBe(12);
    }
  });

  it('hashes on the calling thread memory it may not send, memory that cannot travel, small blocks, and ids of its own', async () => {
    const big = frameOf(body);
    const r = await scanBlock(SHA256, big.subarray(12), { zeroCheck: true, transfer: false });
    expect(big.byteLength).toBe(body.length + 12); // never transferred
    expect(r.id?.equals(SHA256.digest(body))).toBe(true);
    // Node's small-Buffer pool cannot be transferred; neither can a small block's memory be worth it
    const pooled = Buffer.from('a small block');
    expect((await scanBlock(SHA256, pooled, { zeroCheck: false, transfer: true })).id?.equals(SHA256.digest(pooled))).toBe(true);
    expect(pooled.toString()).toBe('a small block');
    // memory that cannot travel (a native library's external buffer) is refused by postMessage: done here, still intact
    const external = Buffer.from(body);
    markAsUntransferable(external.buffer);
    const e = await scanBlock(SHA256, external, { zeroCheck: false, transfer: true });
    expect(e.id?.equals(SHA256.digest(body))).toBe(true);
    expect(e.data.equals(body)).toBe(true);
    expect(external.length).toBe(body.length); // tried, refused, not detached
    const custom: BlockIdFunction = {
      algorithm: 'x',
      digest: (d) => createHash('sha1').update(d).digest(),
      digestAsync: async () => Buffer.alloc(0),
    };
    const f = frameOf(body);
    const c = await scanBlock(custom, f, { zeroCheck: true, transfer: true });
    expect(f.byteLength).toBe(body.length + 12);
    expect(c.id?.equals(createHash('sha1').update(f).digest())).toBe(true);
    expect((await scanBlock(custom, Buffer.alloc(64), { zeroCheck: true, transfer: true })).zero).toBe(true);
  });
});
