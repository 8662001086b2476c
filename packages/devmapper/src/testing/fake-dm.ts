import fs from 'node:fs/promises';
import path from 'node:path';
import { DmError, type DmApi, type DmDevice, type DmInfo, type DmOperation, type DmTarget } from '../dm-api.js';
import { dmUnavailable } from '../errors.js';
import { DM_MAJOR, type FakeDevice, type FakeKernel, type FakePool } from './fake-kernel.js';

const fail = (op: DmOperation, name: string, errno: string, detail = ''): DmError => new DmError(op, name, errno, detail);

/**
 * DmApi over FakeKernel with the kernel's semantics where the driver depends on them (errnos as
 * measured in the dm guest: EBUSY for a taken name or a busy device, EEXIST for an existing thin id, ENODATA for a missing one, ENXIO for a missing device), and stricter where a real kernel
 * would silently corrupt data: create_snap of an active origin that is not suspended throws.
 */
export class FakeDmApi implements DmApi {
  readonly #k: FakeKernel;

  constructor(kernel: FakeKernel) {
    this.#k = kernel;
  }

  devicePath(name: string): string {
    return this.#k.mapperPath(name);
  }

  #check(): void {
    if (!this.#k.available) throw dmUnavailable('/dev/mapper/control does not exist (fake kernel without device-mapper)');
  }

