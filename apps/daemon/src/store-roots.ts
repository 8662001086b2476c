// Where vfs:// backup stores may be (--vfs-store-roots): in the managed Docker plugin only its
// backups mount reaches the host, and a store anywhere else would be written into the plugin's own
// rootfs, which `docker plugin rm` throws away. Unset: anywhere.
import path from 'node:path';
import { ConvoyError } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';

/**
 * Throws CONVOY_INVALID_ARGUMENT when `url` is a vfs:// store outside every root (a root itself is
 * allowed). s3:// URLs and an unset `roots` pass; a malformed URL is left to openStore to refuse.
 */
export function checkVfsStoreRoot(url: string, roots: readonly string[] | undefined): void {
  if (roots === undefined || roots.length === 0) return;
  let location;
  try {
    location = parseStoreUrl(url).location;
  } catch {
    return; // openStore refuses it with the URL's own message
  }
  if (location.kind !== 'vfs') return;
  const p = location.path;
  if (roots.some((r) => p === path.resolve(r) || p.startsWith(`${path.resolve(r)}/`))) return;
  throw new ConvoyError('CONVOY_INVALID_ARGUMENT', `vfs://${p} is outside the directories this daemon keeps vfs:// backup stores in`, {
    hint:
      `use a store under ${roots.join(' or ')} (e.g. vfs://${path.posix.join(path.resolve(roots[0] ?? '/'), 'nightly')}); ` +
      'in the Docker plugin that is its backups mount (docker plugin set <plugin> backups.source=/host/dir), or use s3://',
    details: { path: p, roots: [...roots] },
  });
}
