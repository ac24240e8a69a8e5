import type { Command } from 'commander';
import type { App } from '../app/app.js';
import { redactUrl } from '../redis/connection.js';
import { checkRedisSettings } from '../redis/settings.js';
import { describeSentinel } from '../redis/sentinel-view.js';
import { parseRedisTarget } from '../redis/target.js';
import { withApp } from './with-app.js';
import { tty } from './terminal-text.js';
import { checkPartners, unusedVariablesWarning } from './partner-checks.js';

/**
 * `acronis-onboard check`: proves the configuration works end to end before anything is
 * enqueued — Redis answers and keeps what it is given (the verdict `work` and `serve` give),
 * the data centre issues a token for the configured credentials (a new one: a cached token
 * only says they worked once), and the partner tenant that will receive the customers exists
 * and is one we may create customers under. With a partners file, each partner so, and its
 * profile against its offer (src/cli/partner-checks.ts).
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check the configuration: Redis, the API client credentials and the partner tenant')
    .action(() =>
      withApp({}, async (app) => {
        if (app.config.PARTNERS_FILE) return checkEveryPartner(app);
        const { config, acronis } = app;
        const redisLine = await redisVerdict(app);
        const sentinelLine = await sentinelVerdict(app);
        await acronis.issueFreshToken();
        const apiClient = await acronis.getApiClient(acronis.clientId);
        const partnerTenantId = config.ACRONIS_PARENT_TENANT_ID ?? apiClient.tenant_id;
        const partner = await acronis.getTenant(partnerTenantId);
        const own = config.ACRONIS_PARENT_TENANT_ID ? '' : " — the API client's own tenant";
        console.log(redisLine);
        if (sentinelLine) console.log(sentinelLine);
        console.log(`Acronis API      ok (${acronis.baseUrl}: a new token issued for the API client)`);
        console.log(
          tty`API client       ${apiClient.client_id} in tenant ${apiClient.tenant_id} (${apiClient.status ?? 'status unknown'})`,
        );
        console.log(tty`Parent tenant    ${partner.name} (${partner.kind}, ${partner.id})` + own);
        if (partner.kind !== 'partner' && partner.kind !== 'folder') {
          console.log(
            tty`Warning          customers can be created only under a partner or folder tenant, not under a ${partner.kind}`,
          );
          process.exitCode = 1;
        }
      }),
    );
}

/** Redis, then each partner of PARTNERS_FILE; a partner refused (or not fit to receive customers) makes the exit 2. */
async function checkEveryPartner(app: App): Promise<void> {
  console.log(await redisVerdict(app));
  const sentinelLine = await sentinelVerdict(app);
  if (sentinelLine) console.log(sentinelLine);
  const unused = unusedVariablesWarning(app.config, app.partners.all);
  if (unused) console.log(unused);
  const verdicts = await checkPartners(app);
  for (const verdict of verdicts) console.log(verdict.lines.join('\n'));
  const failing = verdicts.filter((v) => !v.ok).map((v) => v.partner);
  if (failing.length === 0) return;
  console.log(tty`${failing.length} of ${verdicts.length} partners cannot receive customers: ${failing.join(', ')}`);
  process.exitCode = 2;
}

/** The Redis line: ok, or the same warning `work` and `serve` log (an evicting Redis stops the check, exit 2). */
async function redisVerdict(app: App): Promise<string> {
  const where = `${redactUrl(app.config.REDIS_URL)}, prefix ${app.config.QUEUE_PREFIX}`;
  const warnings = await checkRedisSettings(app.redis, redactUrl(app.config.REDIS_URL));
  if (warnings.length === 0) return `Redis            ok (${where})`;
  return tty`Redis            warning (${where}): ${warnings.join('; ')}`;
}

/**
 * With REDIS_URL naming Sentinels: which primary they give, whether a failover could happen now,
 * and whether each replica up keeps what it is given (it may become the primary).
 */
async function sentinelVerdict(app: App): Promise<string | undefined> {
  const target = parseRedisTarget(app.config.REDIS_URL);
  if (target.kind !== 'sentinel') return undefined;
  const view = await describeSentinel(target);
  const lines = [tty`Redis Sentinel   ${view.healthy ? 'ok' : 'warning'} (${view.line})`];
  if (view.replicaWarnings.length > 0) lines.push(tty`Redis replicas   warning (${view.replicaWarnings.join('; ')})`);
  else if (view.replicasChecked > 0)
    lines.push(`Redis replicas   ok (${view.replicasChecked} checked: noeviction, persistence on)`);
  return lines.join('\n');
}
