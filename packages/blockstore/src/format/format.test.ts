import { describe, expect, it } from 'vitest';
import { parseExtents } from '../source.js';
import { formatBackupUrl, parseBackupUrl } from '../url.js';
import { BlockMap } from './block-map.js';
import { BLOCK_HEADER, decodeBlock, encodeBlock, encodeFramedBlock } from './block-object.js';
import { hmacIds, SHA256 } from './block-id.js';
import { parseHeader } from './header.js';
import { parseManifest } from './manifest.js';
import { idTime, newBackupId } from './names.js';
import { validateVolumeName } from '@convoy/rules';

describe('names and ids', () => {
  it('backup ids sort by time and stay strictly increasing after a given id', () => {
    const t = new Date('2026-11-24T17:00:00.123Z');
    const a = newBackupId(t);
    expect(a).toMatch(/^20261124T170000123Z-[0-9a-f]{6}$/);
    expect(idTime(a)).toBe(t.getTime());
    const b = newBackupId(t, a); // same millisecond
    const c = newBackupId(new Date(t.getTime() - 60_000), b); // clock went back
    expect(b > a && c > b).toBe(true);
  });
  it.each(['', '.hidden', '../x', 'a/b', 'a\0b', 'x'.repeat(129), 'ü'])('rejects volume name %j', (n) => {
    expect(() => validateVolumeName(n)).toThrow(/invalid volume name/);
  });
});

describe('block maps', () => {
  it('sorts entries, finds them, and refuses duplicates', () => {
    const b = BlockMap.builder();
    b.add(5, 10, Buffer.alloc(32, 5));
    b.add(1, 10, Buffer.alloc(32, 1));
    const m = b.build();
    expect([...m.entries()].map((e) => e.index)).toEqual([1, 5]);
    expect(m.find(5)).toBe(1);
    expect(m.find(3)).toBe(-1);
    const d = BlockMap.builder();
    d.add(1, 1, Buffer.alloc(32));
    d.add(1, 1, Buffer.alloc(32));
    expect(() => d.build()).toThrow(/duplicate/);
  });
  it('rejects damaged encodings', async () => {
    await expect(BlockMap.decode('k', Buffer.from('nope'))).rejects.toMatchObject({ code: 'CONVOY_MANIFEST_INVALID' });
    const good = await BlockMap.builder().build().encode();
    const wrongCount = Buffer.from(good);
    wrongCount.writeUInt32LE(3, 8);
    await expect(BlockMap.decode('k', wrongCount)).rejects.toMatchObject({ code: 'CONVOY_MANIFEST_INVALID' });
  });
});

describe('block objects', () => {
  it.each(['none', 'gzip', 'zstd', 'lz4'] as const)('round-trip with %s and are verified', async (codec) => {
    const raw = Buffer.from('hello block '.repeat(1000));
    const id = SHA256.digest(raw).toString('hex');
    const obj = await encodeBlock(codec, raw);
    expect((await decodeBlock('k', id, obj, SHA256)).equals(raw)).toBe(true);
    await expect(decodeBlock('k', '00'.repeat(32), obj, SHA256)).rejects.toMatchObject({ code: 'CONVOY_BLOCK_CORRUPT' });
    await expect(decodeBlock('k', id, obj.subarray(0, obj.length - 3), SHA256)).rejects.toMatchObject({ code: 'CONVOY_BLOCK_CORRUPT' });
  });
});

