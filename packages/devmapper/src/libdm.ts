// DmApi over libdevmapper (the koffi binding is libdm-binding.ts): one dm_task per operation.
import { existsSync } from 'node:fs';
import { DmError, DmTask, errnoName, type DmApi, type DmDevice, type DmInfo, type DmOperation, type DmTarget } from './dm-api.js';
import { dmUnavailable } from './errors.js';
import { bind, decodeNames, type Binding, type Ptr } from './libdm-binding.js';

const DM_CONTROL = '/dev/mapper/control';

/**
 * DmApi over libdevmapper through koffi. Every CREATE/RESUME/REMOVE sets a udev cookie and waits
 * on it, which also makes libdm create or remove the /dev/mapper node itself when udev is absent
 * or disabled (DM_DISABLE_UDEV=1), so nothing ever waits for a udev that will not answer.
 */
export class LibDmApi implements DmApi {
  readonly #b: Binding;

  private constructor(b: Binding) {
    this.#b = b;
  }

  /** Loads libdevmapper and checks the kernel driver answers; throws CONVOY_DM_UNAVAILABLE if not. */
  static async open(): Promise<LibDmApi> {
    if (!existsSync(DM_CONTROL)) {
      throw dmUnavailable(`${DM_CONTROL} does not exist (the kernel has no device-mapper, or it is not loaded)`);
    }
    const api = new LibDmApi(bind());
    await api.version();
    return api;
  }

  devicePath(name: string): string {
    return `/dev/mapper/${name}`;
  }

