import { existsSync } from 'node:fs';
import * as koffi from 'koffi';
import { DmError, DmTask, errnoName, type DmApi, type DmDevice, type DmInfo, type DmOperation, type DmTarget } from './dm-api.js';
import { dmUnavailable } from './errors.js';

/** The soname Debian and most distributions ship (there is no unversioned libdevmapper.so). */
export const LIBDEVMAPPER = 'libdevmapper.so.1.02.1';

type Ptr = bigint;

/** libdevmapper's functions, typed (koffi returns pointers as BigInt, NULL as null). */
interface LibDm {
  taskCreate(type: number): Ptr | null;
  taskDestroy(t: Ptr): void;
  taskSetName(t: Ptr, name: string): number;
  taskSetUuid(t: Ptr, uuid: string): number;
  taskSetRo(t: Ptr): number;
  taskNoFlush(t: Ptr): number;
  taskRetryRemove(t: Ptr): number;
  taskAddTarget(t: Ptr, start: bigint, size: bigint, type: string, params: string): number;
  taskSetSector(t: Ptr, sector: bigint): number;
  taskSetMessage(t: Ptr, msg: string): number;
  taskGetMessageResponse(t: Ptr): string | null;
  taskSetCookie(t: Ptr, cookie: Uint32Array, flags: number): number;
  udevWait(cookie: number): number;
  taskRun(t: Ptr): number;
  taskGetErrno(t: Ptr): number;
  taskGetInfo(t: Ptr, info: Record<string, number>): number;
  taskGetDriverVersion(t: Ptr, buf: Buffer, size: number): number;
  getNextTarget(
    t: Ptr,
    next: Ptr | null,
    start: bigint[],
    length: bigint[],
    type: (string | null)[],
    params: (string | null)[],
  ): Ptr | null;
  taskGetNames(t: Ptr): Ptr | null;
  snprintf(buf: Buffer, size: number, fmt: string, ...args: unknown[]): number;
}

// libdm's longest log format (the ioctl failure line) takes 10 arguments; reading a few slots past
// what a caller passed only reads its stack frame, never unmapped memory.
const LOG_SLOTS = 16;

/**
 * Binds libdevmapper once per process. The library keeps global state (its log function, queued
 * /dev/mapper node operations), so every LibDmApi shares this binding and its calls are serial.
 */
class Binding {
  readonly fn: LibDm;
  /** libdm's error and warning lines since the last `takeLog()`. */
  #log: string[] = [];

  constructor() {
    let lib: koffi.LibraryHandle;
    let libc: koffi.LibraryHandle;
    try {
      lib = koffi.load(LIBDEVMAPPER);
      libc = koffi.load('libc.so.6');
    } catch (err) {
      throw dmUnavailable(
        `cannot load ${LIBDEVMAPPER} (${(err as Error).message}); install it (Debian: \`apt-get install libdevmapper1.02.1\`)`,
        err,
      );
    }
    koffi.opaque('dm_task');
    koffi.struct('dm_info', {
      exists: 'int',
      suspended: 'int',
      live_table: 'int',
      inactive_table: 'int',
      open_count: 'int32_t',
      event_nr: 'uint32_t',
      major: 'uint32_t',
      minor: 'uint32_t',
      read_only: 'int',
      target_count: 'int32_t',
      deferred_remove: 'int',
      internal_suspend: 'int',
    });
    const f = <T>(decl: string): T => lib.func(decl) as unknown as T;
    this.fn = {
      taskCreate: f('dm_task *dm_task_create(int type)'),
      taskDestroy: f('void dm_task_destroy(dm_task *dmt)'),
      taskSetName: f('int dm_task_set_name(dm_task *dmt, const char *name)'),
      taskSetUuid: f('int dm_task_set_uuid(dm_task *dmt, const char *uuid)'),
      taskSetRo: f('int dm_task_set_ro(dm_task *dmt)'),
      taskNoFlush: f('int dm_task_no_flush(dm_task *dmt)'),
      taskRetryRemove: f('int dm_task_retry_remove(dm_task *dmt)'),
      taskAddTarget: f('int dm_task_add_target(dm_task *dmt, uint64_t start, uint64_t size, const char *ttype, const char *params)'),
      taskSetSector: f('int dm_task_set_sector(dm_task *dmt, uint64_t sector)'),
      taskSetMessage: f('int dm_task_set_message(dm_task *dmt, const char *msg)'),
      taskGetMessageResponse: f('const char *dm_task_get_message_response(dm_task *dmt)'),
      taskSetCookie: f('int dm_task_set_cookie(dm_task *dmt, uint32_t *cookie, uint16_t flags)'),
      udevWait: f('int dm_udev_wait(uint32_t cookie)'),
      taskRun: f('int dm_task_run(dm_task *dmt)'),
      taskGetErrno: f('int dm_task_get_errno(dm_task *dmt)'),
      taskGetInfo: f('int dm_task_get_info(dm_task *dmt, _Out_ dm_info *info)'),
      taskGetDriverVersion: f('int dm_task_get_driver_version(dm_task *dmt, uint8_t *version, size_t size)'),
      getNextTarget: f(
        'void *dm_get_next_target(dm_task *dmt, void *next, _Out_ uint64_t *start, _Out_ uint64_t *length, _Out_ const char **target_type, _Out_ const char **params)',
      ),
      taskGetNames: f('void *dm_task_get_names(dm_task *dmt)'),
      snprintf: libc.func('int snprintf(uint8_t *buf, size_t size, const char *fmt, ...)') as unknown as LibDm['snprintf'],
    };
    this.#installLog(lib);
  }

