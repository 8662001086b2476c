// Campaign 4, two daemons sharing one vfs base path (shared-vfs.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runConfig } from './config.js';
import { assertDaemonBuilt } from './daemon-process.js';
import { Rng } from './prng.js';
import { SharedVfsCampaign } from './shared-vfs.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('shared-vfs');
let campaign: SharedVfsCampaign;
let dir: string;
let failed = false;

const guard = async (body: () => Promise<void>): Promise<void> => {
  try {
    await body();
  } catch (err) {
    failed = true;
    throw err;
  }
};

describe(`two daemons on one vfs path (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    assertDaemonBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-rel-shared-'));
    campaign = new SharedVfsCampaign(dir, config.size, config.resultsFile);
    await campaign.setup();
  });
  afterAll(async () => {
    await campaign?.close();
    if (!failed) await fs.rm(dir, { recursive: true, force: true }); // kept for a look when a round failed
  });
  for (let n = 1; n <= config.size.sharedVfs.rounds; n++) {
    it(`shared-vfs round #${n}: create, delete, mount and unmount the same names from both daemons at once; nothing lost, no mounted volume deleted, no deadlock, both agree`, () =>
      guard(() => campaign.round(n, rng.fork(`round-${n}`))));
  }
  it('shared-vfs: both daemons restart and agree; the base path is consistent', () => guard(() => campaign.final()));
});
