// What every campaign file sets up: the run's settings, a scratch directory, a bucket on the
// run's radosgw and a generator forked for the campaign.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertCliBuilt } from './convoy.js';
import { runConfig, type RunConfig } from './config.js';
import { Rng } from './prng.js';
import { StoreHome, s3FromEnv, type StoreTarget } from './stores.js';

export interface CampaignHome {
  config: RunConfig;
  dir: string;
  stores: StoreHome;
  rng: Rng;
  close(keep: boolean): Promise<void>;
}

export async function openCampaign(label: string): Promise<CampaignHome> {
  assertCliBuilt();
  const config = runConfig();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `convoy-reliability-${label}-`));
  const bucket = `convoy-rel-${label.replace(/[^a-z0-9-]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const stores = await StoreHome.open(path.join(dir, 'stores'), bucket, s3FromEnv());
  return {
    config,
    dir,
    stores,
    rng: new Rng(config.seed).fork(label),
    close: async (keep) => {
      stores.close();
      if (!keep) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test body that notes its failure (`noteFailed`: the campaign then keeps its store for a look)
 * before it rethrows it.
 */
export const noting =
  (noteFailed: () => void, body: () => Promise<void>): (() => Promise<void>) =>
  async () => {
    try {
      await body();
    } catch (err) {
      noteFailed();
      throw err;
    }
  };

/**
 * The end of a store campaign file: its store disposed unless a trial failed (then it is kept
 * for a look, with the scratch directory), and its proxy closed.
 */
export async function closeStoreCampaign(
  home: CampaignHome | undefined,
  failed: boolean,
  store: StoreTarget | undefined,
  proxy: { close(): Promise<void> } | undefined,
): Promise<void> {
  if (!failed) await store?.dispose().catch(() => undefined);
  await proxy?.close();
  await home?.close(failed);
}
