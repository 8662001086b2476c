// The chunking parameters. Chunk boundaries — and so deduplication between backups — depend on
// every field here, so a store records them in its header and every writer of the store uses them.
import { ConvoyError } from '@convoy/errors';
import { z } from 'zod';

/** FastCDC parameters, as stored in the store header (`chunker`). */
export interface ChunkerParams {
  /** FastCDC (Xia et al., 2016) with a 32-bit gear hash, normalized chunking with two masks. */
  algorithm: 'fastcdc-gear32';
  /** The gear table is derived from this string (see gearTable); a new seed means new boundaries. */
  seed: string;
  /** No chunk but a file's last is this short or shorter: its bytes are not even hashed. */
  minSize: number;
  /** The "normal size": below it the strict mask applies, above it the loose one. */
  avgSize: number;
  /** A chunk is cut here when no content boundary came first. */
  maxSize: number;
  /** Normalization level: the strict mask has log2(avgSize) + level bits, the loose one − level. */
  normalization: number;
}

/** 512 KiB / 1 MiB / 8 MiB, normalization level 2 (the FastCDC paper's recommendation). */
export const DEFAULT_CHUNKER_PARAMS: Readonly<ChunkerParams> = Object.freeze({
  algorithm: 'fastcdc-gear32',
  seed: 'convoy-fastcdc-gear32-v1',
  minSize: 512 * 1024,
  avgSize: 1024 * 1024,
  maxSize: 8 * 1024 * 1024,
  normalization: 2,
});

const powerOfTwo = z
  .number()
  .int()
  .min(64)
  .max(2 ** 30)
  .refine((n) => (n & (n - 1)) === 0, 'must be a power of two');

export const chunkerParamsSchema = z
  .object({
    algorithm: z.literal('fastcdc-gear32'),
    seed: z.string().min(1).max(256),
    minSize: z
      .number()
      .int()
      .min(1)
      .max(2 ** 30),
    avgSize: powerOfTwo,
    maxSize: z
      .number()
      .int()
      .min(2)
      .max(2 ** 30),
    normalization: z.number().int().min(0).max(4),
  })
  .refine((p) => p.minSize < p.avgSize && p.avgSize <= p.maxSize, 'needs minSize < avgSize <= maxSize')
  .refine((p) => Math.log2(p.avgSize) + p.normalization <= 31, 'the strict mask must fit in 31 bits');

/** Validates parameters read from a store header (or given by a caller). */
export function parseChunkerParams(value: unknown, where = 'chunker parameters'): ChunkerParams {
  const r = chunkerParamsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ConvoyError('CONVOY_FORMAT_UNSUPPORTED', `${where} are invalid${at}: ${issue?.message ?? 'unknown'}`, {
      hint: 'the store header names a chunker this program does not support, or was damaged; use a matching convoy release',
      details: { value },
    });
  }
  return Object.freeze(r.data); // frozen: scanConfig caches the search configuration per object
}

/** A mask of the `bits` highest bits of a 32-bit hash (the high bits mix the most bytes). */
export function topBitsMask(bits: number): number {
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) | 0;
}
