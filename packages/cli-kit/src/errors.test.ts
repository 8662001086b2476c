import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, InterruptedError, exitCodeFor, usageError } from './errors.js';

describe('exitCodeFor', () => {
  const invalid = { isUsageCode: (code: string) => /INVALID/.test(code) };
  it('2 for CONVOY_USAGE and the codes the CLI names, 1 for the rest and for non-Convoy errors', () => {
    expect(exitCodeFor(usageError('x'), { isUsageCode: () => false })).toBe(EXIT.usage);
    expect(exitCodeFor(new ConvoyError('CONVOY_SIZE_INVALID', 'x'), invalid)).toBe(EXIT.usage);
    expect(exitCodeFor(new ConvoyError('CONVOY_NOT_FOUND', 'x'), invalid)).toBe(EXIT.failed);
    expect(exitCodeFor(Object.assign(new Error('x'), { code: 'EINVALID' }), invalid)).toBe(EXIT.failed);
  });
});

describe('InterruptedError', () => {
  it('says what was interrupted, in the words of the CLI, and keeps signal and exit code', () => {
    const err = new InterruptedError('SIGTERM', 143, { message: 'nothing was written', hint: 'run it again' });
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'CONVOY_ABORTED', message: 'interrupted by SIGTERM; nothing was written', hint: 'run it again', signal: 'SIGTERM', exitCode: 143 });
  });
});
