import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-file.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-atomic-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates and then replaces the file with its mode, leaving no temporary file', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, '{"v":1}\n');
    await writeFileAtomic(file, '{"v":2}\n', 0o644);
    expect(await fs.readFile(file, 'utf8')).toBe('{"v":2}\n');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o644);
    expect(await fs.readdir(dir)).toEqual(['a.json']);
  });

  it('a rename that fails (the target is a directory) keeps the old content and removes the temporary file', async () => {
    const target = path.join(dir, 'sub');
    await fs.mkdir(path.join(target, 'keep'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
    expect((await fs.readdir(dir)).sort()).toEqual(['a.json', 'sub']);
  });
});
