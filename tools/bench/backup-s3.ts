// The S3 rows of the backup bench: one S3 server for the run (a throw-away Ceph radosgw through
// radosgw.ts, or CONVOY_BENCH_S3_ENDPOINT), and per run the raw SDK PUT and GET rates
// (backup-s3-raw.ts) beside a full Convoy backup to s3:// and a restore from it, of a volume of
// random bytes, at the same requests in flight. See README.md.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { backupArgs, backupUrlOf, measureConvoy, measureStartup, prepareStore, restoreArgs, type ConvoyLaunch } from './backup-convoy.js';
import type { Measured } from './backup-exec.js';
import type { ConvoyFrontend } from './backup-peers.js';
import { inFlight, rawRates, type RawRate } from './backup-s3-raw.js';
import type { SourceSnapshot } from './backup-snapshot.js';
import { sha256File } from './backup-volume.js';
import { Radosgw } from './radosgw.js';

const MiB = 1024 * 1024;

export type S3Step = 's3-backup' | 's3-restore' | 'start-up';

export interface S3StepResult extends Omit<Measured, 'stdout'> {
  tool: ConvoyFrontend;
  step: S3Step;
  /** The volume's bytes (what a backup reads and a restore writes). */
  volumeBytes: number;
  /** Bytes of all objects under the backup's prefix after the backup (≈ bytes sent: random data does not compress). */
  storedBytes: number;
  /** volumeBytes / seconds in MiB/s (2^20 bytes); 0 for start-up. */
  mibPerSec: number;
}

export interface S3Run {
  put: RawRate;
  get: RawRate;
  steps: S3StepResult[];
}

export interface S3Settings {
  /** Requests in flight for the raw rates, and Convoy's blocks (and store requests) in flight (runner). */
  concurrency: number;
  rawCount: number;
  rawObjectBytes: number;
  volumeBytes: number;
}

/** The S3 server and bucket of one bench run. */
export class S3Bench {
  readonly endpoint: string;
  /** 'radosgw' (started for the run) or 'external' (CONVOY_BENCH_S3_ENDPOINT). */
  readonly server: 'radosgw' | 'external';
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #env: NodeJS.ProcessEnv;
  readonly #radosgw: Radosgw | undefined;

  private constructor(endpoint: string, radosgw: Radosgw | undefined, bucket: string, client: S3Client, env: NodeJS.ProcessEnv) {
    this.endpoint = endpoint;
    this.#radosgw = radosgw;
    this.server = radosgw === undefined ? 'external' : 'radosgw';
    this.bucket = bucket;
    this.#client = client;
    this.#env = env;
  }

