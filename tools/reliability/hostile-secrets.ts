// Campaign 6c: secrets never leak. A radosgw user with distinctive keys made for this run backs up
// through convoy-backup and through convoy + a daemon that holds the keys; then things fail on
// purpose: a bucket that does not exist, a wrong secret key, an endpoint nobody answers on,
// credentials written into s3:// URLs and into the endpoint URL (which convoy refuses). Everything
// those runs produced — stdout, stderr, `--json` output, the daemons' logs, every file under their
// roots and vfs paths — is searched for each secret: it must appear nowhere.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HostileDaemon, daemonPaths, type DaemonPaths } from './hostile-daemon.js';
import { rawRequest } from './hostile-http.js';
import { judgeRun, runTool, type Tool, type ToolResult } from './hostile-cli.js';
import { Rng } from './prng.js';
import { s3FromEnv } from './stores.js';
import type { Trial } from './trial.js';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A radosgw user with these keys (radosgw-admin on the run's cluster), or the run's own keys on an external S3. */
function s3User(tag: string, trial: Trial): Keys {
  const conf = process.env.CONVOY_TEST_S3_CEPH_CONF;
  const fallback = s3FromEnv();
  if (conf === undefined || !fs.existsSync(conf)) {
    trial.fault('external S3 server: its own keys are the secrets searched for');
    return { accessKeyId: fallback.accessKeyId, secretAccessKey: fallback.secretAccessKey };
  }
  const keys = { accessKeyId: `AKHZ${tag.toUpperCase()}`, secretAccessKey: `SKHZsecret${tag}` };
  const r = spawnSync(
    'radosgw-admin',
    [
      '-c',
      conf,
      'user',
      'create',
      `--uid=hz-${tag}`,
      '--display-name=hostile',
      `--access-key=${keys.accessKeyId}`,
      `--secret-key=${keys.secretAccessKey}`,
    ],
    { cwd: path.dirname(conf), encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`radosgw-admin user create failed (${r.status}): ${r.stderr}`);
  return keys;
}

/** Every file under `dir` (recursively): path and content. */
function filesUnder(dir: string): { file: string; content: Buffer }[] {
  const out: { file: string; content: Buffer }[] = [];
  const walk = (d: string): void => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ file: p, content: fs.readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

export async function runSecretsTrial(trial: Trial, dir: string, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const tag = Array.from({ length: 12 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[rng.int(0, 35)]).join('');
  const s3 = s3FromEnv();
  const keys = s3User(tag, trial);
  const wrongSecret = `SKHZwrong${tag}`;
  const urlSecret = `SKHZinurl${tag}`;
  const sessionToken = `STHZtoken${tag}`;
  const secrets = [keys.secretAccessKey, wrongSecret, urlSecret, sessionToken];
  const bucket = `hz-secrets-${tag}`;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: keys,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  fs.mkdirSync(dir, { recursive: true });
  const outputs: { what: string; text: string }[] = [];
  const env = {
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: s3.endpoint,
  };
  const port = new URL(s3.endpoint).port;
  const withCreds = (u: string, secret = urlSecret): string => u.replace('s3://', `s3://${keys.accessKeyId}:${secret}@`);

  const run = async (
    tool: Tool,
    args: string[],
    extraEnv: Record<string, string>,
    expect: 'ok' | 'fail' | 'either',
  ): Promise<ToolResult> => {
    const r = await runTool(tool, args, { ...env, ...extraEnv }, dir);
    outputs.push({ what: `${tool} ${args.join(' ')}`, text: `${r.stdout}\n${r.stderr}` });
    const mask = (a: string): string => secrets.reduce((t, x) => t.replaceAll(x, '<secret>'), a);
    const envText = Object.entries(extraEnv)
      .map(([k, v]) => `${k}=${mask(v)} `)
      .join('');
    trial.record.commands.push(`${envText}${tool} ${args.map(mask).join(' ')} → ${r.signal ?? `exit ${r.code}`} ${r.errorCode ?? ''}`);
    const wrong = judgeRun(r);
    trial.check('every run exits 0 or fails with a CONVOY_* code', wrong === undefined, () => `${wrong ?? ''} — ${tool} ${args.join(' ')}`);
    if (expect !== 'either')
      trial.check(
        expect === 'ok' ? 'the run meant to succeed succeeds' : 'the run meant to fail fails',
        (r.code === 0) === (expect === 'ok'),
        () => `${tool} ${args[0] ?? ''} → exit ${r.code}: ${r.stdout.slice(-300)}`,
      );
    return r;
  };

  // convoy-backup with the keys in its environment
  const source = path.join(dir, 'source.img');
  fs.writeFileSync(source, rng.fill(Buffer.alloc(2 * 1024 * 1024)));
  const store = `s3://${bucket}/standalone`;
  const created = await run('convoy-backup', ['create', source, '--dest', store, '--volume', 'hz-sec', '--json'], {}, 'ok');
  const url =
    (JSON.parse(created.stdout.trim().split('\n').at(-1) ?? '{}') as { url?: string }).url ?? `${store}?backup=none&volume=hz-sec`;
  await run('convoy-backup', ['list', store, '--json'], {}, 'ok');
  await run('convoy-backup', ['inspect', url, '--json'], {}, 'ok');
  await run('convoy-backup', ['restore', url, path.join(dir, 'restored.img'), '--json'], {}, 'ok');
  await run('convoy-backup', ['verify', store, '--read-data', '--json'], {}, 'ok');
  await run('convoy-backup', ['create', source, '--dest', `s3://hz-no-such-bucket-${tag}/x`, '--volume', 'hz-sec', '--json'], {}, 'fail');
  await run('convoy-backup', ['list', store, '--json'], { AWS_SECRET_ACCESS_KEY: wrongSecret }, 'fail');
  await run(
    'convoy-backup',
    ['create', source, '--dest', store, '--volume', 'hz-sec', '--json'],
    { AWS_SECRET_ACCESS_KEY: wrongSecret },
    'fail',
  );
  await run('convoy-backup', ['list', store, '--json'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, 'fail');
  await run(
    'convoy-backup',
    ['list', store, '--json'],
    { AWS_ENDPOINT_URL: `http://${keys.accessKeyId}:${urlSecret}@127.0.0.1:${port}` },
    'fail',
  );
  await run(
    'convoy-backup',
    ['list', store, '--s3-endpoint', `http://${keys.accessKeyId}:${urlSecret}@127.0.0.1:${port}`, '--json'],
    {},
    'fail',
  );
  await run('convoy-backup', ['list', store, '--json'], { AWS_ENDPOINT_URL: urlSecret }, 'fail'); // a key pasted where the endpoint goes
  // A session token the server does not know: refused or ignored, never printed.
  await run('convoy-backup', ['list', store, '--json'], { AWS_SESSION_TOKEN: sessionToken }, 'either');
  for (const u of [withCreds(store), `${withCreds(store)}#frag`, withCreds(store).replace(urlSecret, `${urlSecret} x`), withCreds(url)]) {
    await run('convoy-backup', ['list', u, '--json'], {}, 'fail');
    await run('convoy-backup', ['restore', u, path.join(dir, 'never.img'), '--json'], {}, 'fail');
  }
  // A query parameter that looks secret is not a credential: the store ignores it, nothing prints it.
  await run('convoy-backup', ['list', `${store}?secret=${urlSecret}`, '--json'], {}, 'ok');
  await run(
    'convoy-backup',
    ['restore', `${store}?backup=20990101T000000000Z-abcdef&volume=hz-sec&secret=${urlSecret}`, path.join(dir, 'never.img'), '--json'],
    {},
    'fail',
  );

  // convoy against a daemon that holds the keys, and one that holds a wrong secret
  const good = await HostileDaemon.start(
    daemonPaths(path.join(dir, 'daemon')),
    { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_REGION: 'us-east-1' },
    ['--s3-endpoint', s3.endpoint],
  );
  const daemons: DaemonPaths[] = [good.paths];
  try {
    const ctl = (method: string, target: string, body: unknown): Promise<unknown> =>
      rawRequest(good.paths.controlSocket, { method, target, body: Buffer.from(JSON.stringify(body)) }, 60_000);
    await ctl('POST', '/v1/volumes', { name: 'hz-sec' });
    await ctl('POST', '/v1/snapshots', { volume: 'hz-sec', name: 'hz-sec-snap' });
    const socket = ['--socket', good.paths.controlSocket];
    const dstore = `s3://${bucket}/daemon`;
    const b = await run('convoy', [...socket, 'backup', 'create', 'hz-sec-snap', '--dest', dstore, '--json'], {}, 'ok');
    const durl = (JSON.parse(b.stdout.trim().split('\n').at(-1) ?? '{}') as { url?: string }).url ?? `${dstore}?backup=none&volume=hz-sec`;
    await run('convoy', [...socket, 'backup', 'list', dstore, '--json'], {}, 'ok');
    await run('convoy', [...socket, 'info', '--json'], {}, 'ok');
    await run('convoy', [...socket, 'backup', 'inspect', durl, '--json'], {}, 'ok');
    await run('convoy', [...socket, 'create', 'hz-sec-restored', '--backup', durl, '--json'], {}, 'ok');
    await run('convoy', [...socket, 'backup', 'create', 'hz-sec-snap', '--dest', `s3://hz-no-such-bucket-${tag}/x`, '--json'], {}, 'fail');
    await run('convoy', [...socket, 'backup', 'create', 'hz-sec-snap', '--dest', withCreds(dstore), '--json'], {}, 'fail');
    await run('convoy', [...socket, 'backup', 'list', `${withCreds(dstore)}#x`, '--json'], {}, 'fail');
    await run('convoy', [...socket, 'create', 'hz-sec-2', '--backup', withCreds(durl), '--json'], {}, 'fail');
    await run('convoy', [...socket, 'backup', 'delete', durl, '--json'], {}, 'ok');

    const bad = await HostileDaemon.start(
      daemonPaths(path.join(dir, 'daemon-wrong-secret')),
      { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: wrongSecret, AWS_REGION: 'us-east-1' },
      ['--s3-endpoint', s3.endpoint],
    );
    daemons.push(bad.paths);
    try {
      const badSocket = ['--socket', bad.paths.controlSocket];
      await run('convoy', [...badSocket, 'backup', 'list', dstore, '--json'], {}, 'fail');
      await run('convoy', [...badSocket, 'create', 'hz-sec-3', '--backup', durl, '--json'], {}, 'fail');
    } finally {
      await bad.stop();
    }
    // An endpoint with credentials in it: the daemon must refuse it without printing the secret.
    const refused = await HostileDaemon.start(daemonPaths(path.join(dir, 'daemon-cred-endpoint')), {}, [
      '--s3-endpoint',
      `http://${keys.accessKeyId}:${urlSecret}@127.0.0.1:${port}`,
    ]).then(
      async (d) => {
        await d.stop();
        return 'started';
      },
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    outputs.push({ what: 'convoy-daemon --s3-endpoint with credentials', text: refused });
    trial.record.commands.push(
      `convoy-daemon --s3-endpoint http://${keys.accessKeyId}:<secret>@127.0.0.1:${port} → ${refused === 'started' ? 'started' : 'refused'}`,
    );
    trial.check('the daemon refuses an S3 endpoint with credentials in it, as convoy-backup does', refused !== 'started', 'it started');
    daemons.push(daemonPaths(path.join(dir, 'daemon-cred-endpoint')));
  } finally {
    await good.stop();
  }

  // Search everything the runs produced.
  const places: { where: string; content: Buffer }[] = outputs.map((o) => ({ where: o.what, content: Buffer.from(o.text) }));
  for (const d of daemons) {
    for (const f of [
      ...filesUnder(d.root),
      ...filesUnder(d.vfsPath),
      ...(fs.existsSync(d.logFile) ? [{ file: d.logFile, content: fs.readFileSync(d.logFile) }] : []),
    ])
      places.push({ where: f.file, content: f.content });
  }
  let leaks = 0;
  for (const p of places) {
    for (const s of secrets) {
      if (p.content.includes(s)) {
        leaks++;
        const at = p.content.indexOf(s);
        trial.fail(`secret leaked: ${p.where} holds it: …${p.content.subarray(Math.max(0, at - 120), at).toString('utf8')}<secret>…`);
      }
    }
  }
  trial.measure('runs', outputs.length);
  trial.measure('placesSearched', places.length);
  trial.measure(
    'bytesSearched',
    places.reduce((n, p) => n + p.content.length, 0),
  );
  trial.measure('secretLeaks', leaks);
  trial.check('no secret in any output, --json, log or file', leaks === 0, 'see the leaks above');
  trial.outcome(`${outputs.length} runs; ${places.length} outputs, logs and files searched for ${secrets.length} secrets; ${leaks} leaks`);
}
