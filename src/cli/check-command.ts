import type { Command } from 'commander';
import { createAcronisClientFromConfig } from '../acronis/client.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { connectOrExplain, createRedis, redactUrl } from '../redis.js';

/**
 * `acronis-onboard check`: proves the configuration works end to end before anything is
 * enqueued — Redis answers, the API client can get a token, and the partner tenant that will
 * receive the customers exists and is one we may create customers under.
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check the configuration: Redis, the API client credentials and the partner tenant')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
      const redis = await connectOrExplain(createRedis(config.REDIS_URL, 'fail-fast'), config.REDIS_URL);
      try {
        const client = createAcronisClientFromConfig(config, { redis, logger });
        const apiClient = await client.getApiClient(client.clientId);
        const partnerTenantId = config.ACRONIS_PARENT_TENANT_ID ?? apiClient.tenant_id;
        const partner = await client.getTenant(partnerTenantId);
        console.log(`Redis            ok (${redactUrl(config.REDIS_URL)}, prefix ${config.QUEUE_PREFIX})`);
        console.log(`Acronis API      ok (${client.baseUrl})`);
        console.log(
          `API client       ${apiClient.client_id} in tenant ${apiClient.tenant_id} (${apiClient.status ?? 'status unknown'})`,
        );
        console.log(
          `Parent tenant    ${partner.name} (${partner.kind}, ${partner.id})${config.ACRONIS_PARENT_TENANT_ID ? '' : " — the API client's own tenant"}`,
        );
        if (partner.kind !== 'partner' && partner.kind !== 'folder') {
          console.log(
            `Warning          customers can be created only under a partner or folder tenant, not under a ${partner.kind}`,
          );
          process.exitCode = 1;
        }
      } finally {
        redis.disconnect();
      }
    });
}
