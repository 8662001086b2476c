import { describe, expect, it } from 'vitest';
import { execQuiet, execText } from './exec.js';

describe('execText', () => {
  it('returns stdout, with no shell between', async () => {
    expect(await execText('printf', ['%s|', 'a b', '$(x)'])).toBe('a b|$(x)|');
  });
  it('fails with the command, how it ended and the tail of stderr', async () => {
    await expect(execText('sh', ['-c', 'echo one >&2; echo two >&2; exit 3'])).rejects.toMatchObject({
      code: 'CONVOY_COMMAND_FAILED',
      message: expect.stringMatching(/^sh -c .* failed \(exit 3\): one \| two$/),
    });
  });
  it('names the Debian package of a missing program', async () => {
    await expect(execText('mkfs.convoy-none', [])).rejects.toMatchObject({ code: 'CONVOY_TOOL_MISSING', hint: 'install mkfs.convoy-none' });
  });
  it('refuses more output than allowed', async () => {
    await expect(execText('head', ['-c', '5000', '/dev/zero'], { maxOutput: 1000 })).rejects.toMatchObject({
      code: 'CONVOY_COMMAND_FAILED',
      message: expect.stringContaining('more than 1000 bytes'),
    });
  });
  it('runs in cwd, and stops on abort', async () => {
    expect(await execText('pwd', [], { cwd: '/' })).toBe('/\n');
    const ac = new AbortController();
    const run = execQuiet('sleep', ['30'], { signal: ac.signal });
    ac.abort();
    await expect(run).rejects.toMatchObject({ code: 'CONVOY_COMMAND_FAILED' });
  });
});
