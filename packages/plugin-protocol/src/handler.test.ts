import { ConvoyError } from '@convoy/errors';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPluginHandler, toVolumeInfo, type PluginErrorEvent, type PluginHandler } from './handler.js';
import { MountRefCounter, type MountRefState } from '@convoy/daemon-kit';
import { MemoryVolumeBackend } from './testing/index.js';

const ID1 = 'b5c1f3e0a6d94b1f8c2e7d3a9f0e1c2b4d5a6e7f8091a2b3c4d5e6f7a8b9c0d1';
const ID2 = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const CREATED = new Date('2025-03-01T10:00:00.000Z');

/** Calls the handler as Docker does: JSON with a trailing newline, an empty body for Activate. */
function docker(handler: PluginHandler) {
  return async (endpoint: string, body?: object): Promise<{ status: number; body: Record<string, unknown> }> => {
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(`${JSON.stringify(body)}\n`);
    const reply = await handler(`/${endpoint}`, bytes);
    return reply as { status: number; body: Record<string, unknown> };
  };
}

describe('createPluginHandler: the calls Docker makes', () => {
  let backend: MemoryVolumeBackend;
  let call: ReturnType<typeof docker>;
  let errors: PluginErrorEvent[];

  beforeEach(() => {
    backend = new MemoryVolumeBackend({ now: () => CREATED });
    errors = [];
    call = docker(createPluginHandler(backend, { onError: (e) => errors.push(e) }));
  });

  it('docker volume create: Activate → Capabilities → Get (Err, absent) → Create', async () => {
    expect(await call('Plugin.Activate')).toEqual({ status: 200, body: { Implements: ['VolumeDriver'] } });
    expect(await call('VolumeDriver.Capabilities', {})).toEqual({ status: 200, body: { Capabilities: { Scope: 'local' } } });
    const absent = await call('VolumeDriver.Get', { Name: 'data1' });
    expect(absent.status).toBe(200);
    expect(absent.body).toEqual({ Err: expect.stringMatching(/^volume "data1" not found \(.+\)$/) });
    expect(await call('VolumeDriver.Create', { Name: 'data1', Opts: null })).toEqual({ status: 200, body: {} });
    expect(await call('VolumeDriver.Get', { Name: 'data1' })).toEqual({
      status: 200,
      body: { Volume: { Name: 'data1', CreatedAt: '2025-03-01T10:00:00.000Z', Status: { opts: {} } } },
    });
    expect(backend.methods).toEqual(['capabilities', 'get', 'create', 'get']);
  });

  it('passes -o options through', async () => {
    await call('VolumeDriver.Create', { Name: 'data1', Opts: { size: '10G' } });
    expect(backend.calls.at(-1)).toEqual({ method: 'create', args: ['data1', { size: '10G' }] });
  });

  it('docker run -v: Get, Get, Mount{Name,ID} … Get, Unmount with the same ID', async () => {
    await call('VolumeDriver.Create', { Name: 'data1' });
    backend.calls.length = 0;
    await call('VolumeDriver.Get', { Name: 'data1' });
    await call('VolumeDriver.Get', { Name: 'data1' });
    expect(await call('VolumeDriver.Mount', { Name: 'data1', ID: ID1 })).toEqual({
      status: 200,
      body: { Mountpoint: '/var/lib/convoy/mounts/data1' },
    });
    expect(await call('VolumeDriver.Path', { Name: 'data1' })).toEqual({
      status: 200,
      body: { Mountpoint: '/var/lib/convoy/mounts/data1' },
    });
    const mounted = await call('VolumeDriver.Get', { Name: 'data1' });
    expect(mounted.body).toMatchObject({ Volume: { Name: 'data1', Mountpoint: '/var/lib/convoy/mounts/data1' } });
    expect(await call('VolumeDriver.Unmount', { Name: 'data1', ID: ID1 })).toEqual({ status: 200, body: {} });
    expect(await call('VolumeDriver.Path', { Name: 'data1' })).toEqual({ status: 200, body: {} });
    expect(backend.methods).toEqual(['get', 'get', 'mount', 'path', 'get', 'unmount', 'path']);
    expect(errors).toEqual([]);
  });

  it('docker volume ls: List', async () => {
    await call('VolumeDriver.Create', { Name: 'b-vol' });
    await call('VolumeDriver.Create', { Name: 'a-vol' });
    await call('VolumeDriver.Mount', { Name: 'b-vol', ID: ID1 });
    expect(await call('VolumeDriver.List', {})).toEqual({
      status: 200,
      body: {
        Volumes: [
          { Name: 'a-vol', CreatedAt: CREATED.toISOString(), Status: { opts: {} } },
          { Name: 'b-vol', Mountpoint: '/var/lib/convoy/mounts/b-vol', CreatedAt: CREATED.toISOString(), Status: { opts: {} } },
        ],
      },
    });
  });

  it('docker volume rm: Get, Get, Remove; the volume is then gone', async () => {
    await call('VolumeDriver.Create', { Name: 'data1' });
    await call('VolumeDriver.Get', { Name: 'data1' });
    await call('VolumeDriver.Get', { Name: 'data1' });
    expect(await call('VolumeDriver.Remove', { Name: 'data1' })).toEqual({ status: 200, body: {} });
    expect((await call('VolumeDriver.Get', { Name: 'data1' })).body).toHaveProperty('Err');
    expect((await call('VolumeDriver.List', {})).body).toEqual({ Volumes: [] });
  });

  it('two containers on one volume: one real mount, unmounted when the last one leaves', async () => {
    await call('VolumeDriver.Create', { Name: 'shared' });
    const m1 = await call('VolumeDriver.Mount', { Name: 'shared', ID: ID1 });
    const m2 = await call('VolumeDriver.Mount', { Name: 'shared', ID: ID2 });
    expect(m2.body).toEqual(m1.body);
    expect(backend.mounts.get('shared')).toBe(1);
    await call('VolumeDriver.Unmount', { Name: 'shared', ID: ID1 });
    expect(backend.unmounts.get('shared')).toBeUndefined();
    expect((await call('VolumeDriver.Path', { Name: 'shared' })).body).toEqual({ Mountpoint: '/var/lib/convoy/mounts/shared' });
    await call('VolumeDriver.Unmount', { Name: 'shared', ID: ID2 });
    expect(backend.unmounts.get('shared')).toBe(1);
  });

  it('a repeated Mount of one ID is idempotent; one Unmount releases it', async () => {
    await call('VolumeDriver.Create', { Name: 'v1' });
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    expect((await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 })).body).toEqual({ Mountpoint: '/var/lib/convoy/mounts/v1' });
    expect(backend.mounts.get('v1')).toBe(1);
    await call('VolumeDriver.Unmount', { Name: 'v1', ID: ID1 });
    expect(backend.unmounts.get('v1')).toBe(1);
  });

  it('an Unmount of an unknown ID is harmless and leaves other holders mounted', async () => {
    await call('VolumeDriver.Create', { Name: 'v1' });
    expect(await call('VolumeDriver.Unmount', { Name: 'v1', ID: ID2 })).toEqual({ status: 200, body: {} });
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    expect(await call('VolumeDriver.Unmount', { Name: 'v1', ID: ID2 })).toEqual({ status: 200, body: {} });
    expect(backend.unmounts.get('v1')).toBeUndefined();
    expect((await call('VolumeDriver.Path', { Name: 'v1' })).body).toHaveProperty('Mountpoint');
  });

  it('concurrent Mounts of one volume mount it once', async () => {
    await call('VolumeDriver.Create', { Name: 'v1' });
    const ids = Array.from({ length: 10 }, (_, i) => `caller-${i}`);
    const replies = await Promise.all(ids.map((ID) => call('VolumeDriver.Mount', { Name: 'v1', ID })));
    expect(new Set(replies.map((r) => JSON.stringify(r.body)))).toEqual(
      new Set([JSON.stringify({ Mountpoint: '/var/lib/convoy/mounts/v1' })]),
    );
    expect(backend.mounts.get('v1')).toBe(1);
    await Promise.all(ids.map((ID) => call('VolumeDriver.Unmount', { Name: 'v1', ID })));
    expect(backend.unmounts.get('v1')).toBe(1);
  });

  it('refuses Remove while a container holds the volume', async () => {
    await call('VolumeDriver.Create', { Name: 'v1' });
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    const refused = await call('VolumeDriver.Remove', { Name: 'v1' });
    expect(refused.body).toEqual({ Err: expect.stringContaining('volume "v1" is mounted by 1 container') });
    expect(backend.volumes.has('v1')).toBe(true);
  });

  it('remounts when the reference state says mounted but the backend lost the mount', async () => {
    await call('VolumeDriver.Create', { Name: 'v1' });
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    const stored = backend.volumes.get('v1');
    if (stored) stored.mounted = false; // e.g. a host reboot
    expect((await call('VolumeDriver.Mount', { Name: 'v1', ID: ID2 })).body).toEqual({ Mountpoint: '/var/lib/convoy/mounts/v1' });
    expect(backend.mounts.get('v1')).toBe(2);
  });

  it('answers Capabilities global when the backend is', async () => {
    const global = docker(createPluginHandler(new MemoryVolumeBackend({ scope: 'global' })));
    expect((await global('VolumeDriver.Capabilities', {})).body).toEqual({ Capabilities: { Scope: 'global' } });
  });
});

