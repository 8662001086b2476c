// Campaign 5: kill -9 of convoy-daemon (vfs) mid-operation, then a restart (daemon-restart.ts),
// and corrupt records on the shared path across a restart (daemon-corrupt.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertCliBuilt } from './convoy.js';
import { runConfig } from './config.js';
import { CORRUPT_KINDS, corruptTrial } from './daemon-corrupt.js';
import { assertDaemonBuilt } from './daemon-process.js';
import { DaemonRestartCampaign, planDaemon, removeDir } from './daemon-restart.js';
import { Rng } from './prng.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('daemon');
let campaign: DaemonRestartCampaign;
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

describe(`daemon restarts (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    assertCliBuilt();
    assertDaemonBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-rel-daemon-'));
    campaign = new DaemonRestartCampaign(dir, config.size, config.resultsFile);
    await campaign.setup(rng.fork('setup'));
  });
  afterAll(async () => {
    await campaign?.close();
    if (!failed) await removeDir(dir); // kept for a look when a trial failed
  });
  for (const spec of planDaemon(rng.fork('plan'), config.size)) {
    it(`daemon #${spec.n}: kill -9 mid-${spec.op}, restart: consistent, nothing lost, the re-run succeeds`, () =>
      guard(() => campaign.trial(spec, rng.fork(`trial-${spec.n}`))));
  }
  let n = 0;
  for (let i = 0; i < config.size.daemon.corruptPerKind; i++) {
    for (const kind of CORRUPT_KINDS) {
      const k = ++n;
      it(`daemon corrupt #${k}: a ${kind} on the shared path, across a restart, is reported as corrupt naming the file and blocks delete`, () =>
        guard(() => corruptTrial(campaign, k, kind, rng.fork(`corrupt-${k}`))));
    }
  }
  it('daemon: after every trial, every completed backup restores bit-exact and verify is clean', () => guard(() => campaign.final()));
});
