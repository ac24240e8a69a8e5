import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP link to a real Redis that the test can freeze, as a frozen host or a half-open
 * connection is: while frozen nothing goes through either way and every socket stays open, so a
 * client sees no outage (no error, no reconnect) and its commands get no answer, ever. Only the
 * commands through the link are frozen: the Redis itself, and the test's own connections to it,
 * go on as usual (the shared 6379 is safe to use behind one).
 *
 * It can also stand for a Redis that goes away and comes back, at a chosen command: freeze it at
 * the command (`freezeAt`), `cut` every connection (clients see the outage and reconnect, sending
 * again what got no answer), and `restore` it when the test has seen what it waits for.
 */
export interface FreezableLink {
  /** REDIS_URL for the command under test. */
  url: string;
  freeze(): void;
  /**
   * Freezes the link at the first command sent from now on that holds `text`: `'before'` it,
   * which never reaches Redis, or `'after'` it, which Redis carries out but whose answer (and
   * everything after) is held. Resolves once it froze.
   */
  freezeAt(text: string, where: 'before' | 'after'): Promise<void>;
  /** Resolves once a client has sent, since the freeze, a command holding `text` (a key): it now waits for good. */
  untilSent(text: string): Promise<void>;
  /** Drops every connection, and every new one until `restore`: what was held is lost, as in an outage. */
  cut(): void;
  /** Lets connections through again, unfrozen. */
  restore(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

export async function startFreezableLink(target = { host: '127.0.0.1', port: 6379 }): Promise<FreezableLink> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let cut = false;
  let trigger: { text: string; where: 'before' | 'after'; fired(): void } | undefined;
  // What clients sent while frozen (RESP carries keys as plain text), and who waits to see it.
  let held = '';
  const waiting = new Set<() => void>();

  /** Whether `chunk` (after `tail`, the end of the client's previous chunk) sets the trigger off; freezes then. */
  const triggered = (tail: string, chunk: string, upstream: Socket, raw: Buffer): 'passed' | 'held' | undefined => {
    const armed = trigger;
    if (frozen || !armed || !(tail + chunk).includes(armed.text)) return undefined;
    trigger = undefined;
    if (armed.where === 'after') upstream.write(raw);
    frozen = true;
    armed.fired();
    return armed.where === 'after' ? 'passed' : 'held';
  };

  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(target.port, target.host);
    let tail = '';
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
      const text = chunk.toString('latin1');
      const outcome = triggered(tail, text, upstream, chunk);
      tail = text.slice(-200);
      if (outcome === 'passed') return;
      if (!frozen) return upstream.write(chunk);
      held += text;
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
    freezeAt(text, where) {
      return new Promise((fired) => (trigger = { text, where, fired }));
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
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
      frozen = false;
      held = '';
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
