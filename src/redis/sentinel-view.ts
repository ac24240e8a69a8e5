import type { SentinelTarget } from './target.js';
import { connectSentinel } from './connection.js';

/**
 * What the Sentinels of REDIS_URL say about the install's primary, for `check`: where it is,
 * how many replicas could take over, and whether the Sentinels can agree on a failover
 * (`SENTINEL CKQUORUM`). The first Sentinel that answers is asked; the others are only named
 * when none does. `healthy` is false when a failover could not happen now.
 */
export interface SentinelView {
  line: string;
  healthy: boolean;
}

export async function describeSentinel(target: SentinelTarget): Promise<SentinelView> {
  const refusals: string[] = [];
  for (const node of target.sentinels) {
    const where = `${node.host}:${node.port}`;
    const sentinel = connectSentinel(target, node);
    sentinel.on('error', () => undefined);
    try {
      await sentinel.connect();
      return await askSentinel(sentinel, target.name, where);
    } catch (err) {
      refusals.push(`${where}: ${(err as Error).message}`);
    } finally {
      sentinel.disconnect();
    }
  }
  return { line: `no Sentinel answers (${refusals.join('; ')})`, healthy: false };
}

async function askSentinel(
  sentinel: ReturnType<typeof connectSentinel>,
  name: string,
  where: string,
): Promise<SentinelView> {
  const primary = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
  if (!primary) return { line: `Sentinel ${where} monitors no primary named "${name}"`, healthy: false };
  const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', name)) as string[][];
  const usable = replicas.filter((fields) => !/s_down|o_down|disconnected/.test(fieldOf(fields, 'flags'))).length;
  const quorum = await sentinel.call('SENTINEL', 'CKQUORUM', name).then(
    (reply) => ({ ok: true, text: String(reply) }),
    (err: Error) => ({ ok: false, text: err.message }),
  );
  const line =
    `primary "${name}" at ${primary[0]}:${primary[1]} (as Sentinel ${where} sees it), ` +
    `${usable} of ${replicas.length} replica${replicas.length === 1 ? '' : 's'} up; ${quorum.text}`;
  return { line, healthy: quorum.ok && usable > 0 };
}

/** SENTINEL REPLICAS answers each replica as a flat [field, value, field, value, …] list. */
function fieldOf(fields: string[], name: string): string {
  const at = fields.indexOf(name);
  return at >= 0 ? (fields[at + 1] ?? '') : '';
}
