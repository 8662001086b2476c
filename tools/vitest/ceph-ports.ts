import { createServer } from 'node:net';

/** tools/ceph-s3.sh puts radosgw on PORT and the monitor on PORT + 700. */
export const MON_PORT_OFFSET = 700;

/** A port P on 127.0.0.1 with P + 700 free too, below the ephemeral range (32768+). */
export async function freeCephPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if ((await portFree(port)) && (await portFree(port + MON_PORT_OFFSET))) return port;
  }
  throw new Error('no free port pair (P, P+700) found on 127.0.0.1 in 20000-30700');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
