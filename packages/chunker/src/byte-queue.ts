/** A FIFO of byte pieces that hands out a prefix as one Buffer (copying only across pieces). */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.#pieces.push(piece);
    this.#length += piece.length;
  }

  /** Copies bytes [from, to) into a new buffer that owns its memory (transferable). */
  copyRange(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    let at = 0;
    let skip = from;
    for (const p of this.#pieces) {
      if (at === out.length) break;
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      const part = p.subarray(skip, Math.min(p.length, skip + out.length - at));
      out.set(part, at);
      at += part.length;
      skip = 0;
    }
    return out;
  }

  /** Calls fn on the pieces covering [from, to), as subarrays, in order. */
  forEachRange(from: number, to: number, fn: (piece: Uint8Array, start: number) => void): void {
    let base = 0;
    for (const p of this.#pieces) {
      const end = base + p.length;
      if (end > from && base < to) fn(p.subarray(Math.max(0, from - base), Math.min(p.length, to - base)), Math.max(base, from));
      base = end;
      if (base >= to) break;
    }
  }

  /** Removes and returns the first n bytes (a subarray when they lie in one piece). */
  take(n: number): Buffer {
    const first = this.#pieces[0];
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = Buffer.from(first.buffer, first.byteOffset, n);
      if (first.length === n) this.#pieces.shift();
      else this.#pieces[0] = first.subarray(n);
    } else {
      out = Buffer.from(this.copyRange(0, n).buffer);
      let left = n;
      while (left > 0) {
        const p = this.#pieces[0]!;
        if (p.length <= left) {
          left -= p.length;
          this.#pieces.shift();
        } else {
          this.#pieces[0] = p.subarray(left);
          left = 0;
        }
      }
    }
    this.#length -= n;
    return out;
  }
}
