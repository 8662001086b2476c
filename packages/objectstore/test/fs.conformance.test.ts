import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { FsObjectStore } from '../src/index.js';
import { objectStoreConformance } from '../src/testing/index.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true })));
});

async function tempRoot(): Promise<string> {
  const r = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-fs-store-'));
  roots.push(r);
  return r;
}

objectStoreConformance('fs', {
  create: async () => new FsObjectStore(path.join(await tempRoot(), 'store')).open(),
  // the store directory vanished and a file took its place (an NFS mount gone, a wrong path)
  createBroken: async () => {
    const root = path.join(await tempRoot(), 'store');
    const store = await new FsObjectStore(root).open();
    await fs.rm(root, { recursive: true });
    await fs.writeFile(root, 'not a directory');
    return store;
  },
});
