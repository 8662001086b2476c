// The koffi binding of libdevmapper: its functions typed, loaded once per process, and its log
// captured into a ring of recent lines (for error messages). libdm.ts makes DmApi of it.
import * as koffi from 'koffi';
import type { DmDevice } from './dm-api.js';
import { dmUnavailable } from './errors.js';

/** The soname Debian and most distributions ship (there is no unversioned libdevmapper.so). */
export const LIBDEVMAPPER = 'libdevmapper.so.1.02.1';

export type Ptr = bigint;

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
export class Binding {
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

export function bind(): Binding {
  binding ??= new Binding();
  return binding;
}

/**
 * The devices of a LIST answer. struct dm_names { uint64_t dev; uint32_t next; char name[]; }:
 * `next` is the byte offset of the next entry from this one, 0 on the last; an empty list is one
 * entry with dev 0.
 */
export function decodeNames(names: Ptr): DmDevice[] {
  const out: DmDevice[] = [];
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
  return out;
}