describe('createPluginHandler: errors', () => {
  it('turns a backend ConvoyError into Err with message and hint, nothing else', async () => {
    const backend = new MemoryVolumeBackend();
    const events: PluginErrorEvent[] = [];
    const call = docker(createPluginHandler(backend, { onError: (e) => events.push(e) }));
    backend.failWith('create', new ConvoyError('CONVOY_POOL_FULL', 'thin pool is full', { hint: 'extend the pool' }));
    const reply = await call('VolumeDriver.Create', { Name: 'v1' });
    expect(reply).toEqual({ status: 200, body: { Err: 'thin pool is full (extend the pool)' } });
    expect(events).toEqual([expect.objectContaining({ endpoint: '/VolumeDriver.Create', phase: 'request' })]);
  });

  it('a plain Error gives its message without the stack, and URLs lose their credentials', async () => {
    const backend = new MemoryVolumeBackend();
    const call = docker(createPluginHandler(backend));
    backend.failWith('list', new Error('GET s3://AKIA:SuperSecret@bucket/x?X-Amz-Signature=abc failed'));
    const { body } = await call('VolumeDriver.List', {});
    expect(body.Err).toMatch(/^internal error: GET s3:\/\/AKIA:\*\*\*@bucket\/x\?X-Amz-Signature=\*\*\* failed$/);
    expect(JSON.stringify(body)).not.toContain('SuperSecret');
    expect(JSON.stringify(body)).not.toContain('    at ');
    backend.failWith('list', 'a string');
    expect((await call('VolumeDriver.List', {})).body).toEqual({ Err: 'internal error' });
  });

  it('answers validation failures with Err (200) and unknown endpoints with 404', async () => {
    const backend = new MemoryVolumeBackend();
    const call = docker(createPluginHandler(backend));
    const handler = createPluginHandler(backend);
    const bad = await handler('/VolumeDriver.Create', Buffer.from('{"Name":'));
    expect(bad).toEqual({ status: 200, body: { Err: expect.stringMatching(/^request body is not valid JSON/) } });
    expect((await call('VolumeDriver.Create', { Name: 'a/b' })).body).toEqual({
      Err: expect.stringContaining('invalid volume name "a/b": it holds characters other than'),
    });
    expect((await call('VolumeDriver.Create', { Name: 'ab\0' })).body.Err).not.toMatch(/\0/);
    const unknown = await call('VolumeDriver.Snapshot', { Name: 'v1' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Err).toMatch(/unknown plugin endpoint "\/VolumeDriver.Snapshot"/);
    expect(backend.calls).toEqual([]);
  });

  it('never throws, whatever arrives', async () => {
    const handler = createPluginHandler(new MemoryVolumeBackend());
    const bodies = ['', '{', 'null', '[]', '"x"', '{"Name":1}', '{"Name":"v1","ID":{}}', '\u0000', '{"Name":"v1","Opts":{"a":[]}}'];
    const paths = ['/', '', '/Plugin.Activate', '/VolumeDriver.Mount', '/VolumeDriver.Create', '/%00', '/VolumeDriver.Get?x'];
    for (const path of paths) {
      for (const body of bodies) {
        const reply = await handler(path, Buffer.from(body));
        expect([200, 404]).toContain(reply.status);
      }
    }
  });

  it('answers a hung backend with a timeout error, and reports its late failure', async () => {
    const backend = new MemoryVolumeBackend();
    const events: PluginErrorEvent[] = [];
    let lateReported!: () => void;
    const late = new Promise<void>((r) => (lateReported = r));
    const call = docker(
      createPluginHandler(backend, {
        timeoutMs: 30,
        onError: (e) => {
          events.push(e);
          if (e.phase === 'late') lateReported();
        },
      }),
    );
    let fail!: (e: Error) => void;
    backend.stall('list', new Promise((_, reject) => (fail = reject)));
    expect((await call('VolumeDriver.List', {})).body).toEqual({
      Err: expect.stringMatching(/^VolumeDriver.List did not finish within 30 ms/),
    });
    fail(new Error('late'));
    await late;
    expect(events.map((e) => e.phase)).toEqual(['request', 'late']);
  });

  it('a failed Mount records no reference; a failed last Unmount keeps it so a retry finishes', async () => {
    const backend = new MemoryVolumeBackend();
    const refs = new MountRefCounter();
    const call = docker(createPluginHandler(backend, { refs }));
    await call('VolumeDriver.Create', { Name: 'v1' });
    backend.failWith('mount', new ConvoyError('CONVOY_COMMAND_FAILED', 'mount failed'));
    expect((await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 })).body).toEqual({
      Err: expect.stringMatching(/^mount failed/) as string,
    });
    expect(refs.toJSON()).toEqual({});
    backend.clearFault('mount');
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    backend.failWith('unmount', new ConvoyError('CONVOY_COMMAND_FAILED', 'target is busy'));
    expect((await call('VolumeDriver.Unmount', { Name: 'v1', ID: ID1 })).body).toEqual({
      Err: expect.stringMatching(/^target is busy/) as string,
    });
    expect(refs.toJSON()).toEqual({ v1: [ID1] });
    backend.clearFault('unmount');
    expect((await call('VolumeDriver.Unmount', { Name: 'v1', ID: ID1 })).body).toEqual({});
    expect(refs.toJSON()).toEqual({});
  });

  it('rejects a backend answer the protocol cannot carry', async () => {
    const backend = new MemoryVolumeBackend();
    backend.mount = async () => '';
    backend.capabilities = async () => ({ scope: 'cluster' as 'local' });
    const call = docker(createPluginHandler(backend));
    await call('VolumeDriver.Create', { Name: 'v1' });
    expect((await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 })).body.Err).toMatch(/returned no mountpoint/);
    expect((await call('VolumeDriver.Capabilities', {})).body.Err).toMatch(/unknown volume scope cluster/);
  });
});

