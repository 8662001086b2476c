/** Removes credentials from a URL before it is logged or printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    for (const k of [...u.searchParams.keys()]) {
      if (SECRET_KEY.test(k)) u.searchParams.set(k, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*:[^/@\s]*@/, '//***@');
  }
}

// Field and parameter names whose values are secrets. Plain `key` is not one: object keys are not secret.
const SECRET_KEY = /secret|password|passphrase|token|credential|signature|api_?key|private_?key|encryption_?key/i;

/** Deep copy of a plain value with every secret-looking field replaced by '***'. */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (depth > 16 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') ? '***' : redact(v, depth + 1);
  }
  return out;
}
