import { exitCodeFor, usageError } from '@convoy/cli-kit';
import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { PROGRAM } from './program.js';

describe('exit codes', () => {
  it('maps usage-type codes to exit 2 and the rest to 1', () => {
    expect(exitCodeFor(usageError('x'), PROGRAM)).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_STORE_URL_INVALID', 'x'), PROGRAM)).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_BLOCK_MISSING', 'x'), PROGRAM)).toBe(1);
    expect(exitCodeFor(new Error('x'), PROGRAM)).toBe(1);
  });
});
