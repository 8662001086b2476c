import { ObjectNotFoundError } from './errors.js';
import type { ObjectStore } from './types.js';

/** What readJsonRecord needs of a schema: zod's `safeParse`. */
export interface RecordSchema<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/**
 * Reads a JSON record another host may have written, through its schema: absent is `undefined`;
 * anything unparsable, off-schema or refused by `check` is the error `corrupt` makes of the
 * reason (naming the record), never "absent" — a corrupt lease must not read as no lease.
 */
export async function readJsonRecord<T>(
  store: ObjectStore,
  key: string,
  schema: RecordSchema<T>,
  corrupt: (reason: string) => Error,
  options: { signal?: AbortSignal | undefined; check?: (record: T) => string | undefined } = {},
): Promise<T | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key, { signal: options.signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = parseJsonBytes(bytes);
  } catch {
    throw corrupt('not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw corrupt(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'record'}: ${i.message}`).join('; '));
  const wrong = options.check?.(parsed.data);
  if (wrong !== undefined) throw corrupt(wrong);
  return parsed.data;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON from a record's bytes, refusing bytes that are not UTF-8: decoded leniently, damage inside a
 * string value (0xff bytes, a torn multi-byte character) would become U+FFFD and still parse, so a
 * damaged record would be read as a valid one. Throws (a TypeError or SyntaxError) on either.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  return JSON.parse(UTF8.decode(bytes));
}
