// Scheduled backups (schedules.ts): kill -9 of convoy-daemon at a seeded step of a scheduled run
// (a run missed while it was down, run at its start), then a restart: the missed run runs once,
// no snapshot is left, the policy is not stuck, every backup restores and verify is clean.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { noting } from './campaign-home.js';
import { assertCliBuilt } from './convoy.js';
import { runConfig } from './config.js';
import { assertDaemonBuilt } from './daemon-process.js';
import { Rng } from './prng.js';
import { SchedulesCampaign } from './schedules.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('schedules');
let campaign: SchedulesCampaign;
let dir: string;
let failed = false;
const fail = (): void => {
  failed = true;
};

describe(`scheduled backups killed mid-run (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    assertCliBuilt();
    assertDaemonBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-rel-schedules-'));
    campaign = new SchedulesCampaign(dir, config.size, config.resultsFile);
    await campaign.setup(rng.fork('setup'));
  });
  afterAll(async () => {
    await campaign?.close();
    if (!failed) await fs.rm(dir, { recursive: true, force: true }); // kept for a look when a trial failed
  });
  for (let n = 1; n <= config.size.schedules.trials; n++) {
    it(
      `schedules #${n}: kill -9 of the daemon mid scheduled run, restart: the missed run runs once, nothing left over, nothing lost`,
      noting(fail, () => campaign.trial(n, rng.fork(`trial-${n}`))),
    );
  }
  it(
    'schedules: after every trial, every kept backup restores bit-exact, verify is clean, unschedule works',
    noting(fail, () => campaign.final()),
  );
});