  async version(): Promise<string> {
    const buf = Buffer.alloc(64);
    this.#run('VERSION', undefined, (t) => {
      if (this.#b.fn.taskGetDriverVersion(t, buf, buf.length) === 0)
        throw new DmError('VERSION', '-', undefined, 'cannot read the driver version');
    });
    return buf.toString('utf8', 0, Math.max(0, buf.indexOf(0))).trim();
  }

  async create(name: string, options: { uuid?: string; readOnly?: boolean } = {}): Promise<void> {
    this.#run(
      'CREATE',
      name,
      undefined,
      (t) => {
        if (options.uuid !== undefined) this.#ok(this.#b.fn.taskSetUuid(t, options.uuid), 'CREATE', name, 'set uuid');
        if (options.readOnly === true) this.#ok(this.#b.fn.taskSetRo(t), 'CREATE', name, 'set read-only');
      },
      true,
    );
  }

  async load(name: string, targets: readonly DmTarget[], options: { readOnly?: boolean } = {}): Promise<void> {
    this.#run('RELOAD', name, undefined, (t) => {
      for (const x of targets)
        this.#ok(this.#b.fn.taskAddTarget(t, BigInt(x.start), BigInt(x.length), x.type, x.params), 'RELOAD', name, 'add target');
      if (options.readOnly === true) this.#ok(this.#b.fn.taskSetRo(t), 'RELOAD', name, 'set read-only');
    });
  }

  async suspend(name: string, options: { noFlush?: boolean } = {}): Promise<void> {
    this.#run('SUSPEND', name, undefined, (t) => {
      if (options.noFlush === true) this.#ok(this.#b.fn.taskNoFlush(t), 'SUSPEND', name, 'set no-flush');
    });
  }

  async resume(name: string): Promise<void> {
    this.#run('RESUME', name, undefined, undefined, true);
  }

  async remove(name: string): Promise<void> {
    this.#run(
      'REMOVE',
      name,
      undefined,
      (t) => {
        this.#ok(this.#b.fn.taskRetryRemove(t), 'REMOVE', name, 'set retry');
      },
      true,
    );
  }

  async info(name: string): Promise<DmInfo> {
    const out: Record<string, number> = {};
    this.#run('INFO', name, (t) => {
      if (this.#b.fn.taskGetInfo(t, out) === 0) throw new DmError('INFO', name, undefined, 'dm_task_get_info failed');
    });
    const n = (k: string): number => out[k] ?? 0;
    return {
      exists: n('exists') !== 0,
      suspended: n('suspended') !== 0,
      liveTable: n('live_table') !== 0,
      inactiveTable: n('inactive_table') !== 0,
      openCount: n('open_count'),
      eventNr: n('event_nr'),
      major: n('major'),
      minor: n('minor'),
      readOnly: n('read_only') !== 0,
      targetCount: n('target_count'),
    };
  }

  async table(name: string): Promise<DmTarget[]> {
    return this.#targets('TABLE', name);
  }

  async status(name: string): Promise<DmTarget[]> {
    return this.#targets('STATUS', name);
  }

  async message(name: string, message: string, sector = 0): Promise<string> {
    let response = '';
    this.#run(
      'TARGET_MSG',
      name,
      (t) => {
        response = this.#b.fn.taskGetMessageResponse(t) ?? '';
      },
      (t) => {
        this.#ok(this.#b.fn.taskSetSector(t, BigInt(sector)), 'TARGET_MSG', name, 'set sector');
        this.#ok(this.#b.fn.taskSetMessage(t, message), 'TARGET_MSG', name, 'set message');
      },
      false,
      message,
    );
    return response;
  }

  async list(): Promise<DmDevice[]> {
    const out: DmDevice[] = [];
    this.#run('LIST', undefined, (t) => {
      const names = this.#b.fn.taskGetNames(t);
      if (names === null) return;
      out.push(...decodeNames(names));
    });
    return out;
  }

  #targets(op: 'TABLE' | 'STATUS', name: string): DmTarget[] {
    const out: DmTarget[] = [];
    this.#run(op, name, (t) => {
      let next: Ptr | null = null;
      do {
        const start = [0n];
        const length = [0n];
        const type: (string | null)[] = [null];
        const params: (string | null)[] = [null];
        next = this.#b.fn.getNextTarget(t, next, start, length, type, params);
        if (type[0] !== null && type[0] !== undefined) {
          out.push({ start: Number(start[0]), length: Number(length[0]), type: type[0], params: (params[0] ?? '').trim() });
        }
      } while (next !== null && next !== 0n);
    });
    return out;
  }

  #ok(rc: number, op: DmOperation, name: string, what: string): void {
    if (rc === 0) throw new DmError(op, name, undefined, `${what} failed${this.#tail()}`);
  }

  #tail(): string {
    const log = this.#b.takeLog();
    return log === '' ? '' : `: ${log}`;
  }

  /**
   * create task → configure → (cookie) → run → read results → destroy. A NULL task is never
   * passed on (libdm would crash the process). When a cookie was set, dm_udev_wait runs even after
   * a failed run: it releases the cookie and flushes libdm's queued /dev/mapper node operations.
   */
  #run(
    op: DmOperation,
    name: string | undefined,
    read?: (t: Ptr) => void,
    setup?: (t: Ptr) => void,
    cookie = false,
    message?: string,
  ): void {
    const fn = this.#b.fn;
    const device = name ?? '-';
    this.#b.takeLog();
    const t = fn.taskCreate(DmTask[op]);
    if (t === null || t === 0n) throw dmUnavailable(`dm_task_create(${op}) failed${this.#tail()}`);
    const cookieBuf = new Uint32Array(1);
    let waitCookie = false;
    try {
      if (name !== undefined) this.#ok(fn.taskSetName(t, name), op, device, 'set name');
      setup?.(t);
      if (cookie) {
        this.#ok(fn.taskSetCookie(t, cookieBuf, 0), op, device, 'set udev cookie');
        waitCookie = true;
      }
      const rc = fn.taskRun(t);
      if (rc === 0) {
        const errno = fn.taskGetErrno(t);
        const log = this.#b.takeLog();
        const detail = [message === undefined ? '' : `message "${message}"`, log].filter((s) => s !== '').join(': ');
        throw new DmError(op, device, errno === 0 ? undefined : errnoName(errno), detail);
      }
      read?.(t);
    } finally {
      if (waitCookie) fn.udevWait(cookieBuf[0] ?? 0);
      fn.taskDestroy(t);
    }
  }
}
