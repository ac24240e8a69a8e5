import type { Redis } from 'ioredis';
import { ConfigError } from '../config.js';
import { connectSentinelGroupNode } from './connection.js';
import { checkRedisSettings } from './settings.js';
import type { SentinelTarget } from './target.js';

/**
 * What the Sentinels of REDIS_URL say about the install's primary, for `check`: where it is,
 * how many replicas could take over, and whether the Sentinels can agree on a failover
 * (`SENTINEL CKQUORUM`). The first Sentinel that answers is asked; the others are only named
 * when none does. `healthy` is false when a failover could not happen now. Each replica that is
 * up gets the settings check `work` gives the primary, since any of them may become it.
 */
export interface SentinelView {
  line: string;
  healthy: boolean;
  /** What the settings check says of each replica up (none when all keep what they are given). */
  replicaWarnings: string[];
  replicasChecked: number;
}

type Node = { host: string; port: number };

export async function describeSentinel(target: SentinelTarget): Promise<SentinelView> {
  const refusals: string[] = [];
  for (const node of target.sentinels) {
    const where = `${node.host}:${node.port}`;
    const sentinel = connectSentinelGroupNode(target, node, 'sentinel');
    sentinel.on('error', () => undefined);
    try {
      await sentinel.connect();
      const { view, replicasUp } = await askSentinel(sentinel, target.name, where);
      sentinel.disconnect();
      return { ...view, ...(await checkReplicas(target, replicasUp)) };
    } catch (err) {
      refusals.push(`${where}: ${(err as Error).message}`);
    } finally {
      sentinel.disconnect();
    }
  }
  return {
    line: `no Sentinel answers (${refusals.join('; ')})`,
    healthy: false,
    replicaWarnings: [],
    replicasChecked: 0,
  };
}

async function askSentinel(
  sentinel: Redis,
  name: string,
  where: string,
): Promise<{ view: Pick<SentinelView, 'line' | 'healthy'>; replicasUp: Node[] }> {
  const primary = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
  if (!primary)
    return { view: { line: `Sentinel ${where} monitors no primary named "${name}"`, healthy: false }, replicasUp: [] };
  const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', name)) as string[][];
  const up = replicas.filter((fields) => !/s_down|o_down|disconnected/.test(fieldOf(fields, 'flags')));
  const quorum = await sentinel.call('SENTINEL', 'CKQUORUM', name).then(
    (reply) => ({ ok: true, text: String(reply) }),
    (err: Error) => ({ ok: false, text: err.message }),
  );
  const line =
    `primary "${name}" at ${primary[0]}:${primary[1]} (as Sentinel ${where} sees it), ` +
    `${up.length} of ${replicas.length} replica${replicas.length === 1 ? '' : 's'} up; ${quorum.text}`;
  const replicasUp = up.map((fields) => ({ host: fieldOf(fields, 'ip'), port: Number(fieldOf(fields, 'port')) }));
  return { view: { line, healthy: quorum.ok && up.length > 0 }, replicasUp };
}

/** The primary's settings check on each replica, its verdict (an evicting one included) as a warning naming it. */
async function checkReplicas(
  target: SentinelTarget,
  replicas: Node[],
): Promise<Pick<SentinelView, 'replicaWarnings' | 'replicasChecked'>> {
  const replicaWarnings: string[] = [];
  for (const node of replicas) {
    const where = `${node.host}:${node.port}`;
    const server = connectSentinelGroupNode(target, node, 'server');
    server.on('error', () => undefined);
    try {
      await server.connect();
      for (const warning of await checkRedisSettings(server, where))
        replicaWarnings.push(`replica ${where}: ${warning}`);
    } catch (err) {
      const reason = err instanceof ConfigError ? err.problems.map((p) => p.reason).join('; ') : (err as Error).message;
      replicaWarnings.push(`replica ${where}: ${reason}`);
    } finally {
      server.disconnect();
    }
  }
  return { replicaWarnings, replicasChecked: replicas.length };
}

/** SENTINEL REPLICAS answers each replica as a flat [field, value, field, value, …] list. */
function fieldOf(fields: string[], name: string): string {
  const at = fields.indexOf(name);
  return at >= 0 ? (fields[at + 1] ?? '') : '';
}
