import { Writable } from 'node:stream';
import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { describeError, Output } from './output.js';
import { exitCodeFor, usageError } from './errors.js';

function io(): { stdout: Writable; stderr: Writable; out: () => string; err: () => string } {
  const text = { out: '', err: '' };
  const mk = (k: 'out' | 'err'): Writable =>
    new Writable({
      write(chunk: Buffer, _e, done) {
        text[k] += chunk.toString();
        done();
      },
    });
  return { stdout: mk('out'), stderr: mk('err'), out: () => text.out, err: () => text.err };
}

describe('Output', () => {
  it('prints errors as convoy-backup: + hint: on stderr, or one JSON line on stdout', () => {
    const h = io();
    new Output({ ...h, isTTY: false, env: {} }, { json: false, quiet: false }).error({ code: 'X', message: 'it broke', hint: 'fix it' });
    expect(h.err()).toBe('convoy-backup: it broke\nhint: fix it\n');
    expect(h.out()).toBe('');
    const j = io();
    new Output({ ...j, isTTY: false, env: {} }, { json: true, quiet: false }).error({ code: 'X', message: 'it broke' });
    expect(JSON.parse(j.out())).toEqual({ error: { code: 'X', message: 'it broke' } });
    expect(j.err()).toBe('');
  });

  it('drops notes with --quiet and --json, keeps results', () => {
    const h = io();
    const out = new Output({ ...h, isTTY: false, env: {} }, { json: false, quiet: true });
    out.info('note');
    out.result({ a: 1 }, () => ['human']);
    expect(h.err()).toBe('');
    expect(h.out()).toBe('human\n');
  });
});

describe('describeError', () => {
  it('keeps code and hint of a ConvoyError and redacts credentials in quoted URLs', () => {
    const r = describeError(new ConvoyError('CONVOY_X', 'cannot reach https://user:hunter2@host/x', { hint: 'see s3://AK:SK@b/p' }));
    expect(r.code).toBe('CONVOY_X');
    expect(r.message).not.toContain('hunter2');
    expect(r.hint).not.toContain(':SK@');
  });
  it('uses a Node error code, else CONVOY_INTERNAL with a hint', () => {
    expect(describeError(Object.assign(new Error('gone'), { code: 'ENOENT' }))).toEqual({ code: 'ENOENT', message: 'gone' });
    expect(describeError(new TypeError('oops'))).toMatchObject({ code: 'CONVOY_INTERNAL', hint: expect.stringContaining('bug') });
  });
  it('maps usage-type codes to exit 2 and the rest to 1', () => {
    expect(exitCodeFor(usageError('x'))).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_STORE_URL_INVALID', 'x'))).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_BLOCK_MISSING', 'x'))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});
