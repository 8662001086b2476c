// Aborting a running command (what SIGINT does in main.ts) stops it before it commits anything:
// exit 130, no manifest, no lock left, the store verifies clean and the next backup works.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../src/errors.js';
import { cli, lastJson, listFiles, MiB, randomFile, sha256File, tempDir, type ErrorJson } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Aborts (as main.ts does on SIGINT) as soon as the first progress line is written. */
function abortOnFirstProgress(): { signal: AbortSignal; onStderr: (chunk: string) => void; fired: () => boolean } {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    onStderr: (chunk) => {
      if (!controller.signal.aborted && chunk.includes('"type":"progress"')) controller.abort(new InterruptedError('SIGINT', 130));
    },
    fired: () => controller.signal.aborted,
  };
}

describe('interrupting', () => {
  it('create: exit 130, nothing committed, lock released, store consistent', async () => {
    const storeDir = path.join(dir, 'store');
    const store = `vfs://${storeDir}`;
    const source = path.join(dir, 'big.img');
    await randomFile(source, 64 * MiB);

    const abort = abortOnFirstProgress();
    const run = await cli(['create', source, '--dest', store, '--volume', 'big', '--json'], abort);
    expect(abort.fired()).toBe(true);
    expect(run.code).toBe(130);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_ABORTED', message: expect.stringContaining('SIGINT') });

    const files = await listFiles(storeDir);
    expect(files.filter((f) => f.startsWith('locks/'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('volumes/'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('blocks/')).length).toBeLessThan(32); // stopped part-way

    expect(lastJson(await cli(['list', store, '--json']))).toEqual([]);
    const verify = await cli(['verify', store, '--json']);
    expect(verify.code).toBe(0);

    const again = await cli(['create', source, '--dest', store, '--volume', 'big', '--json']);
    expect(again.code, again.last).toBe(0);
    const target = path.join(dir, 'big.restored');
    expect((await cli(['restore', lastJson<{ url: string }>(again).url, target])).code).toBe(0);
    expect(await sha256File(target)).toBe(await sha256File(source));
  });

  it('restore: exit 130, no partial target, lock released', async () => {
    const storeDir = path.join(dir, 'store2');
    const source = path.join(dir, 'r.img');
    await randomFile(source, 40 * MiB);
    const created = await cli(['create', source, '--dest', `vfs://${storeDir}`, '--volume', 'r']);
    expect(created.code).toBe(0);

    const target = path.join(dir, 'r.restored');
    const abort = abortOnFirstProgress();
    const run = await cli(['restore', created.last, target, '--json'], abort);
    expect(run.code).toBe(130);
    await expect(fs.stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fs.readdir(dir)).filter((f) => f.includes('convoy-restore'))).toEqual([]); // temp file removed
    expect((await listFiles(storeDir)).filter((f) => f.startsWith('locks/'))).toEqual([]);
  });
});
