import type { Command } from 'commander';
import { redactUrl } from '../redis/connection.js';
import { withApp } from './with-app.js';
import { tty } from './terminal-text.js';

/**
 * `acronis-onboard check`: proves the configuration works end to end before anything is
 * enqueued — Redis answers, the API client can get a token, and the partner tenant that will
 * receive the customers exists and is one we may create customers under.
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check the configuration: Redis, the API client credentials and the partner tenant')
    .action(() =>
      withApp({}, async (app) => {
        const { config, acronis } = app;
        const apiClient = await acronis.getApiClient(acronis.clientId);
        const partnerTenantId = config.ACRONIS_PARENT_TENANT_ID ?? apiClient.tenant_id;
        const partner = await acronis.getTenant(partnerTenantId);
        const own = config.ACRONIS_PARENT_TENANT_ID ? '' : " — the API client's own tenant";
        console.log(`Redis            ok (${redactUrl(config.REDIS_URL)}, prefix ${config.QUEUE_PREFIX})`);
        console.log(`Acronis API      ok (${acronis.baseUrl})`);
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
