import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { RedisKeys } from '../../src/redis/keys.js';

/**
 * A TCP link to a real Redis that the test can freeze, as a frozen host or a half-open
 * connection is: while frozen nothing goes through either way and every socket stays open, so a
 * client sees no outage (no error, no reconnect) and its commands get no answer, ever. Only the
 * commands through the link are frozen: the Redis itself, and the test's own connections to it,
 * go on as usual (the shared 6379 is safe to use behind one).
 *
 * Or cut: every connection dropped and new ones refused, as a Redis that died is to the command
 * behind the link, while the Redis itself stays up for everyone else; until it is restored.
 */
export interface FreezableLink {
  /** REDIS_URL for the command under test. */
  url: string;
  freeze(): void;
  /**
   * Freezes the link as a client sends the `nth` command matching `pattern` (RESP text, flag g):
   * that command is held, in flight for its client, until the connection goes.
   */
  freezeOn(pattern: RegExp, nth?: number): void;
  /** Resolves once the link is frozen. */
  untilFrozen(): Promise<void>;
  /** Drops every connection and refuses new ones (a dead Redis, to the command); a freeze ends with it. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port: the command's Redis is back. */
  restore(): Promise<void>;
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
  let trigger: { pattern: RegExp; left: number } | undefined;
  const triggered = (chunk: Buffer) => {
    if (!trigger) return false;
    trigger.left -= chunk.toString('latin1').match(trigger.pattern)?.length ?? 0;
    if (trigger.left > 0) return false;
    trigger = undefined;
    return true;
  };

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
      if (!frozen && triggered(chunk)) frozen = true;
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
    freezeOn(pattern, nth = 1) {
      trigger = { pattern, left: nth };
    },
    untilFrozen() {
      return new Promise((resolve) => {
        const check = () => {
          if (!frozen) return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      });
    },
    async cut() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
      frozen = false;
      held = '';
    },
    async restore() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
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
      if (!server.listening) return;
      server.close();
      await once(server, 'close');
    },
  };
}

/** A client's HGETALL of a batch's record under `prefix`, as RESP text (for `freezeOn`). */
export function batchRead(prefix: string): RegExp {
  const batchKey = new RedisKeys(prefix).batch('').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`hgetall\\r\\n\\$\\d+\\r\\n${batchKey}[^:\\r]+\\r\\n`, 'gi');
}
