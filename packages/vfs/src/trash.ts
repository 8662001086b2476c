// <base>/trash/host-<host id>: where this host deletes directories (renamed in first, so a name is
// free at once and a killed delete is finished at the next start) and makes temporary copies.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** trash/<prefix><host id>: one directory per host sharing the base path. */
const TRASH_PREFIX = 'host-';

export class Trash {
  /** This host's part of trash/. */
  readonly dir: string;
  readonly #all: string;

  constructor(basePath: string, hostId: string) {
    this.#all = path.join(basePath, 'trash');
    this.dir = path.join(this.#all, `${TRASH_PREFIX}${encodeURIComponent(hostId)}`);
  }

  /** Makes trash/ and this host's part of it. */
  async ensure(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o711 });
  }

  /**
   * At start: finishes the removals a crash interrupted, and drops temporary files, of this host
   * only: other hosts' are theirs, maybe in use right now (a restore's archive, a snapshot being
   * copied). Entries directly under trash/ are from releases before per-host trash: removed as before.
   */
  async empty(): Promise<void> {
    for (const e of await fs.readdir(this.#all)) {
      if (!e.startsWith(TRASH_PREFIX)) await fs.rm(path.join(this.#all, e), { recursive: true, force: true });
    }
    for (const e of await fs.readdir(this.dir)) await fs.rm(path.join(this.dir, e), { recursive: true, force: true });
  }

  /** Renames a directory into this host's trash (instant, so the name is free at once), then deletes it. */
  async discard(dir: string): Promise<void> {
    const trash = path.join(this.dir, `${path.basename(dir)}-${randomUUID()}`);
    try {
      await fs.rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fs.rm(trash, { recursive: true, force: true });
  }
}