describe('zstd block objects', () => {
  it('decode into a buffer that can go to a hashing thread, and one whose header understates its length is corrupt', async () => {
    const text = Buffer.from('log line 42 ok\n'.repeat((2 * 1024 * 1024) / 16));
    const obj = await encodeBlock('zstd', text);
    expect(obj[4]).toBe(2);
    const raw = await decodeBlock('k', SHA256.digest(text).toString('hex'), obj, SHA256);
    expect(raw.equals(text)).toBe(true);
    const { MessageChannel } = await import('node:worker_threads');
    const { port1 } = new MessageChannel();
    expect(() => port1.postMessage(raw.buffer, [raw.buffer as ArrayBuffer])).not.toThrow();
    port1.close();
    const lying = Buffer.from(obj);
    lying.writeUInt32LE(1000, 8); // decodes to 2 MiB, claims 1000 bytes: refused at 1000, not allocated
    await expect(decodeBlock('blocks/x', '00'.repeat(32), lying, SHA256)).rejects.toMatchObject({
      code: 'CONVOY_BLOCK_CORRUPT',
      message: expect.stringContaining('blocks/x'),
    });
    const huge = Buffer.from(obj);
    huge.writeUInt32LE(0xffffffff, 8); // claims 4 GiB: decodes what is there, then the length check fails
    await expect(decodeBlock('k', SHA256.digest(text).toString('hex'), huge, SHA256)).rejects.toMatchObject({
      code: 'CONVOY_BLOCK_CORRUPT',
    });
  });

  it('decode on a block thread when the caller owns the memory: the same checks, the same errors', async () => {
    const text = Buffer.from('log line 43 ok\n'.repeat((2 * 1024 * 1024) / 16));
    const hex = SHA256.digest(text).toString('hex');
    const obj = await encodeBlock('zstd', text);
    const owned = (b: Buffer): Buffer => Buffer.from(Uint8Array.prototype.slice.call(b).buffer); // all of its own memory
    const sent = owned(obj);
    const raw = await decodeBlock('k', hex, sent, SHA256, true);
    expect(sent.length).toBe(0); // went to the thread for good
    expect(raw.equals(text)).toBe(true);
    const hmacKey = Buffer.alloc(32, 7);
    const hmac = hmacIds(hmacKey);
    expect((await decodeBlock('k', hmac.digest(text).toString('hex'), owned(obj), hmac, true)).equals(text)).toBe(true);
    const cases: [string, Buffer, string, RegExp][] = [];
    const lying = owned(obj);
    lying.writeUInt32LE(1000, 8);
    cases.push(['understated length', lying, hex, /cannot decompress \(zstd\)/]);
    const over = owned(obj);
    over.writeUInt32LE(text.length + 5, 8);
    cases.push(['overstated length', over, hex, new RegExp(`length ${text.length}, expected ${text.length + 5}`)]);
    const garbage = owned(obj);
    garbage.fill(0x5a, 12, 200);
    cases.push(['damaged payload', garbage, hex, /cannot decompress \(zstd\)/]);
    cases.push(['another id', owned(obj), '11'.repeat(32), /does not match its id/]);
    for (const [why, bytes, id, message] of cases) {
      await expect(decodeBlock('blocks/y', id, bytes, SHA256, true), why).rejects.toMatchObject({
        code: 'CONVOY_BLOCK_CORRUPT',
        message: expect.stringMatching(message),
      });
    }
  });
});

describe('framed block objects', () => {
  it('are the same bytes as encodeBlock, zstd ones encoded in the frame on a block thread, others framed in place or given their own buffer', async () => {
    const { randomBytes } = await import('node:crypto');
    const random = randomBytes(2 * 1024 * 1024);
    const text = Buffer.from('log line 42 ok\n'.repeat((2 * 1024 * 1024) / 16));
    // [codec, raw, whole: the frame is all of its memory (may travel), object in the frame's memory]
    const cases = [
      ['zstd', random, true, true],
      ['zstd', text, true, true],
      ['none', text, true, true],
      ['zstd', text, false, false], // a view of larger memory: copied into a frame of its own for the thread
      ['zstd', random, false, false],
      ['lz4', text.subarray(0, 5000), true, false],
    ] as const;
    for (const [codec, raw, whole, inFrame] of cases) {
      const memory = Buffer.alloc(BLOCK_HEADER + raw.length + (whole ? 0 : 100), 0xff); // dirty header room
      const frame = whole ? memory : memory.subarray(0, BLOCK_HEADER + raw.length);
      raw.copy(frame, BLOCK_HEADER);
      const frameLength = frame.length;
      const r = await encodeFramedBlock(codec, frame, raw.length);
      expect(r.object.equals(await encodeBlock(codec, raw))).toBe(true);
      expect(r.object.buffer === r.frame.buffer).toBe(inFrame);
      expect(r.frame.length).toBe(frameLength); // given back whole, as a new view when it travelled
      expect((await decodeBlock('k', SHA256.digest(raw).toString('hex'), r.object, SHA256)).equals(raw)).toBe(true);
    }
  });
});

