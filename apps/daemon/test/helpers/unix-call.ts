// One HTTP request to a daemon's unix socket, as the control API and plugin tests make them.
import http from 'node:http';

export interface CallReply {
  status: number;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** `body`: a string is sent as is, anything else as JSON. */
export function unixCall(
  socketPath: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<CallReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request({ socketPath, method, path: url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
