import { exitCodeFor, usageError } from '@convoy/cli-kit';
import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';

describe('exit codes', () => {
  it('maps usage codes to exit 2, damaged stored data to 3, and the rest to 1', () => {
    expect(exitCodeFor(usageError('x'))).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_STORE_URL_INVALID', 'x'))).toBe(2);
    expect(exitCodeFor(new ConvoyError('CONVOY_BLOCK_MISSING', 'x'))).toBe(3);
    expect(exitCodeFor(new ConvoyError('CONVOY_STORE_LOCKED', 'x'))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});
