// The socket file's life cycle: refuse a path something live answers on, replace a stale one,
// bind under a private temporary name so the final path appears with its permissions already set,
// and on exit remove the path only while it is still the socket we created.
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { errorCode } from '@convoy/errors';
import { SocketInUseError, SocketPathError } from './errors.js';

/** sun_path holds 108 bytes including the NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface SocketIdentity {
  dev: number;
  ino: number;
}

/**
 * Throws SocketInUseError if a server accepts connections at `socketPath`, SocketPathError if the
 * path is something other than a socket; returns quietly when it is absent or a dead socket
 * (which the caller's rename then replaces).
 */
export async function checkSocketPath(socketPath: string, probeTimeoutMs = 2000): Promise<void> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new SocketPathError(socketPath, `longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socketPath)).isSocket();
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw new SocketPathError(socketPath, `cannot inspect it (${errorCode(err) ?? 'error'})`, { cause: err });
  }
  if (!isSocket) throw new SocketPathError(socketPath, 'it exists and is not a socket');
  if (await answers(socketPath, probeTimeoutMs)) throw new SocketInUseError(socketPath);
}

/** True if something accepts a connection on the socket (or does not refuse it in time). */
function answers(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    const done = (live: boolean | Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (live instanceof Error) reject(live);
      else resolve(live);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (err) => {
      const code = errorCode(err);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') done(false);
      else done(new SocketPathError(socketPath, `cannot probe it (${code ?? 'error'})`, { cause: err }));
    });
  });
}

export interface PreparedSocket {
  /** Where to listen: inside a 0700 directory next to the final path, so nobody else can connect yet. */
  tempPath: string;
  /** After listening: set mode (and group), move the socket into place, return its identity. */
  publish(): Promise<SocketIdentity>;
  /** Remove the temporary directory (after a failure, or once published). */
  cleanup(): Promise<void>;
}

export async function prepareSocket(socketPath: string, mode: number, gid?: number): Promise<PreparedSocket> {
  const dir = dirname(socketPath);
  await mkdir(dir, { recursive: true });
  const tempDir = await mkdtemp(join(dir, `.${basename(socketPath).slice(0, 16)}-`)); // mode 0700
  const tempPath = join(tempDir, randomBytes(3).toString('hex'));
  if (Buffer.byteLength(tempPath) > MAX_SOCKET_PATH_BYTES) {
    await rm(tempDir, { recursive: true, force: true });
    throw new SocketPathError(socketPath, `its directory path is too long for a unix socket (${MAX_SOCKET_PATH_BYTES} bytes)`);
  }
  const cleanup = (): Promise<void> => rm(tempDir, { recursive: true, force: true });
  return {
    tempPath,
    cleanup,
    async publish() {
      await chmod(tempPath, mode);
      if (gid !== undefined) await chown(tempPath, -1, gid);
      await rename(tempPath, socketPath); // atomic; replaces a stale socket
      await cleanup();
      const st = await lstat(socketPath);
      return { dev: st.dev, ino: st.ino };
    },
  };
}

/** Unlinks `socketPath` only if it is still the socket `ours` identifies; true if it did. */
export async function unlinkIfOurs(socketPath: string, ours: SocketIdentity): Promise<boolean> {
  try {
    const st = await lstat(socketPath);
    if (!st.isSocket() || st.dev !== ours.dev || st.ino !== ours.ino) return false;
    await unlink(socketPath);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
