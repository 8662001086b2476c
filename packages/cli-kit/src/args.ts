/** Command-line checks both CLIs make the same way (their failures are usage errors: exit 2). */
import { OPTION_KEY_RULE, parseKeyValues as parsePairs } from '@convoy/rules';
import { usageError } from './errors.js';

/** How a CLI names a repeatable key=value option in its messages. */
export interface PairsWording {
  /** The pairs' name in messages: "label" → `invalid label "x"`, `label k is given twice`. */
  noun: string;
  /** How to write one, before " key=value": "labels as --label" → `write labels as --label key=value; …`. */
  syntax: string;
  /** What must be unique: "label key" → `give each label key once`. */
  unique: string;
}

/**
 * `--label k=v` / `--opt k=v` (repeatable) → { k: v }, by the one key=value grammar of
 * @convoy/rules. A malformed pair or a key given twice is a usage error, worded by `wording`.
 */
export function parseKeyValues(pairs: readonly string[], wording: PairsWording): Record<string, string> {
  return parsePairs(pairs, ({ pair, kind, key }) => {
    if (kind === 'duplicate') throw usageError(`${wording.noun} ${key} is given twice`, `give each ${wording.unique} once`);
    throw usageError(`invalid ${wording.noun} ${JSON.stringify(pair)}`, `write ${wording.syntax} key=value; keys are ${OPTION_KEY_RULE}`);
  });
}

/**
 * A yargs .check(): an option that is not in `repeatable` must be given once (`--dest a --dest b`
 * is an error, not "b"). Aliases (one letter) and yargs' camel-case copies are not looked at.
 */
export function singleValues(repeatable: readonly string[]): (args: Readonly<Record<string, unknown>>) => true {
  return (args) => {
    for (const [name, value] of Object.entries(args)) {
      if (name !== '_' && !repeatable.includes(name) && name.length > 1 && !/[A-Z]/.test(name) && Array.isArray(value)) {
        throw new Error(`--${name} is given more than once`);
      }
    }
    return true;
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as people write it: `90s`, `30m`, `1h30m`, `24h`, `7d`, `500ms`, or `0` → milliseconds;
 * undefined for anything else (a bare number other than 0, a negative, an unknown unit), so each
 * caller words its own error.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  if (!/^(\d+(ms|s|m|h|d))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(n) * (DURATION_UNITS[unit as string] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
