import { Writable } from 'node:stream';
import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { describeError, Output } from './output.js';

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
    new Output({ ...h, isTTY: false, env: {} }, { program: 'convoy-backup', json: false, quiet: false }).error({
      code: 'X',
      message: 'it broke',
      hint: 'fix it',
    });
    expect(h.err()).toBe('convoy-backup: it broke\nhint: fix it\n');
    expect(h.out()).toBe('');
    const j = io();
    new Output({ ...j, isTTY: false, env: {} }, { program: 'convoy-backup', json: true, quiet: false }).error({
      code: 'X',
      message: 'it broke',
    });
    expect(JSON.parse(j.out())).toEqual({ error: { code: 'X', message: 'it broke' } });
    expect(j.err()).toBe('');
  });

  it('drops notes with --quiet and --json, keeps results', () => {
    const h = io();
    const out = new Output({ ...h, isTTY: false, env: {} }, { program: 'convoy-backup', json: false, quiet: true });
    out.info('note');
    out.result({ a: 1 }, () => ['human']);
    expect(h.err()).toBe('');
    expect(h.out()).toBe('human\n');
  });

  it('without quiet (convoy has no --quiet): notes on stderr, dropped only by --json', () => {
    const h = io();
    new Output({ ...h, isTTY: false, env: {} }, { program: 'convoy', json: false }).info('note');
    expect(h.err()).toBe('note\n');
    const j = io();
    const out = new Output({ ...j, isTTY: false, env: {} }, { program: 'convoy', json: true });
    out.info('note');
    out.result({ a: 1 }, () => ['human']);
    expect(j.err()).toBe('');
    expect(j.out()).toBe('{"a":1}\n');
  });
});

describe('describeError', () => {
  it('keeps code and hint of a ConvoyError and redacts credentials in quoted URLs', () => {
    const r = describeError(
      new ConvoyError('CONVOY_OBJECTSTORE_FAILED', 'cannot reach https://user:hunter2@host/x', { hint: 'see s3://AK:SK@b/p' }),
      'convoy-backup',
    );
    expect(r.code).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(r.message).not.toContain('hunter2');
    expect(r.hint).not.toContain(':SK@');
  });
  it('uses a Node error code, else CONVOY_INTERNAL with a hint', () => {
    expect(describeError(Object.assign(new Error('gone'), { code: 'ENOENT' }), 'convoy-backup')).toEqual({
      code: 'ENOENT',
      message: 'gone',
    });
    expect(describeError(new TypeError('oops'), 'convoy-backup')).toMatchObject({
      code: 'CONVOY_INTERNAL',
      hint: expect.stringContaining('bug'),
    });
  });
  it('names the program in the hint of an internal error', () => {
    expect(describeError(new TypeError('oops'), 'convoy').hint).toBe('this is a bug in convoy; please report it with the command you ran');
  });
});
