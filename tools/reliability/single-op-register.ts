// Registers a campaign that kills one convoy-backup command on a store of one kind (keys.ts,
// forget.ts): set-up, one test per trial, a final check. On radosgw half the kills land on a
// store-request boundary, through a proxy that holds the request (s3-proxy.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { closeStoreCampaign, noting, openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig, type Size } from './config.js';
import { Rng } from './prng.js';
import { HoldingProxy } from './s3-proxy.js';
import { s3FromEnv, type StoreKind, type StoreTarget } from './stores.js';
import type { World } from './world.js';

/** What such a campaign offers its register. */
export interface SingleOpCampaign<Item> {
  readonly world: World;
  setup(rng: Rng): Promise<void>;
  trial(item: Item): Promise<void>;
  final(rng: Rng): Promise<void>;
}

export interface SingleOpSpec<Item extends { n: number }> {
  /** `keys`, `forget`: the label is `<name>-<kind>`. */
  name: string;
  title: string;
  plan(rng: Rng, size: Size, kind: StoreKind): Item[];
  make(o: {
    label: string;
    store: StoreTarget;
    dir: string;
    size: Size;
    resultsFile: string;
    proxy: HoldingProxy | undefined;
  }): SingleOpCampaign<Item>;
  trialTitle(item: Item): string;
  finalTitle: string;
}

export function registerSingleOpCampaign<Item extends { n: number }>(spec: SingleOpSpec<Item>, kind: StoreKind): void {
  const config = runConfig();
  const label = `${spec.name}-${kind}`;
  const plan = spec.plan(new Rng(config.seed).fork(label).fork('plan'), config.size, kind);
  let home: CampaignHome;
  let campaign: SingleOpCampaign<Item>;
  let proxy: HoldingProxy | undefined;
  let failed = false;
  const fail = (): void => {
    failed = true;
  };

  describe(`${spec.title} on ${kind} (seed ${config.seed}, ${config.size.name})`, () => {
    beforeAll(async () => {
      home = await openCampaign(label);
      proxy = kind === 's3' ? await HoldingProxy.start(s3FromEnv().endpoint) : undefined;
      const store = home.stores.store(kind, label);
      campaign = spec.make({ label, store, dir: path.join(home.dir, 'work'), size: config.size, resultsFile: config.resultsFile, proxy });
      await campaign.setup(home.rng.fork('setup'));
    });
    afterAll(() => closeStoreCampaign(home, failed, campaign?.world.store, proxy));
    for (const item of plan) {
      it(
        `${label} #${item.n}: ${spec.trialTitle(item)}`,
        noting(fail, () => campaign.trial(item)),
      );
    }
    it(
      `${label}: ${spec.finalTitle}`,
      noting(fail, () => campaign.final(home.rng.fork('final'))),
    );
  });
}
