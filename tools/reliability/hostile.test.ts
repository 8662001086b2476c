// Campaign 6: hostile input. Seeded fast-check batches against both of the daemon's sockets
// (hostile-sockets.ts), hostile backup URLs through convoy-backup and convoy (hostile-cli.ts), and
// the secrets check: S3 keys never in anything a run produced (hostile-secrets.ts).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertCliBuilt } from './convoy.js';
import { runConfig } from './config.js';
import { CliUrlFuzz } from './hostile-cli.js';
import { runSecretsTrial } from './hostile-secrets.js';
import { SocketFuzz } from './hostile-sockets.js';
import { Rng } from './prng.js';
import { Trial, runTrial } from './trial.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('hostile');
const size = config.size.hostile;
let dir: string;
let sockets: SocketFuzz;
let failed = false;

const trial = (store: 'vfs' | 's3', op: string, name: string, body: (t: Trial) => Promise<void>, seed: number): Promise<void> =>
  runTrial(new Trial('hostile', store, op, name, seed), config.resultsFile, body).catch((err: unknown) => {
    failed = true;
    throw err;
  });

describe(`hostile input (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    assertCliBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-reliability-hostile-'));
    sockets = new SocketFuzz(path.join(dir, 'sockets'));
    await sockets.setup();
  });
  afterAll(async () => {
    await sockets?.close();
    if (!failed) await fs.rm(dir, { recursive: true, force: true });
    else process.stderr.write(`[reliability] hostile: kept ${dir} for a look\n`);
  });

  for (const socket of ['plugin', 'control'] as const) {
    for (let n = 1; n <= size.batchesPerSocket; n++) {
      const seed = rng.fork(`${socket}-${n}`).int(0, 2 ** 31 - 1);
      it(`hostile ${socket} socket #${n}: ${size.requests} fuzzed requests + ${size.bigBodies} of 10 MB, each answered; the daemon keeps serving and writes nothing outside`, async () => {
        await trial(
          'vfs',
          `${socket}-socket`,
          `hostile ${socket} socket #${n}`,
          (t) => sockets.batch(t, socket, seed, size.requests, size.bigBodies, size.parallel),
          seed,
        );
      });
    }
  }

  for (const tool of ['convoy-backup', 'convoy'] as const) {
    const seed = rng.fork(`cli-${tool}`).int(0, 2 ** 31 - 1);
    it(`hostile backup URLs through ${tool}: each refused with a code or served, nothing escapes the store directory`, async () => {
      await trial(
        'vfs',
        `${tool}-urls`,
        `hostile URLs through ${tool}`,
        (t) => new CliUrlFuzz(sockets, path.join(dir, `cli-${tool}`)).run(t, tool, seed, size.cliUrls),
        seed,
      );
    });
  }

  it('secrets: S3 keys in the environment, in URLs and in endpoints never appear in output, --json, logs or files, through failures too', async () => {
    const seed = rng.fork('secrets').int(0, 2 ** 31 - 1);
    await trial('s3', 'secrets', 'secrets never leak', (t) => runSecretsTrial(t, path.join(dir, 'secrets'), seed), seed);
  });
});
