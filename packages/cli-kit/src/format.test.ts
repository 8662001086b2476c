import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatTable, formatTime } from './format.js';

describe('format', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(7 * 1024 * 1024 + 123)).toBe('7.0 MiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3.0 TiB');
  });
  it('formats durations', () => {
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('-');
  });
  it('formats times and tables', () => {
    expect(formatTime('2026-11-24T17:00:00.123Z')).toBe('2026-11-24 17:00:00Z');
    expect(
      formatTable(
        ['A', 'LONG'],
        [
          ['xyz', '1'],
          ['', '22'],
        ],
      ),
    ).toEqual(['A    LONG', 'xyz  1', '     22']);
  });
});
