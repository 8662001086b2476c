import { ConvoyError, foreignCode } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, InterruptedError, exitCodeFor, usageError } from './errors.js';

describe('exitCodeFor', () => {
  it("follows the registry's categories: 2 usage, 3 corrupt, 130/143 interrupted, 1 for the rest and for non-Convoy errors", () => {
    expect(exitCodeFor(usageError('x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new ConvoyError('CONVOY_STORE_URL_INVALID', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new ConvoyError('CONVOY_MANIFEST_INVALID', 'x'))).toBe(EXIT.corrupt);
    expect(exitCodeFor(new ConvoyError('CONVOY_STATE_INVALID', 'x'))).toBe(EXIT.corrupt);
    expect(exitCodeFor(new ConvoyError('CONVOY_VOLUME_NOT_FOUND', 'x'))).toBe(EXIT.failed);
    expect(exitCodeFor(new InterruptedError('SIGTERM', 143, { message: 'm', hint: 'h' }))).toBe(143);
    expect(exitCodeFor(new ConvoyError(foreignCode('CONVOY_FROM_A_NEWER_DAEMON'), 'x'))).toBe(EXIT.failed);
    expect(exitCodeFor(Object.assign(new Error('x'), { code: 'EINVALID' }))).toBe(EXIT.failed);
  });
});

describe('InterruptedError', () => {
  it('says what was interrupted, in the words of the CLI, and keeps signal and exit code', () => {
    const err = new InterruptedError('SIGTERM', 143, { message: 'nothing was written', hint: 'run it again' });
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      code: 'CONVOY_ABORTED',
      message: 'interrupted by SIGTERM; nothing was written',
      hint: 'run it again',
      signal: 'SIGTERM',
      exitCode: 143,
    });
  });
});
