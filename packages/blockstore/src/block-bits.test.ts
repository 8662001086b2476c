import { describe, expect, it } from 'vitest';
import { isZero, releaseMemory } from './block-bits.js';

describe('releaseMemory', () => {
  it('frees memory the caller owns at once (every view of it is detached), and leaves pooled memory alone', () => {
    const own = Buffer.allocUnsafeSlow(2 * 1024 * 1024).fill(7);
    const view = own.subarray(100, 200);
    releaseMemory(own);
    expect(own.buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    const pooled = Buffer.from('from the small-Buffer pool');
    const neighbour = Buffer.from('another pooled buffer');
    releaseMemory(pooled); // Node's pool cannot be detached: nothing happens
    expect(pooled.toString()).toBe('from the small-Buffer pool');
    expect(neighbour.toString()).toBe('another pooled buffer');
  });

  it('isZero sees a single non-zero byte at any position', () => {
    expect(isZero(Buffer.alloc(200_000))).toBe(true);
    for (const at of [0, 65_535, 65_536, 199_999]) {
      const b = Buffer.alloc(200_000);
      b[at] = 1;
      expect(isZero(b)).toBe(false);
    }
  });
});
