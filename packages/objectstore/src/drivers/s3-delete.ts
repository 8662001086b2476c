// Bulk deletes on S3, with the Content-MD5 that radosgw and S3 want on them.
import { createHash } from 'node:crypto';
import { DeleteObjectsCommand, type DeleteObjectsCommandInput, type DeleteObjectsCommandOutput } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { ObjectStoreError } from '../errors.js';
import { validateKey } from '../keys.js';
import type { MultipartContext } from './s3-multipart.js';

/**
 * Deletes keys in batches of 1000 (DeleteObjects), checking the per-key errors S3 returns with a
 * 200: a key already gone is fine, any other failure is an ObjectStoreError naming the first keys.
 */
export async function deleteObjects(s3: MultipartContext, keys: readonly string[], signal: AbortSignal | undefined): Promise<void> {
  keys.forEach(validateKey);
  const failures: { key: string; code: string }[] = [];
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
  await Promise.all(
    batches.map((batch) =>
      s3.call('delete', `${batch.length} keys`, signal, async (abortSignal) => {
        const cmd = new DeleteObjectsCommand({
          Bucket: s3.bucket,
          Delete: { Objects: batch.map((k) => ({ Key: s3.prefix + k })), Quiet: true },
        });
        // DeleteObjects requires Content-MD5; with checksums 'WHEN_REQUIRED' newer SDKs send a CRC32
        // header instead, which radosgw (and other S3-compatible servers) do not accept: send MD5.
        cmd.middlewareStack.addRelativeTo(contentMd5Middleware, {
          relation: 'before',
          toMiddleware: 'httpSigningMiddleware',
          name: 'convoyContentMd5',
        });
        const out = await s3.client.send(cmd, { abortSignal });
        for (const e of out.Errors ?? []) {
          if (e.Code === 'NoSuchKey') continue;
          failures.push({ key: (e.Key ?? '?').slice(s3.prefix.length), code: e.Code ?? 'UnknownError' });
        }
      }),
    ),
  );
  if (failures.length > 0) {
    throw new ObjectStoreError(
      `cannot delete ${failures.length} of ${keys.length} objects in ${s3.location} (first: ${failures[0]?.key}: ${failures[0]?.code})`,
      { details: { location: s3.location, failed: failures.slice(0, 20) } },
    );
  }
}

/** Replaces any x-amz-checksum-* header by Content-MD5 of the (string) body, before signing. */
export const contentMd5Middleware: FinalizeRequestMiddleware<DeleteObjectsCommandInput, DeleteObjectsCommandOutput> =
  (next) => async (args) => {
    const req = args.request as { headers?: Record<string, string>; body?: unknown };
    if (req.headers !== undefined && (typeof req.body === 'string' || req.body instanceof Uint8Array)) {
      for (const h of Object.keys(req.headers)) {
        const l = h.toLowerCase();
        if (l.startsWith('x-amz-checksum-') || l === 'x-amz-sdk-checksum-algorithm') delete req.headers[h];
      }
      req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
    }
    return next(args);
  };
