import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { checkSocketPath, prepareSocket, unlinkIfOurs, type SocketIdentity } from './socket-file.js';

export interface UnixHttpOptions {
  socketPath: string;
  mode: number;
  gid?: number;
  /** close() waits this long for in-flight requests before cutting connections. */
  drainTimeoutMs: number;
  /** Called when close() starts (answers should then carry `Connection: close`). */
  onDrain?: () => void;
}

/**
 * Serves an http.Server on a unix socket with the socket-file life cycle of socket-file.ts:
 * refuses a live socket, replaces a stale one, publishes the socket with its mode already set,
 * and on close unlinks it only while it is still ours, letting in-flight requests finish.
 * Used by the plugin socket and by the daemon's control socket.
 */
export async function listenUnixHttp(httpServer: Server, options: UnixHttpOptions): Promise<{ close(): Promise<void> }> {
  const socketPath = resolve(options.socketPath);
  await checkSocketPath(socketPath);
  const prepared = await prepareSocket(socketPath, options.mode, options.gid);
  let identity: SocketIdentity;
  try {
    await new Promise<void>((ok, fail) => {
      httpServer.once('error', fail);
      httpServer.listen(prepared.tempPath, () => {
        httpServer.off('error', fail);
        ok();
      });
    });
    identity = await prepared.publish();
  } catch (err) {
    httpServer.close();
    await prepared.cleanup();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      options.onDrain?.();
      const closed = new Promise<void>((ok) => httpServer.close(() => ok()));
      httpServer.closeIdleConnections();
      await unlinkIfOurs(socketPath, identity).catch(() => false);
      const cut = setTimeout(() => httpServer.closeAllConnections(), options.drainTimeoutMs);
      // Connections that finish their request close (Connection: close); catch any that went idle.
      const sweep = setInterval(() => httpServer.closeIdleConnections(), 50);
      try {
        await closed;
      } finally {
        clearTimeout(cut);
        clearInterval(sweep);
      }
    })();
    return closing;
  };
  return { close };
}
