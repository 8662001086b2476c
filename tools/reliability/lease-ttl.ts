// Preloaded into convoy-backup by the campaigns (`node --import tools/reliability/lease-ttl.ts
// apps/backup/bin/convoy-backup.cjs …`) when a run shortens leases: the CLI has no lease-TTL
// option, and a killed maintenance's lease makes the next maintenance wait out the whole TTL
// (150 s), which no campaign of hundreds of kills can afford. This hook rewrites the one default
// in @convoy/blockstore's lease-records module, `DEFAULT_LEASE_TTL_MS = 150_000` (the TTL of a
// lease taken without one, and of an unreadable lease record), to the value of
// CONVOY_RELIABILITY_LEASE_TTL_MS, as the module is loaded; no file is changed. Everything else
// about leases (refresh every TTL/5, lost at 80 %, waiting out a dead holder) follows from the TTL.
// If the module no longer holds that default, the process fails at start instead of quietly
// running with 150 s leases.
import { registerHooks } from 'node:module';

const DEFAULT_TTL = 'DEFAULT_LEASE_TTL_MS = 150_000';
const LOCK_MODULE = /\/packages\/blockstore\/(?:dist\/lease-records\.js|src\/lease-records\.ts)$/;

const ttlMs = Number(process.env.CONVOY_RELIABILITY_LEASE_TTL_MS);
if (!Number.isSafeInteger(ttlMs) || ttlMs < 1000) {
  throw new Error(
    `lease-ttl.ts: CONVOY_RELIABILITY_LEASE_TTL_MS must be a whole number of milliseconds ≥ 1000, got ${process.env.CONVOY_RELIABILITY_LEASE_TTL_MS}`,
  );
}

registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (!LOCK_MODULE.test(url)) return loaded;
    const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString('utf8');
    if (!source.includes(DEFAULT_TTL)) {
      throw new Error(`lease-ttl.ts: ${url} no longer contains "${DEFAULT_TTL}"; update tools/reliability/lease-ttl.ts`);
    }
    return { ...loaded, source: source.replace(DEFAULT_TTL, `DEFAULT_LEASE_TTL_MS = ${ttlMs}`) };
  },
});