describe('createPluginHandler: persisted reference state', () => {
  it('saves on every change and a restarted handler carries on from the saved state', async () => {
    const backend = new MemoryVolumeBackend();
    const saves: MountRefState[] = [];
    const persist = async (state: MountRefState): Promise<void> => {
      await new Promise<void>((r) => setImmediate(r)); // a save that completes later, as a file write does
      saves.push(state);
    };
    const first = docker(createPluginHandler(backend, { refs: new MountRefCounter({}, { onChange: persist }) }));
    await first('VolumeDriver.Create', { Name: 'v1' });
    await first('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    // The answer waited for the save.
    expect(saves).toEqual([{ v1: [ID1] }]);
    await first('VolumeDriver.Mount', { Name: 'v1', ID: ID2 });
    expect(saves.at(-1)).toEqual({ v1: [ID1, ID2] });

    // daemon restart: a new handler from the saved state
    const saved = JSON.parse(JSON.stringify(saves.at(-1))) as unknown;
    const second = docker(createPluginHandler(backend, { refs: MountRefCounter.fromJSON(saved, { onChange: persist }) }));
    await second('VolumeDriver.Mount', { Name: 'v1', ID: ID1 }); // Docker repeating a Mount: no second mount
    expect(backend.mounts.get('v1')).toBe(1);
    await second('VolumeDriver.Unmount', { Name: 'v1', ID: ID1 });
    expect(backend.unmounts.get('v1')).toBeUndefined(); // ID2 still holds it
    await second('VolumeDriver.Unmount', { Name: 'v1', ID: ID2 });
    expect(backend.unmounts.get('v1')).toBe(1);
    expect(saves.at(-1)).toEqual({});
  });

  it('a failed save is reported, not answered as a failed mount', async () => {
    const backend = new MemoryVolumeBackend();
    const events: PluginErrorEvent[] = [];
    const refs = new MountRefCounter({}, { onChange: () => Promise.reject(new Error('disk full')) });
    const call = docker(createPluginHandler(backend, { refs, onError: (e) => events.push(e) }));
    await call('VolumeDriver.Create', { Name: 'v1' });
    expect((await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 })).body).toEqual({ Mountpoint: '/var/lib/convoy/mounts/v1' });
    expect(events).toEqual([expect.objectContaining({ endpoint: '/VolumeDriver.Mount', phase: 'save' })]);
    expect(refs.ids('v1')).toEqual([ID1]);
  });

  it('Remove forgets the references of an allowed removal', async () => {
    const backend = new MemoryVolumeBackend();
    const refs = new MountRefCounter();
    const call = docker(createPluginHandler(backend, { refs, allowRemoveWhileMounted: true }));
    await call('VolumeDriver.Create', { Name: 'v1' });
    await call('VolumeDriver.Mount', { Name: 'v1', ID: ID1 });
    expect((await call('VolumeDriver.Remove', { Name: 'v1' })).body).toEqual({});
    expect(refs.toJSON()).toEqual({});
  });
});

describe('toVolumeInfo', () => {
  it('sends CreatedAt as RFC 3339 and omits what Docker could not parse', () => {
    expect(toVolumeInfo({ name: 'v1', createdAt: '2025-03-01T10:00:00Z', mountpoint: '' })).toEqual({
      Name: 'v1',
      CreatedAt: '2025-03-01T10:00:00.000Z',
    });
    expect(toVolumeInfo({ name: 'v1', createdAt: '' })).toEqual({ Name: 'v1' });
    expect(toVolumeInfo({ name: 'v1', createdAt: new Date(Number.NaN) })).toEqual({ Name: 'v1' });
    expect(toVolumeInfo({ name: 'v1', mountpoint: '/m', status: { size: 1 } })).toEqual({
      Name: 'v1',
      Mountpoint: '/m',
      Status: { size: 1 },
    });
  });
});
