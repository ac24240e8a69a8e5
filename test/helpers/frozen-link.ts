import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP link to a real Redis that the test can freeze, as a frozen host or a half-open
 * connection is: while frozen nothing goes through either way and every socket stays open, so a
 * client sees no outage (no error, no reconnect) and its commands get no answer, ever. Only the
 * commands through the link are frozen: the Redis itself, and the test's own connections to it,
 * go on as usual (the shared 6379 is safe to use behind one).
 */
export interface FreezableLink {
  /** REDIS_URL for the command under test. */
  url: string;
  freeze(): void;
  /** Resolves once a client has sent, since the freeze, a command holding `text` (a key): it now waits for good. */
  untilSent(text: string): Promise<void>;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

export async function startFreezableLink(target = { host: '127.0.0.1', port: 6379 }): Promise<FreezableLink> {
  const sockets = new Set<Socket>();
  let frozen = false;
  // What clients sent while frozen (RESP carries keys as plain text), and who waits to see it.
  let held = '';
  const waiting = new Set<() => void>();

  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (!frozen) return upstream.write(chunk);
      held += chunk.toString('latin1');
      for (const check of waiting) check();
    });
    upstream.on('data', (chunk: Buffer) => frozen || client.write(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    url: `redis://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
    },
    untilSent(text) {
      return new Promise((resolve) => {
        const check = () => {
          if (!held.includes(text)) return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
