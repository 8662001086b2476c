// Registers campaign 1 for one store kind and some of its operations: set-up, one test per
// trial, a final check. On each store kind the operations are split over files (one store each,
// run side by side): a file's trials run one after another, so the longest file is the run's
// longest lane (at --full, 300 vfs trials in one file took 37 min; 100 radosgw trials, 57 min; 200 vfs
// trials of creates, deletes and restores, about 45 min under load: now two files of 100).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { closeStoreCampaign, noting, openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { CRASH_OPS, CrashCampaign, planCrash, type CrashMode, type CrashOp } from './crash.js';
import { Rng } from './prng.js';
import { HoldingProxy } from './s3-proxy.js';
import { s3FromEnv, type StoreKind } from './stores.js';

/**
 * `mode.dirs`: directory volumes; `mode.encrypted`: the store is created with `init --encrypt`
 * and every run gets its passphrase in CONVOY_PASSWORD (a seeded one, in the store's env).
 */
export function registerCrashCampaign(kind: StoreKind, ops: readonly CrashOp[] = CRASH_OPS, part = '', mode: CrashMode = {}): void {
  const config = runConfig();
  const dirs = mode.dirs === true;
  const label = `crash-${kind}${part === '' ? '' : `-${part}`}`;
  const plan = planCrash(new Rng(config.seed).fork(label).fork('plan'), config.size, kind, ops, mode);
  let home: CampaignHome;
  let campaign: CrashCampaign;
  let proxy: HoldingProxy | undefined;
  let failed = false;
  const fail = (): void => {
    failed = true;
  };

  describe(`crash trials on ${kind}${part === '' ? '' : ` (${part})`} (seed ${config.seed}, ${config.size.name})`, () => {
    beforeAll(async () => {
      home = await openCampaign(label);
      // On radosgw, half the kills land on a store-request boundary, through a proxy that holds the request.
      proxy = kind === 's3' ? await HoldingProxy.start(s3FromEnv().endpoint) : undefined;
      const store = home.stores.store(kind, label);
      const password = `${label}-${home.rng.fork('password').int(0, 2 ** 31)} ü`; // a space and a non-ASCII letter too
      campaign = new CrashCampaign(
        label,
        mode.encrypted === true ? { ...store, env: { ...store.env, CONVOY_PASSWORD: password } } : store,
        path.join(home.dir, 'work'),
        config.size,
        config.resultsFile,
        proxy,
        mode,
      );
      await campaign.setup(home.rng.fork('setup'));
    });
    afterAll(() => closeStoreCampaign(home, failed, campaign?.world.store, proxy));
    for (const item of plan) {
      it(
        `${label} #${item.n}: kill -9 ${dirs ? 'directory ' : ''}${mode.encrypted === true ? 'encrypted ' : ''}${item.op}, then nothing is lost`,
        noting(fail, () => campaign.trial(item)),
      );
    }
    it(
      `${label}: after every trial, two full maintenances leave every backup complete and no garbage`,
      noting(fail, () => campaign.final()),
    );
  });
}