  #get(op: DmOperation, name: string): FakeDevice {
    this.#check();
    const d = this.#k.devices.get(name);
    if (d === undefined) throw fail(op, name, 'ENXIO');
    return d;
  }

  async version(): Promise<string> {
    this.#check();
    return '4.47.0-fake';
  }

  async create(name: string, options: { uuid?: string; readOnly?: boolean } = {}): Promise<void> {
    this.#check();
    if (this.#k.devices.has(name)) throw fail('CREATE', name, 'EBUSY'); // as the kernel answers a taken name
    this.#k.devices.set(name, {
      name,
      minor: this.#k.newMinor(),
      live: undefined,
      inactive: undefined,
      suspended: false,
      readOnly: options.readOnly === true,
      openCount: 0,
      eventNr: 0,
      pool: undefined,
    });
  }

  async load(name: string, targets: readonly DmTarget[], options: { readOnly?: boolean } = {}): Promise<void> {
    const d = this.#get('RELOAD', name);
    const t = targets[0];
    if (t === undefined || targets.length !== 1) throw fail('RELOAD', name, 'EINVAL', 'the fake supports one target');
    if (t.type === 'thin') {
      const [poolDev, id] = t.params.split(' ');
      const pd = this.#k.deviceByMinor(Number(poolDev?.split(':')[1]));
      const pool = pd === undefined ? undefined : this.#k.poolOfDevice(pd);
      if (pool === undefined) throw fail('RELOAD', name, 'EINVAL', `no pool ${poolDev}`);
      if (!pool.thins.has(Number(id))) throw fail('RELOAD', name, 'ENODATA');
    } else if (t.type === 'thin-pool') {
      const [meta, data, bs] = t.params.split(' ');
      if ((await this.#k.pathOfBlock(meta ?? '')) === undefined || (await this.#k.pathOfBlock(data ?? '')) === undefined)
        throw fail('RELOAD', name, 'EINVAL', 'unknown device');
      if (!(Number(bs) >= 128 && Number(bs) % 128 === 0)) throw fail('RELOAD', name, 'EINVAL', 'bad block size');
    } else {
      throw fail('RELOAD', name, 'EINVAL', `Unknown target type ${t.type}`);
    }
    d.inactive = [...targets];
    if (options.readOnly === true) d.readOnly = true;
  }

  async suspend(name: string): Promise<void> {
    const d = this.#get('SUSPEND', name);
    d.suspended = true;
  }

  async resume(name: string): Promise<void> {
    const d = this.#get('RESUME', name);
    if (d.inactive !== undefined) {
      const t = d.inactive[0] as DmTarget;
      if (t.type === 'thin-pool') {
        const [meta, data, bs] = t.params.split(' ');
        const metaPath = (await this.#k.pathOfBlock(meta ?? '')) as string;
        const dataPath = (await this.#k.pathOfBlock(data ?? '')) as string;
        d.pool = await this.#k.openPool(metaPath, dataPath, Number(bs), Math.floor(t.length / Number(bs)));
      } else {
        const pool = this.#poolOfThinTable(t);
        const file = pool.thins.get(Number(t.params.split(' ')[1])) as string;
        const st = await fs.stat(file);
        if (st.size < t.length * 512) await fs.truncate(file, t.length * 512);
        await fs.rm(this.devicePath(name), { force: true });
        await fs.symlink(file, this.devicePath(name));
      }
      d.live = d.inactive;
      d.inactive = undefined;
    }
    d.suspended = false;
    d.eventNr++;
  }

  #poolOfThinTable(t: DmTarget): FakePool {
    const pd = this.#k.deviceByMinor(Number(t.params.split(' ')[0]?.split(':')[1]));
    const pool = pd === undefined ? undefined : this.#k.poolOfDevice(pd);
    if (pool === undefined) throw new Error(`fake dm: thin table ${t.params} names no pool`);
    return pool;
  }

  async remove(name: string): Promise<void> {
    const d = this.#get('REMOVE', name);
    if (d.openCount > 0) throw fail('REMOVE', name, 'EBUSY');
    const pool = this.#k.poolOfDevice(d);
    if (pool !== undefined) {
      const users = [...this.#k.devices.values()].filter((x) => x.live?.[0]?.type === 'thin' && this.#poolOfThinTable(x.live[0]) === pool);
      if (users.length > 0) throw fail('REMOVE', name, 'EBUSY');
    }
    this.#k.devices.delete(name);
    await fs.rm(this.devicePath(name), { force: true });
  }

  async info(name: string): Promise<DmInfo> {
    this.#check();
    const d = this.#k.devices.get(name);
    if (d === undefined) {
      return {
        exists: false,
        suspended: false,
        liveTable: false,
        inactiveTable: false,
        openCount: 0,
        eventNr: 0,
        major: 0,
        minor: 0,
        readOnly: false,
        targetCount: 0,
      };
    }
    return {
      exists: true,
      suspended: d.suspended,
      liveTable: d.live !== undefined,
      inactiveTable: d.inactive !== undefined,
      openCount: d.openCount,
      eventNr: d.eventNr,
      major: DM_MAJOR,
      minor: d.minor,
      readOnly: d.readOnly,
      targetCount: d.live?.length ?? 0,
    };
  }

  async table(name: string): Promise<DmTarget[]> {
    return [...(this.#get('TABLE', name).live ?? [])];
  }

  async status(name: string): Promise<DmTarget[]> {
    const d = this.#get('STATUS', name);
    const t = d.live?.[0];
    if (t === undefined) return [];
    if (t.type === 'thin-pool') {
      const p = d.pool as FakePool;
      const used = await this.#k.usedBlocks(p);
      const meta = 16 + p.thins.size;
      return [
        {
          ...t,
          params: `${p.transactionId} ${meta}/16384 ${used}/${p.dataBlocks} ${p.held ? 42 : '-'} rw discard_passdown queue_if_no_space - 1024`,
        },
      ];
    }
    const pool = this.#poolOfThinTable(t);
    const file = pool.thins.get(Number(t.params.split(' ')[1])) as string;
    const data = await fs.readFile(file);
    const bs = pool.blockSectors * 512;
    let mapped = 0;
    for (let i = 0; i * bs < data.length; i++) if (!data.subarray(i * bs, (i + 1) * bs).every((x) => x === 0)) mapped += pool.blockSectors;
    return [{ ...t, params: `${mapped} ${mapped === 0 ? '-' : mapped - 1}` }];
  }

  async message(name: string, message: string): Promise<string> {
    const d = this.#get('TARGET_MSG', name);
    const pool = this.#k.poolOfDevice(d);
    if (pool === undefined) throw fail('TARGET_MSG', name, 'EINVAL', 'not a thin pool');
    this.#k.messages.push(`${name}: ${message}`);
    const [cmd, a, b] = message.split(' ');
    const id = Number(a);
    const file = (n: number): string => path.join(pool.dir, `thin-${n}.img`);
    const err = (errno: string): DmError => fail('TARGET_MSG', name, errno, `message "${message}"`);
    switch (cmd) {
      case 'create_thin':
        if (pool.thins.has(id)) throw err('EEXIST');
        await fs.writeFile(file(id), '');
        pool.thins.set(id, file(id));
        return '';
      case 'create_snap': {
        const origin = Number(b);
        if (pool.thins.has(id)) throw err('EEXIST');
        const from = pool.thins.get(origin);
        if (from === undefined) throw err('ENODATA');
        const active = this.#k.thinUsers(pool, origin).filter((x) => !x.suspended && !x.readOnly);
        if (active.length > 0)
          throw new Error(
            `fake dm: create_snap of thin ${origin} while ${active.map((x) => x.name).join(', ')} is active and not suspended`,
          );
        await fs.copyFile(from, file(id));
        pool.thins.set(id, file(id));
        return '';
      }
      case 'delete':
        if (!pool.thins.has(id)) throw err('ENODATA');
        if (this.#k.thinUsers(pool, id).length > 0) throw err('EBUSY');
        await fs.rm(pool.thins.get(id) as string, { force: true });
        pool.thins.delete(id);
        return '';
      case 'reserve_metadata_snap':
        if (pool.held) throw err('EBUSY');
        pool.held = true;
        return '';
      case 'release_metadata_snap':
        if (!pool.held) throw err('EINVAL');
        pool.held = false;
        return '';
      case 'set_transaction_id':
        if (id !== pool.transactionId) throw err('EINVAL');
        pool.transactionId = Number(b);
        return '';
      default:
        throw err('EINVAL');
    }
  }

  async list(): Promise<DmDevice[]> {
    this.#check();
    return [...this.#k.devices.values()].map((d) => ({ name: d.name, major: DM_MAJOR, minor: d.minor }));
  }
}
