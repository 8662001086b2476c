// The `encryption` section of an encrypted store's header (docs/format.md, "Encryption").
import { z } from 'zod';
import { BlockstoreError } from '../errors.js';
import { DEFAULT_SEGMENT_SIZE } from './envelope.js';
import { DEFAULT_KDF, kdfSchema, type KdfParams } from './master-key.js';

/** The block-id algorithm of an encrypted store: HMAC-SHA256 under the store's id key. */
export const ENCRYPTED_BLOCK_ID = 'hmac-sha256';

export interface EncryptionParams {
  algorithm: 'aes-256-gcm';
  /** Bytes of body per sealed segment. */
  segmentSize: number;
  /** HMAC of a constant under the id key: tells the right master key from any other. */
  keyCheck: string;
  /** What new key files are derived with (each key file keeps its own parameters). */
  kdf: KdfParams;
}

const schema = z.object({
  algorithm: z.literal('aes-256-gcm'),
  segmentSize: z
    .number()
    .int()
    .min(4096)
    .max(16 * 1024 * 1024),
  keyCheck: z.string().regex(/^[0-9a-f]{32}$/),
  kdf: kdfSchema,
});

export function parseEncryption(where: string, v: unknown): EncryptionParams {
  const r = schema.safeParse(v);
  if (!r.success) {
    throw new BlockstoreError('CONVOY_FORMAT_UNSUPPORTED', `${where} names an encryption this program does not know`, {
      hint: 'the store was written by a newer or different program, or its header is damaged',
      details: { problem: r.error.issues[0]?.message },
    });
  }
  return r.data;
}

export function encryptionParams(keyCheck: string, kdf: KdfParams = DEFAULT_KDF): EncryptionParams {
  return { algorithm: 'aes-256-gcm', segmentSize: DEFAULT_SEGMENT_SIZE, keyCheck, kdf: { ...kdf } };
}
