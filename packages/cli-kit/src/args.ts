/** Command-line checks both CLIs make the same way (their failures are usage errors: exit 2). */
import { usageError } from './errors.js';

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.\/-]{0,127}$/;

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
 * `--label k=v` / `--opt k=v` (repeatable) → { k: v }. The value may hold "=" or be empty; a key is
 * 1-128 characters of A-Z a-z 0-9 _ . / - starting with a letter or digit. A malformed pair or a
 * key given twice is a usage error, worded by `wording`.
 */
export function parseKeyValues(pairs: readonly string[], wording: PairsWording): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      throw usageError(
        `invalid ${wording.noun} ${JSON.stringify(pair)}`,
        `write ${wording.syntax} key=value; keys are 1-128 characters of A-Z a-z 0-9 _ . / - starting with a letter or digit`,
      );
    }
    if (Object.hasOwn(out, key)) throw usageError(`${wording.noun} ${key} is given twice`, `give each ${wording.unique} once`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
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