  /**
   * Starts radosgw (unless CONVOY_BENCH_S3_ENDPOINT names a server) and creates a bucket.
   * `onExit` receives a synchronous stop for process exit and a second Ctrl-C.
   */
  static async start(
    s: S3Settings,
    log: (line: string) => void,
    onExit: (stop: () => void) => void,
    signal: AbortSignal,
  ): Promise<S3Bench> {
    const external = process.env.CONVOY_BENCH_S3_ENDPOINT;
    let radosgw: Radosgw | undefined;
    let endpoint: string;
    if (external === undefined || external === '') {
      // The in-memory OSD holds one frontend's backup (deleted after its restore) or the raw objects.
      radosgw = new Radosgw({ osdBytes: 2 * Math.max(s.volumeBytes, s.rawCount * s.rawObjectBytes) + 1024 * MiB, log });
      onExit(radosgw.stopSync);
      endpoint = await radosgw.start(signal);
    } else {
      endpoint = external;
      log(`using the S3 server at ${endpoint} (CONVOY_BENCH_S3_ENDPOINT)`);
    }
    const region = process.env.CONVOY_BENCH_S3_REGION ?? 'us-east-1';
    const accessKeyId = process.env.CONVOY_BENCH_S3_ACCESS_KEY ?? 'AKTEST';
    const secretAccessKey = process.env.CONVOY_BENCH_S3_SECRET_KEY ?? 'SKTEST';
    const client = new S3Client({
      endpoint,
      region,
      credentials: { accessKeyId, secretAccessKey },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const bucket = `convoy-bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (err) {
      client.destroy();
      await radosgw?.stop().catch(() => undefined);
      throw err;
    }
    log(`S3 bucket ${bucket} at ${endpoint}`);
    // What the Convoy children read (both frontends take the SDK's environment variables).
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region };
    return new S3Bench(endpoint, radosgw, bucket, client, env);
  }

  /** Empties and removes the bucket on an external server; stops radosgw. */
  async stop(log: (line: string) => void): Promise<void> {
    try {
      if (this.#radosgw === undefined) {
        await this.#removePrefix('');
        await this.#client.send(new DeleteBucketCommand({ Bucket: this.bucket })).catch((err: unknown) => {
          log(`could not delete bucket ${this.bucket} on ${this.endpoint}: ${String(err)}`);
        });
      }
      this.#client.destroy();
    } finally {
      await this.#radosgw?.stop();
    }
  }

  /**
   * One run: raw PUT and GET rates, then per frontend a full backup of `volumeFile` to
   * s3://bucket/<run>-<frontend>, its stored bytes, a restore into `work` (checked against
   * `expectedSha256`), and the prefix removed. `prepare` runs before each measured step.
   */
  async runOnce(
    r: {
      run: number;
      work: string;
      volumeFile: string;
      expectedSha256: string;
      frontends: readonly ConvoyFrontend[];
      src: SourceSnapshot;
      profileDir: string | undefined;
      prepare: (what: string) => Promise<void>;
      log: (line: string) => void;
    },
    s: S3Settings,
    signal: AbortSignal,
  ): Promise<S3Run> {
    await r.prepare('raw S3 PUT/GET');
    const { put, get } = await rawRates({
      client: this.#client,
      bucket: this.bucket,
      prefix: `raw-${r.run}`,
      count: s.rawCount,
      objectBytes: s.rawObjectBytes,
      concurrency: s.concurrency,
      signal,
    });
    r.log(`raw SDK at ${s.concurrency} in flight: PUT ${put.mibPerSec.toFixed(1)} MiB/s, GET ${get.mibPerSec.toFixed(1)} MiB/s`);
    const steps: S3StepResult[] = [];
    for (const frontend of r.frontends) {
      const launch: ConvoyLaunch = { src: r.src, frontend, concurrency: s.concurrency, env: this.#env, profileDir: r.profileDir, signal };
      const prefix = `run${r.run}-${frontend}`;
      const store = `s3://${this.bucket}/${prefix}`;
      const result = (step: S3Step, m: Measured, storedBytes: number): S3StepResult => {
        const { stdout: _stdout, ...rest } = m;
        const mibPerSec = step === 'start-up' ? 0 : s.volumeBytes / MiB / m.seconds;
        return { ...rest, tool: frontend, step, volumeBytes: s.volumeBytes, storedBytes, mibPerSec };
      };
      steps.push(result('start-up', await measureStartup(launch), 0));
      await prepareStore(launch, store);
      await r.prepare(`${frontend} s3 backup`);
      const backup = await measureConvoy(
        launch,
        `${frontend} s3-backup`,
        backupArgs(frontend, { store, source: r.volumeFile, volume: 'bench', full: true }),
      );
      const url = backupUrlOf(backup.stdout, `${frontend} s3 backup`);
      const stored = await this.#prefixBytes(prefix);
      steps.push(result('s3-backup', backup, stored));
      r.log(
        `${frontend} s3 backup: ${backup.seconds.toFixed(2)} s, ${(s.volumeBytes / MiB / backup.seconds).toFixed(1)} MiB/s, peak RSS ${(backup.maxRssKiB / 1024).toFixed(0)} MB, ${(stored / MiB).toFixed(1)} MiB in the bucket`,
      );
      const targetDir = path.join(r.work, `s3-restore-${frontend}`);
      await mkdir(targetDir, { recursive: true });
      const target = path.join(targetDir, 'volume.img');
      await r.prepare(`${frontend} s3 restore`);
      const restore = await measureConvoy(launch, `${frontend} s3-restore`, restoreArgs(frontend, store, url, target));
      steps.push(result('s3-restore', restore, stored));
      r.log(
        `${frontend} s3 restore: ${restore.seconds.toFixed(2)} s, ${(s.volumeBytes / MiB / restore.seconds).toFixed(1)} MiB/s, peak RSS ${(restore.maxRssKiB / 1024).toFixed(0)} MB`,
      );
      const actual = await sha256File(target);
      if (actual !== r.expectedSha256)
        throw new Error(
          `${frontend} restored ${target} from S3 with sha256 ${actual}, not the volume's ${r.expectedSha256}: a wrong restore fails the bench`,
        );
      r.log(`${frontend} s3 restore verified`);
      await this.#removePrefix(`${prefix}/`);
    }
    return { put, get, steps };
  }

  async #keys(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  async #prefixBytes(prefix: string): Promise<number> {
    return (await this.#keys(`${prefix}/`)).reduce((n, o) => n + o.size, 0);
  }

  /** Deletes every object under the prefix (single deletes: DeleteObjects wants Content-MD5 on radosgw). */
  async #removePrefix(prefix: string): Promise<void> {
    const keys = await this.#keys(prefix);
    await inFlight(keys.length, 16, async (i) => {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: (keys[i] as { key: string }).key }));
    });
  }
}
