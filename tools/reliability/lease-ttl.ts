// Preloaded into convoy-backup by the campaigns (`node --import tools/reliability/lease-ttl.ts
// apps/backup/bin/convoy-backup.cjs …`) when a run shortens leases: the CLI has no lease-TTL
// option, and a killed maintenance's lease makes the next maintenance wait out the whole TTL
// (150 s), which no campaign of hundreds of kills can afford. This hook rewrites the one default
// in @convoy/blockstore's lease-records module, `DEFAULT_LEASE_TTL_MS = 150_000` (the TTL of a
// lease taken without one, and of an unreadable lease record), to the value of
// CONVOY_RELIABILITY_LEASE_TTL_MS, as the module is loaded; no file is changed. The built CLI runs
// the bundle in apps/backup/dist/bundle/ (tools/bundle-app.mjs): there the same constant, printed
// `DEFAULT_LEASE_TTL_MS = 15e4;`, is rewritten in the one chunk that holds it. Everything else
// about leases (refresh every TTL/5, lost at 80 %, waiting out a dead holder) follows from the TTL.
// If the module no longer holds that default, the process fails at start instead of quietly
// running with 150 s leases.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DEFAULT_TTL = 'DEFAULT_LEASE_TTL_MS = 150_000';
const LOCK_MODULE = /\/packages\/blockstore\/(?:dist\/lease-records\.js|src\/lease-records\.ts)$/;
/** The built CLI runs a bundle (tools/bundle-app.mjs), where the constant keeps its name but the number is printed as 15e4. */
const BUNDLE = fileURLToPath(new URL('../../apps/backup/dist/bundle/', import.meta.url));
const BUNDLED_TTL = /\bDEFAULT_LEASE_TTL_MS = (?:150_000|15e4|150000);/;

const ttlMs = Number(process.env.CONVOY_RELIABILITY_LEASE_TTL_MS);
if (!Number.isSafeInteger(ttlMs) || ttlMs < 1000) {
  throw new Error(
    `lease-ttl.ts: CONVOY_RELIABILITY_LEASE_TTL_MS must be a whole number of milliseconds ≥ 1000, got ${process.env.CONVOY_RELIABILITY_LEASE_TTL_MS}`,
  );
}

/** The bundle chunk that holds the default, if the CLI is built: exactly one must, and no other chunk a copy of its value. */
function bundledLockChunk(): string | undefined {
  if (!existsSync(BUNDLE)) return undefined;
  const chunks = readdirSync(BUNDLE)
    .filter((f) => f.endsWith('.js'))
    .map((f) => ({ url: pathToFileURL(BUNDLE + f).href, source: readFileSync(BUNDLE + f, 'utf8') }));
  const holders = chunks.filter((c) => BUNDLED_TTL.test(c.source));
  const copies = chunks.filter((c) => /\b(?:150_000|15e4|150000)\b/.test(c.source));
  if (holders.length !== 1 || copies.length !== 1) {
    throw new Error(
      `lease-ttl.ts: ${holders.length} chunks of ${BUNDLE} hold "${BUNDLED_TTL.source}" and ${copies.length} hold 15e4 (want 1 and 1: was the constant inlined? see tools/bundle-app.mjs); update tools/reliability/lease-ttl.ts`,
    );
  }
  return holders[0]?.url;
}
const LOCK_CHUNK = bundledLockChunk();

const text = (source: unknown): string => (typeof source === 'string' ? source : Buffer.from(source as Uint8Array).toString('utf8'));

registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (url === LOCK_CHUNK) {
      return { ...loaded, source: text(loaded.source).replace(BUNDLED_TTL, `DEFAULT_LEASE_TTL_MS = ${ttlMs};`) };
    }
    if (!LOCK_MODULE.test(url)) return loaded;
    const source = text(loaded.source);
    if (!source.includes(DEFAULT_TTL)) {
      throw new Error(`lease-ttl.ts: ${url} no longer contains "${DEFAULT_TTL}"; update tools/reliability/lease-ttl.ts`);
    }
    return { ...loaded, source: source.replace(DEFAULT_TTL, `DEFAULT_LEASE_TTL_MS = ${ttlMs}`) };
  },
});
