/** Keys of key=value options (`--label`, `--opt`, `--driver-opts`, Docker's `-o`). */
export const OPTION_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\/-]{0,127}$/;

export const OPTION_KEY_RULE = '1-128 characters of A-Z a-z 0-9 _ . / - starting with a letter or digit';

/** Why a key=value list was refused: the pair, and whether it is malformed or repeats a key. */
export interface PairProblem {
  pair: string;
  kind: 'malformed' | 'duplicate';
  key: string;
}

/**
 * The one key=value grammar: `k=v` → { k: v }. The value may hold "=" or be empty; the key follows
 * OPTION_KEY; a key may be given once. A bad pair calls `fail`, which throws the caller's own error
 * (a usage error in a CLI, a config error in the daemon).
 */
export function parseKeyValues(pairs: readonly string[], fail: (problem: PairProblem) => never): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !OPTION_KEY.test(key)) fail({ pair, kind: 'malformed', key });
    if (Object.hasOwn(out, key)) fail({ pair, kind: 'duplicate', key });
    out[key] = pair.slice(eq + 1);
  }
  return out;
}
