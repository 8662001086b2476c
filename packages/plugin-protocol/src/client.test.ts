import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PluginClient } from './client.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let dir: string;
let seen: Seen[];
let answer: (url: string) => string;
let close: () => Promise<void>;
let client: PluginClient;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convoy-pc-'));
  seen = [];
  answer = () => '{}';
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.end(answer(req.url ?? ''));
    });
  });
  const socketPath = join(dir, 's.sock');
  await new Promise<void>((ok) => server.listen(socketPath, ok));
  client = new PluginClient(socketPath);
  close = () => {
    server.closeAllConnections();
    return new Promise((ok) => server.close(() => ok()));
  };
});

afterEach(async () => {
  client.close();
  await close();
  await rm(dir, { recursive: true, force: true });
});

describe('PluginClient sends what Docker sends', () => {
  it('POST, the plugin Accept header, no Content-Type, an empty Activate body', async () => {
    answer = () => '{"Implements":["VolumeDriver"]}';
    expect(await client.activate()).toEqual({ Implements: ['VolumeDriver'] });
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/Plugin.Activate');
    expect(req?.headers.accept).toBe('application/vnd.docker.plugins.v1.2+json');
    expect(req?.headers['content-type']).toBeUndefined();
    expect(req?.headers['content-length']).toBe('0');
    expect(req?.body).toBe('');
  });

  it('JSON with a trailing newline, Opts null without options', async () => {
    await client.create('v1');
    await client.create('v2', { size: '1G' });
    await client.mount('v1', 'id1');
    await client.unmount('v1', 'id1');
    await client.get('v1');
    await client.path('v1');
    await client.remove('v1');
    await client.list();
    await client.capabilities();
    expect(seen.map((s) => [s.url, s.body])).toEqual([
      ['/VolumeDriver.Create', '{"Name":"v1","Opts":null}\n'],
      ['/VolumeDriver.Create', '{"Name":"v2","Opts":{"size":"1G"}}\n'],
      ['/VolumeDriver.Mount', '{"Name":"v1","ID":"id1"}\n'],
      ['/VolumeDriver.Unmount', '{"Name":"v1","ID":"id1"}\n'],
      ['/VolumeDriver.Get', '{"Name":"v1"}\n'],
      ['/VolumeDriver.Path', '{"Name":"v1"}\n'],
      ['/VolumeDriver.Remove', '{"Name":"v1"}\n'],
      ['/VolumeDriver.List', '{}\n'],
      ['/VolumeDriver.Capabilities', '{}\n'],
    ]);
    expect(seen.every((s) => s.headers['content-type'] === undefined)).toBe(true);
  });

  it('returns Err answers as data and rejects a non-JSON answer with a stable code', async () => {
    answer = () => '{"Err":"no such volume"}';
    expect(await client.get('v1')).toEqual({ Err: 'no such volume' });
    answer = () => '404 page not found';
    await expect(client.get('v1')).rejects.toMatchObject({ code: 'CONVOY_PLUGIN_RESPONSE_INVALID' });
  });
});
