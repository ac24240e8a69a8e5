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
 * It can also stand for a Redis that goes away at a chosen command and comes back: freeze it at
 * the command (`freezeAt` by text, before or after it reaches Redis; `freezeOn` by pattern and
 * count), `cut` every connection and refuse new ones (clients see the outage and reconnect,
 * sending again what got no answer), and `restore` it when the test has seen what it waits for.
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
  /**
   * Freezes the link as a client sends the `nth` command matching `pattern` (RESP text, flag g):
   * that command is held, in flight for its client, until the connection goes.
   */
  freezeOn(pattern: RegExp, nth?: number): void;
  /** Resolves once the link is frozen. */
  untilFrozen(): Promise<void>;
  /** Resolves once a client has sent, since the freeze, a command holding `text` (a key): it now waits for good. */
  untilSent(text: string): Promise<void>;
  /** Drops every connection and refuses new ones (a dead Redis, to the command); what was held is lost. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port, unfrozen: the command's Redis is back. */
  restore(): Promise<void>;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

type Trigger =
  | { kind: 'text'; text: string; where: 'before' | 'after'; fired(): void }
  | { kind: 'pattern'; pattern: RegExp; left: number };

export async function startFreezableLink(target = { host: '127.0.0.1', port: 6379 }): Promise<FreezableLink> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let trigger: Trigger | undefined;
  // What clients sent while frozen (RESP carries keys as plain text), and who waits to see it.
  let held = '';
  const waiting = new Set<() => void>();
  const tell = () => {
    for (const check of waiting) check();
  };
  const waitFor = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
    });

  /** Whether `chunk` (after `tail`, the end of the client's previous chunk) sets the trigger off: 'passed' went to Redis. */
  const triggered = (tail: string, text: string, upstream: Socket, raw: Buffer): 'passed' | 'held' | undefined => {
    const armed = trigger;
    if (frozen || !armed) return undefined;
    if (armed.kind === 'pattern') {
      armed.left -= text.match(armed.pattern)?.length ?? 0;
      if (armed.left > 0) return undefined;
    } else if (!(tail + text).includes(armed.text)) return undefined;
    trigger = undefined;
    frozen = true;
    const passed = armed.kind === 'text' && armed.where === 'after';
    if (passed) upstream.write(raw);
    if (armed.kind === 'text') armed.fired();
    tell();
    return passed ? 'passed' : 'held';
  };

  const server = createServer((client) => {
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
      tell();
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
      return new Promise((fired) => (trigger = { kind: 'text', text, where, fired }));
    },
    freezeOn(pattern, nth = 1) {
      trigger = { kind: 'pattern', pattern, left: nth };
    },
    untilFrozen: () => waitFor(() => frozen),
    untilSent: (text) => waitFor(() => held.includes(text)),
    async cut() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      frozen = false;
      held = '';
      if (server.listening) return;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
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
