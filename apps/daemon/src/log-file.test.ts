// `convoy-daemon --log FILE` (Rancher Convoy's flag): the JSON log lines go to the file, created
// 0640, nothing to stderr; SIGHUP reopens it, so logrotate can move it away. A real process.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-log-file-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const read = (file: string): Promise<string> => fs.readFile(file, 'utf8').catch(() => '');

/** Resolves with what `probe` found once it finds something; the daemon is another process, so this polls (and gives up after a minute). */
async function until<T>(probe: () => Promise<T | undefined>, failure: () => Promise<string>): Promise<T> {
  for (let i = 0; i < 1200; i += 1) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(await failure());
}

/** Resolves once `file` holds `text`. */
const waitFor = (file: string, text: string): Promise<string> =>
  until(
    async () => {
      const body = await read(file);
      return body.includes(text) ? body : undefined;
    },
    async () => `${file} never held ${text}: ${await read(file)}`,
  );

/** Resolves once `file` exists. */
const waitForFile = (file: string): Promise<true> =>
  until(
    () =>
      fs.stat(file).then(
        () => true as const,
        () => undefined,
      ),
    () => Promise.resolve(`${file} was never made`),
  );

describe('convoy-daemon --log FILE', () => {
  it('logs into the file (0640, its directory made), not stderr; SIGHUP reopens it after logrotate moved it', async () => {
    const log = path.join(tmp, 'logs', 'convoy.log');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@convoy/source',
        '--import',
        './tools/source-resolve.ts',
        'apps/daemon/src/main.ts',
        ...['--root', path.join(tmp, 'root'), '-s', path.join(tmp, 'c.sock'), '--plugin-socket', 'none'],
        ...['--debug', '--log', log, '--cmd-timeout', '5m'],
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const first = await waitFor(log, '"msg":"convoy-daemon ready"');
      expect((await fs.stat(log)).mode & 0o777).toBe(0o640);
      const lines = first
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.find((l) => l.msg.startsWith('--cmd-timeout'))).toMatchObject({ level: 40 });
      // --debug: the debug level is on (the saved configuration says so too)
      const saved = JSON.parse(await fs.readFile(path.join(tmp, 'root', 'daemon-config.json'), 'utf8')) as { config: object };
      expect(saved.config).toMatchObject({ logLevel: 'debug', logFile: log, pluginSocket: 'none' });

      await fs.rename(log, `${log}.1`);
      child.kill('SIGHUP');
      // Signals sent back to back may be handled in either order (any of the process's threads can
      // take one), so SIGTERM waits until the reopen made the new file.
      await waitForFile(log);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await read(log)).toContain('"msg":"draining and stopping"');
      expect(await read(`${log}.1`)).not.toContain('draining and stopping');
      expect(output).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a log file that cannot be opened stops the start with exit 2 and says which', async () => {
    const file = path.join(tmp, 'not-a-dir');
    await fs.writeFile(file, '');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@convoy/source',
        '--import',
        './tools/source-resolve.ts',
        'apps/daemon/src/main.ts',
        ...['--root', path.join(tmp, 'root2'), '-s', path.join(tmp, 'c2.sock'), '--plugin-socket', 'none', '--log', `${file}/x.log`],
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot open the log file ${file}/x.log`);
    expect(stderr).toMatch(/^hint: /m);
  });
});
