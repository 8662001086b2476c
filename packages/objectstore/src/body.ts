import type { PutBody } from './types.js';

/** Collects a PutBody into one Buffer (for drivers and sizes where that is the right thing). */
export async function bodyToBuffer(body: PutBody): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return Buffer.concat(chunks);
}
