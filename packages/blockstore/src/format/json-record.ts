import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import type { z } from 'zod';
import type { BlockstoreError } from '../errors.js';

/**
 * Reads a JSON record another host may have written and validates it with its schema: absent is
 * `undefined`, anything unparsable or off-schema is the error `corrupt` makes (naming the key),
 * never "absent".
 */
export async function readRecord<T>(
  store: ObjectStore,
  key: string,
  schema: z.ZodType<T>,
  corrupt: (key: string, reason: string) => BlockstoreError,
  signal?: AbortSignal,
): Promise<T | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key, signal === undefined ? {} : { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt(key, 'not valid JSON');
  }
  const r = schema.safeParse(v);
  if (!r.success) throw corrupt(key, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}
