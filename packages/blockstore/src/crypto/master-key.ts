// The store's master key and the key files that hold it wrapped by passphrases (docs/format.md,
// "Encryption"). The master key never changes: adding, removing or changing a passphrase rewrites
// only a key file, never any data.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { BlockstoreError } from '../errors.js';

export interface MasterKey {
  /** Seals object bodies (through a per-object key). */
  readonly encKey: Buffer;
  /** Keys the block ids (HMAC-SHA256). */
  readonly idKey: Buffer;
}

/** scrypt's cost parameters. N = 2^15, r = 8: 32 MiB and about 0.1 s per try (restic's order). */
export interface KdfParams {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_KDF: Readonly<KdfParams> = Object.freeze({ algorithm: 'scrypt', N: 32768, r: 8, p: 1 });

export const kdfSchema = z.object({
  algorithm: z.literal('scrypt'),
  N: z
    .number()
    .int()
    .min(1024)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
});

export const keyFileSchema = z.object({
  format: z.literal('convoy-key'),
  version: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  created: z.string(),
  host: z.string().max(255),
  user: z.string().max(255),
  kdf: kdfSchema.extend({ salt: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) }),
  nonce: z.string().regex(/^[A-Za-z0-9+/]{16}$/),
  data: z.string().regex(/^[A-Za-z0-9+/]{107}=$/),
});

export type KeyFile = z.infer<typeof keyFileSchema>;

const MASTER_BYTES = 64;

export function newMasterKey(): MasterKey {
  const raw = randomBytes(MASTER_BYTES);
  return { encKey: raw.subarray(0, 32), idKey: raw.subarray(32) };
}

/** A check value in the header, so a key file of another store (or a forged one) is told apart from the right key. */
export function keyCheck(m: MasterKey): string {
  return createHmac('sha256', m.idKey).update('convoy-key-check-v1').digest('hex').slice(0, 32);
}

function derive(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  const options: ScryptOptions = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(passphrase.normalize('NFC'), salt, 32, options, (err, key) => (err === null ? resolve(key) : reject(err))),
  );
}

const wrapAad = (id: string): Buffer => Buffer.from(`convoy-key-v1:${id}`);

/** A new key file: the master key wrapped by a key derived from the passphrase. */
export async function wrapMasterKey(m: MasterKey, passphrase: string, kdf: KdfParams, now: Date): Promise<KeyFile> {
  const id = randomBytes(8).toString('hex');
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', await derive(passphrase, salt, kdf), nonce);
  c.setAAD(wrapAad(id));
  const sealed = Buffer.concat([c.update(Buffer.concat([m.encKey, m.idKey])), c.final(), c.getAuthTag()]);
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container's uid): leave it empty
  }
  return {
    format: 'convoy-key',
    version: 1,
    id,
    created: now.toISOString(),
    host: hostname().slice(0, 255),
    user: user.slice(0, 255),
    kdf: { algorithm: 'scrypt', N: kdf.N, r: kdf.r, p: kdf.p, salt: salt.toString('base64') },
    nonce: nonce.toString('base64'),
    data: sealed.toString('base64'),
  };
}

/** The master key, or undefined when the passphrase is not this key file's. */
export async function unwrapMasterKey(k: KeyFile, passphrase: string): Promise<MasterKey | undefined> {
  const kek = await derive(passphrase, Buffer.from(k.kdf.salt, 'base64'), k.kdf);
  const sealed = Buffer.from(k.data, 'base64');
  const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(k.nonce, 'base64'));
  d.setAAD(wrapAad(k.id));
  d.setAuthTag(sealed.subarray(MASTER_BYTES));
  try {
    const raw = Buffer.concat([d.update(sealed.subarray(0, MASTER_BYTES)), d.final()]);
    return { encKey: raw.subarray(0, 32), idKey: raw.subarray(32) };
  } catch {
    return undefined;
  }
}

export function parseKeyFile(key: string, v: unknown): KeyFile {
  const r = keyFileSchema.safeParse(v);
  if (!r.success) {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `key file ${key} is invalid: ${r.error.issues[0]?.message ?? 'bad schema'}`, {
      hint: 'the key file is damaged; open the store with another passphrase and remove this key (`convoy-backup key remove`)',
      details: { key },
    });
  }
  return r.data;
}
