// The code of a block thread (hash-workers.ts runs it): zero checks, ids, zstd encode and decode of
// blocks whose memory was transferred to it. Plain CommonJS in a string, evaluated by the Worker:
// it cannot import this package's modules, so it repeats block-bits.ts's zero check.
/** The largest output chunk a decode allocates up front (a block is 2 MiB; a header may lie). */
const MAX_DECODE_CHUNK = 8 * 1024 * 1024;

/**
 * The worker's code, run as CommonJS from a string: no file to find next to a bundle or a .ts source.
 * `scan`: zero check and id. `compress`: zstd, written back over the block in the same memory (and,
 * given the object headers, the header and the whole object's SHA-256).
 * `decode`: zstd decode and id. `memory`: process.memoryUsage() of the thread.
 */
export const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, createHmac } = require('node:crypto');
const zlib = require('node:zlib');
const ZERO = Buffer.alloc(64 * 1024);
function isZero(b) {
  for (let o = 0; o < b.length; o += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - o);
    if (!b.subarray(o, o + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}
// Memory is freed as soon as it is done with (release: its ArrayBuffer is transferred to nothing),
// not left to V8, which collects external memory only after 64 MiB of it has piled up since its
// last collection: per thread, that was most of a backup's peak RSS. Node's small-Buffer pool
// cannot be detached and is left as it is.
function release(buffer) {
  try {
    buffer.transfer(0);
  } catch {}
}
/**
 * zstd output in one chunk of its own (one byte longer than the input, so it is never filled and
 * no second chunk is made), or undefined when it would not be smaller than the input (codec.ts:
 * the same parameters).
 */
function zstd(input, level) {
  try {
    return zlib.zstdCompressSync(input, {
      chunkSize: Math.max(64, input.length + 1),
      maxOutputLength: input.length,
      pledgedSrcSize: input.length,
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
    });
  } catch (err) {
    if (err && err.code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw err;
  }
}
function compress(view, m) {
  if (view.length >= m.probeMin) {
    const step = Math.floor(view.length / m.probeSamples);
    const parts = [];
    for (let i = 0; i < m.probeSamples; i++) parts.push(view.subarray(i * step, i * step + m.probeBytes));
    const sample = Buffer.concat(parts);
    const probe = zstd(sample, m.level);
    const shrinks = probe !== undefined && probe.length < sample.length * m.probeRatio;
    release(sample.buffer);
    if (probe !== undefined) release(probe.buffer);
    if (!shrinks) return -1;
  }
  const out = zstd(view, m.level);
  if (out === undefined) return -1;
  const size = out.length < view.length ? out.length : -1;
  if (size > 0) out.copy(view, 0);
  release(out.buffer);
  return size;
}
function digest(view, key) {
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(view).digest();
}
/** zstd-decodes a block object's payload (no more than the header's length, codec.ts) and hashes it. */
function decode(m) {
  let raw;
  try {
    const chunkSize = Math.min(Math.max(1024, m.expected + 1), ${MAX_DECODE_CHUNK}); // one chunk that the output never fills
    raw = zlib.zstdDecompressSync(Buffer.from(m.frame, m.offset, m.length), { chunkSize, maxOutputLength: Math.max(1, m.expected) });
  } catch (err) {
    release(m.frame);
    parentPort.postMessage({ job: m.job, corrupt: String((err && err.message) || err) });
    return;
  }
  release(m.frame);
  const id = digest(raw, m.key);
  try {
    parentPort.postMessage({ job: m.job, frame: raw.buffer, offset: raw.byteOffset, length: raw.length, id }, [raw.buffer]);
  } catch {
    const own = new Uint8Array(raw); // a small output from Node's Buffer pool cannot travel
    parentPort.postMessage({ job: m.job, frame: own.buffer, offset: 0, length: own.length, id }, [own.buffer]);
  }
}
parentPort.on('message', (m) => {
  if (m.op === 'memory') {
    parentPort.postMessage({ job: m.job, memory: process.memoryUsage() });
    return;
  }
  try {
    const view = Buffer.from(m.frame, m.offset, m.length);
    if (m.op === 'decode') {
      decode(m);
      return;
    }
    if (m.op === 'compress') {
      const size = compress(view, m);
      let sha256;
      if (m.heads) {
        // the whole object as stored (header, then payload), for a store that signs its bodies
        const head = size < 0 ? m.heads.none : m.heads.compressed;
        const object = Buffer.from(m.frame, m.offset - head.length, head.length + (size < 0 ? m.length : size));
        object.set(head, 0); // a Uint8Array here (structured clone)
        sha256 = createHash('sha256').update(object).digest();
      }
      parentPort.postMessage({ job: m.job, frame: m.frame, size, sha256 }, [m.frame]);
      return;
    }
    const zero = m.zeroCheck && isZero(view);
    const id = zero ? null : digest(view, m.key);
    parentPort.postMessage({ job: m.job, frame: m.frame, zero, id }, [m.frame]);
  } catch (err) {
    parentPort.postMessage({ job: m.job, frame: m.frame, error: String(err && err.message || err) }, [m.frame]);
  }
});
`;