describe('compressibility probe', () => {
  it('stores random 2 MiB blocks raw without compressing them, and compresses text', async () => {
    const random = (await import('node:crypto')).randomBytes(2 * 1024 * 1024);
    expect((await encodeBlock('zstd', random))[4]).toBe(0);
    const text = Buffer.from('log line 42 ok\n'.repeat((2 * 1024 * 1024) / 16));
    const obj = await encodeBlock('zstd', text);
    expect(obj[4]).toBe(2);
    expect(obj.length).toBeLessThan(text.length / 10);
    // half random, half text: the samples see both, so it is compressed
    const mixed = Buffer.concat([random.subarray(0, 1024 * 1024), text.subarray(0, 1024 * 1024)]);
    expect((await encodeBlock('zstd', mixed))[4]).toBe(2);
  });
});

describe('headers and manifests', () => {
  it('refuses other formats and versions', () => {
    expect(() => parseHeader(Buffer.from('{"format":"convoy-backupstore","version":3}'))).toThrow(/unsupported/);
    expect(() => parseHeader(Buffer.from('{"format":"restic"}'))).toThrow(/unsupported/);
    expect(() => parseHeader(Buffer.from('not json'))).toThrow(/not valid JSON/);
    expect(() =>
      parseHeader(
        Buffer.from('{"format":"convoy-backupstore","version":1,"blockSize":2097152,"blockId":{"algorithm":"blake3"},"created":"x"}'),
      ),
    ).not.toThrow();
  });
  it('a record damaged inside a string (bytes that are not UTF-8) is refused, not read with U+FFFD in it', () => {
    // what the reliability campaign did to a header on radosgw (seed 20261202, corruption s3 #6): 8 bytes of 0xff
    const header = Buffer.from(
      '{"format":"convoy-backupstore","version":1,"blockSize":2097152,"blockId":{"algorithm":"sha256"},"created":"2026-12-02T03:56:00.000Z"}',
    );
    expect(() => parseHeader(header)).not.toThrow();
    const at = header.indexOf('2026-12-02');
    header.fill(0xff, at, at + 8);
    expect(() => parseHeader(header)).toThrow(/convoy\.json is not valid JSON/);
    const manifest = Buffer.from(
      '{"format":"convoy-backup-manifest","version":1,"id":"20260101T000000000Z-000001","volume":"v","labels":{"a":"bbbb"}}',
    );
    manifest.fill(0xfe, manifest.indexOf('bbbb'), manifest.indexOf('bbbb') + 4);
    expect(() => parseManifest('volumes/v/backups/x.json', manifest)).toThrow(/volumes\/v\/backups\/x\.json/);
  });

  it('names the key and the field of an invalid manifest', () => {
    expect(() =>
      parseManifest(
        'volumes/v/backups/x.json',
        Buffer.from('{"format":"convoy-backup-manifest","version":1,"id":"20260101T000000000Z-000001","volume":"v"}'),
      ),
    ).toThrow(/volumes\/v\/backups\/x\.json is invalid: field "created"/);
  });
});

describe('backup URLs and change lists', () => {
  it('format and parse as Convoy printed them', () => {
    const url = formatBackupUrl('s3://bkt@us-east-1/p', 'vol1', '20260101T000000000Z-000001');
    expect(url).toBe('s3://bkt@us-east-1/p?backup=20260101T000000000Z-000001&volume=vol1');
    expect(parseBackupUrl(url)).toEqual({ storeUrl: 's3://bkt@us-east-1/p', volume: 'vol1', id: '20260101T000000000Z-000001' });
    expect(() => parseBackupUrl('vfs:///b')).toThrow(/is a store, not a backup/);
    expect(() => parseBackupUrl('vfs:///b?backup=x&volume=v')).toThrow(/invalid backup id/);
    expect(() => parseBackupUrl('vfs:///b?backup=20260101T000000000Z-000001&volume=../v')).toThrow(/invalid volume name/);
  });
  it('parses JSON and line formats, rejecting negatives', () => {
    expect(parseExtents('[[0, 10], [4096, 0], [8192, 5]]')).toEqual([
      { offset: 0, length: 10 },
      { offset: 8192, length: 5 },
    ]);
    expect(parseExtents('# changed\n0 10\n100,5\n')).toEqual([
      { offset: 0, length: 10 },
      { offset: 100, length: 5 },
    ]);
    expect(() => parseExtents('-1 5')).toThrow(/bad extent/);
  });
});
