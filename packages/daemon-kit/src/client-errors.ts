// Requests node:http refuses before any handler sees them, answered like every other failure.
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Why node:http refused a request, in words (no client bytes echoed). */
function clientErrorText(code: string | undefined, status: number): string {
  if (status === 431) return 'request headers too large';
  if (status === 408) return 'request not received in time';
  return `malformed HTTP request${code === undefined ? '' : ` (${code})`}`;
}

/**
 * node:http answers a request it cannot parse (an invalid method or target, bad headers or
 * chunking, headers too large, a request not received in time) with a bare status and no body,
 * and closes a CONNECT request's connection without any answer. Installs `clientError` and
 * `connect` handlers that answer them with `body(status, message)` as JSON instead, then close the
 * connection (the parser cannot go on after such an error). A socket that already carried an
 * answer, or can no longer be written, is just closed.
 */
export function answerClientErrors(
  server: Server,
  body: (status: number, message: string) => object,
  contentType = 'application/json',
): void {
  const answer = (socket: Duplex & { bytesWritten?: number }, status: number, message: string): void => {
    if (!socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const json = `${JSON.stringify(body(status, message))}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    answer(socket, status, clientErrorText(err.code, status));
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    answer(socket, 405, 'method CONNECT not allowed');
  });
}
