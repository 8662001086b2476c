import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATEGORIES,
  ERROR_CODES,
  categoryOf,
  exitCodeOf,
  httpStatusOf,
  isErrorCode,
  renderErrorsDoc,
  ConvoyError,
  EXIT,
  foreignCode,
} from './index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** Every non-test TypeScript source of the workspace (packages, apps, tools), outside node_modules and dist. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !/\.test\.ts$/.test(e.name) && !p.includes('/test/')) out.push(p);
  }
  return out;
}

// Names that look like codes but are environment variables the programs read.
const ENVIRONMENT = new Set(['CONVOY_SOCKET', 'CONVOY_DAEMON_BIN', 'CONVOY_PASSWORD', 'CONVOY_NEW_PASSWORD', 'CONVOY_RELIABILITY_CLI']);

describe('the error-code registry', () => {
  const files = ['packages', 'apps', 'tools'].flatMap((d) => sources(join(ROOT, d)));
  const used = new Map<string, string>();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/['"`](CONVOY_[A-Z0-9_]+)['"`]/g)) {
      const code = m[1] as string;
      if (!ENVIRONMENT.has(code)) used.set(code, f.slice(ROOT.length));
    }
  }

  it('registers every code the sources raise or compare against', () => {
    expect(files.length).toBeGreaterThan(100);
    const unregistered = [...used].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`);
    expect(unregistered).toEqual([]);
  });

  it('registers no code that nothing uses', () => {
    expect(Object.keys(ERROR_CODES).filter((code) => !used.has(code))).toEqual([]);
  });

  it('gives each code a known category, a meaning and a hint', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(Object.keys(ERROR_CATEGORIES), code).toContain(spec.category);
      expect(spec.meaning, code).toMatch(/\.$/);
      expect(spec.hint ?? '', code).not.toBe('');
    }
  });

  it('maps categories to HTTP status and exit code, with no rule on the code name', () => {
    expect([httpStatusOf('CONVOY_MANIFEST_INVALID'), exitCodeOf(new ConvoyError('CONVOY_MANIFEST_INVALID', 'x'))]).toEqual([
      500,
      EXIT.corrupt,
    ]);
    expect([httpStatusOf('CONVOY_STATE_INVALID'), exitCodeOf(new ConvoyError('CONVOY_STATE_INVALID', 'x'))]).toEqual([500, EXIT.corrupt]);
    expect([httpStatusOf('CONVOY_RECORD_CORRUPT'), exitCodeOf(new ConvoyError('CONVOY_RECORD_CORRUPT', 'x'))]).toEqual([500, EXIT.corrupt]);
    expect([httpStatusOf('CONVOY_STORE_URL_INVALID'), exitCodeOf(new ConvoyError('CONVOY_STORE_URL_INVALID', 'x'))]).toEqual([
      400,
      EXIT.usage,
    ]);
    expect([httpStatusOf('CONVOY_VOLUME_NOT_FOUND'), exitCodeOf(new ConvoyError('CONVOY_VOLUME_NOT_FOUND', 'x'))]).toEqual([
      404,
      EXIT.failed,
    ]);
    expect([httpStatusOf('CONVOY_VOLUME_IN_USE'), exitCodeOf(new ConvoyError('CONVOY_VOLUME_IN_USE', 'x'))]).toEqual([409, EXIT.failed]);
    expect(httpStatusOf('CONVOY_REQUEST_TOO_LARGE')).toBe(413);
    expect(httpStatusOf('CONVOY_DAEMON_UNREACHABLE')).toBe(503);
    expect(categoryOf('CONVOY_SOMETHING_NEWER')).toBe('internal');
    expect(exitCodeOf(new ConvoyError(foreignCode('CONVOY_SOMETHING_NEWER'), 'x'))).toBe(EXIT.failed);
    expect(exitCodeOf(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(EXIT.failed);
  });

  it('fills in the default hint, and keeps a specific one', () => {
    expect(new ConvoyError('CONVOY_STORE_LOCKED', 'locked').hint).toBe(ERROR_CODES.CONVOY_STORE_LOCKED.hint);
    expect(new ConvoyError('CONVOY_STORE_LOCKED', 'locked', { hint: 'wait for host b' }).hint).toBe('wait for host b');
    expect(new ConvoyError(foreignCode('CONVOY_SOMETHING_NEWER'), 'x').hint).toBeUndefined();
  });

  it('is what docs/errors.md says (regenerate it with `npm run -s docs:errors`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });
});
