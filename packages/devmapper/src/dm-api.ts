import { constants } from 'node:os';
import { DevmapperError } from './errors.js';

/** `struct dm_info` of libdevmapper, as booleans and numbers. */
export interface DmInfo {
  exists: boolean;
  suspended: boolean;
  liveTable: boolean;
  inactiveTable: boolean;
  openCount: number;
  eventNr: number;
  major: number;
  minor: number;
  readOnly: boolean;
  targetCount: number;
}

/** One line of a device-mapper table (or of its status): start and length in 512-byte sectors. */
export interface DmTarget {
  start: number;
  length: number;
  type: string;
  /** Table parameters (for `table`) or the status line (for `status`). */
  params: string;
}

export interface DmDevice {
  name: string;
  major: number;
  minor: number;
}

/**
 * The device-mapper operations Convoy needs (the `dmsetup` subset): a port, so the thin-pool
 * driver runs against the kernel (LibDmApi, libdevmapper through koffi) or against FakeDmApi in
 * unit tests. Failures throw DmError; `info` of a missing device returns `exists: false`.
 *
 * Calls are synchronous ioctls today; the interface is async so an implementation may move them
 * off the event loop later without changing callers.
 */
export interface DmApi {
  /** The kernel's device-mapper driver version ("4.47.0"); throws CONVOY_DM_UNAVAILABLE without dm. */
  version(): Promise<string>;
  /** Creates a device with no table (DM_DEVICE_CREATE). */
  create(name: string, options?: { uuid?: string; readOnly?: boolean }): Promise<void>;
  /** Loads a table into the inactive slot (DM_DEVICE_RELOAD); `resume` makes it live. */
  load(name: string, targets: readonly DmTarget[], options?: { readOnly?: boolean }): Promise<void>;
  suspend(name: string, options?: { noFlush?: boolean }): Promise<void>;
  resume(name: string): Promise<void>;
  /** Removes the device (DM_DEVICE_REMOVE; retried briefly while it is busy). */
  remove(name: string): Promise<void>;
  info(name: string): Promise<DmInfo>;
  table(name: string): Promise<DmTarget[]>;
  status(name: string): Promise<DmTarget[]>;
  /** Sends a target message (to sector 0 unless given) and returns the target's response, if any. */
  message(name: string, message: string, sector?: number): Promise<string>;
  list(): Promise<DmDevice[]>;
  /** The device node of an active device (`/dev/mapper/<name>`). */
  devicePath(name: string): string;
}

/** libdevmapper task types (libdevmapper.h `DM_DEVICE_*`). */
export const DmTask = {
  CREATE: 0,
  RELOAD: 1,
  REMOVE: 2,
  SUSPEND: 4,
  RESUME: 5,
  INFO: 6,
  VERSION: 9,
  STATUS: 10,
  TABLE: 11,
  LIST: 13,
  TARGET_MSG: 17,
} as const;

export type DmOperation = keyof typeof DmTask;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** The symbolic name of an errno number (17 → 'EEXIST'). */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** A device-mapper operation failed: `errno` is symbolic ('EEXIST', 'ENXIO', 'EBUSY', …). */
export class DmError extends DevmapperError {
  readonly operation: DmOperation;
  readonly device: string;
  readonly errno: string | undefined;

  constructor(operation: DmOperation, device: string, errno: string | undefined, detail: string, hint?: string) {
    const what = `device-mapper ${operation.toLowerCase()} of ${device} failed${errno === undefined ? '' : ` (${errno})`}`;
    super('CONVOY_DM_FAILED', detail === '' ? what : `${what}: ${detail}`, {
      hint: hint ?? 'see the kernel log (`dmesg`) for the device-mapper message',
      details: { operation, device, errno },
    });
    this.operation = operation;
    this.device = device;
    this.errno = errno;
  }
}

export function isDmError(err: unknown, errno?: string): err is DmError {
  return err instanceof DmError && (errno === undefined || err.errno === errno);
}

export const SECTOR = 512;
