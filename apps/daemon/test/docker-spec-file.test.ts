// Rancher Convoy's documented setup, with the real dockerd: one socket named by a spec file in
// /etc/docker/plugins, the daemon started as `convoy --socket S daemon …`, and no socket in
// /run/docker/plugins. Docker creates, mounts, writes, reads and removes volumes through it.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { ConvoyDaemon } from './helpers/daemon.js';
import { CONTAINER_LABEL, IMAGE, makeTempDir, nameFactory, removeDir } from './helpers/env.js';
import { docker, dockerOk } from './helpers/docker.js';

const target = inject('convoyDocker');
const SPEC_DIR = '/etc/docker/plugins';

describe.skipIf(!target.available)("Convoy's spec-file setup: one socket, found through /etc/docker/plugins", () => {
  const name = nameFactory();
  // A driver name of this run only: dockerd remembers a plugin's address by name.
  const driver = `convoyspec${randomBytes(3).toString('hex')}`;
  const spec = join(SPEC_DIR, `${driver}.spec`);
  const made: string[] = [];
  let tmp = '';
  let daemon: ConvoyDaemon | undefined;
  let client: ControlClient | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir('spec');
    const socket = join(tmp, 'convoy.sock');
    daemon = await ConvoyDaemon.start({
      label: 'spec-file',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: 'none',
      controlSocket: socket,
      hostId: 'e2e-spec',
      throughCli: true,
    });
    client = new ControlClient({ socketPath: socket });
    await mkdir(SPEC_DIR, { recursive: true });
    await writeFile(spec, `unix://${socket}\n`);
  });

  afterAll(async () => {
    const problems: string[] = [];
    for (const v of made) {
      const r = await docker(['volume', 'rm', '-f', v]);
      if (r.code !== 0 && !/no such volume/i.test(r.stderr)) problems.push(`docker volume rm ${v}: ${r.stderr.trim()}`);
    }
    await rm(spec, { force: true });
    await client?.close();
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('the daemon made only the socket the spec file names', () => {
    expect(daemon?.log).toMatch(/"pluginSocket":"none"/);
    expect(existsSync(join(tmp, 'convoy.sock'))).toBe(true);
  });

  it('docker volume create, docker run with it, and docker volume rm all go through the one socket', async () => {
    const v = name('spec');
    made.push(v);
    await dockerOk(['volume', 'create', '-d', driver, v]);
    expect((await client?.getVolume(v))?.name).toBe(v);
    const run = (script: string): Promise<string> =>
      dockerOk([
        'run',
        '--rm',
        '--network',
        'none',
        '--label',
        CONTAINER_LABEL,
        '--volume-driver',
        driver,
        '-v',
        `${v}:/data`,
        IMAGE,
        'sh',
        '-c',
        script,
      ]);
    await run('echo written-through-the-spec-file > /data/f');
    expect(await run('cat /data/f')).toBe('written-through-the-spec-file');
    const listed = await dockerOk(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    expect(listed.split('\n')).toContain(`${driver} ${v}`);
    await dockerOk(['volume', 'rm', v]);
    await expect(client?.getVolume(v)).rejects.toMatchObject({ code: 'CONVOY_VOLUME_DELETED' });
  });

  it('a volume Docker names with -o that nobody reads is refused with the keys there are, and none is made', async () => {
    const v = name('typo');
    made.push(v);
    const r = await docker(['volume', 'create', '-d', driver, '-o', 'bakup=vfs:///nowhere?backup=b&volume=x', v]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown volume option "bakup".*backup, driver, size/);
    await expect(client?.getVolume(v)).rejects.toMatchObject({ code: 'CONVOY_VOLUME_NOT_FOUND' });
  });
});