  /**
   * libdm logs through `dm_log_with_errno_init(fn)`; fn is variadic (printf-style). koffi cannot
   * declare a variadic callback, so it takes fixed 64-bit slots where the x86-64 ABI puts integer
   * and pointer varargs, and formats them through libc's snprintf (libdm logs no floating point).
   */
  #installLog(lib: koffi.LibraryHandle): void {
    const slots = Array.from({ length: LOG_SLOTS }, (_, i) => `uint64_t a${i}`).join(', ');
    const LogFn = koffi.proto(`void convoy_dm_log(int level, const char *file, int line, int dm_errno_or_class, const char *f, ${slots})`);
    const init = lib.func('void dm_log_with_errno_init(void *fn)') as unknown as (fn: bigint) => void;
    const buf = Buffer.alloc(2048);
    const cb = koffi.register(
      (level: number, _file: string, _line: number, _errno: number, fmt: string | null, ...args: (number | bigint)[]): void => {
        if ((level & 7) > 4 || fmt === null) return; // keep fatal/error/warning; drop notice, info, debug
        const vargs: unknown[] = [];
        for (const a of args) vargs.push('uint64_t', a);
        const n = this.fn.snprintf(buf, buf.length, fmt, ...vargs);
        const text = buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))).toString('utf8');
        if (this.#log.at(-1) !== text) this.#log.push(text); // retried removes repeat their line
        if (this.#log.length > 20) this.#log.shift();
      },
      koffi.pointer(LogFn),
    );
    init(cb);
  }

  takeLog(): string {
    const text = this.#log.join('; ');
    this.#log = [];
    return text;
  }
}

let binding: Binding | undefined;

function bind(): Binding {
  binding ??= new Binding();
  return binding;
}

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
      // struct dm_names { uint64_t dev; uint32_t next; char name[]; }: `next` is the byte offset
      // of the next entry from this one, 0 on the last; an empty list is one entry with dev 0.
      let p = names;
      for (;;) {
        const dev = BigInt(koffi.decode(p, 0, 'uint64_t') as number | bigint);
        const next = koffi.decode(p, 8, 'uint32_t') as number;
        if (dev === 0n && next === 0) break;
        const name = koffi.decode(p, 12, 'char', -1) as string;
        out.push({ name, major: Number((dev >> 8n) & 0xfffn), minor: Number((dev & 0xffn) | ((dev >> 12n) & 0xfff00n)) });
        if (next === 0) break;
        p += BigInt(next);
      }
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
