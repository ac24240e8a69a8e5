import { randomBytes } from 'node:crypto';
import type { RunningPipedriveSimulator } from '../simulator/pipedrive/index.js';
import { wonDealSource } from '../simulator/pipedrive/source-file.js';
import type { DemoSystem } from './demo-system.js';

/**
 * The demo's Pipedrive (docs/sources.md "Pipedrive"): a simulated Pipedrive whose webhook carries
 * Basic credentials made for the run, behind `pipedrive.json` in the demo's SOURCES_DIR; a deal
 * won in it is onboarded (its product as the workstation quota) and a note is written back to its
 * organization. Kept beside demo-sources.ts, which starts it with the other systems.
 */

export async function startDemoPipedrive(name: (what: string) => string): Promise<DemoSystem> {
  const { startPipedriveSimulator } = await import('../simulator/pipedrive/index.js');
  const secret = () => randomBytes(18).toString('hex');
  const credentials = { user: 'acronis-onboard', password: secret(), token: secret() };
  const env = {
    user: name('PIPEDRIVE_WEBHOOK_USER'),
    password: name('PIPEDRIVE_WEBHOOK_PASSWORD'),
    token: name('PIPEDRIVE_TOKEN'),
  };
  // Short retries: the demo's run is minutes, not Pipedrive's 3, 30 and 150 seconds.
  const pipedrive: RunningPipedriveSimulator = await startPipedriveSimulator({
    apiToken: credentials.token,
    retryDelaysMs: [1000, 5000],
  });
  return {
    fileName: 'pipedrive.json',
    file: wonDealSource(pipedrive, env),
    secretEnv: { [env.user]: credentials.user, [env.password]: credentials.password, [env.token]: credentials.token },
    /** Points the webhook at the server and wins the deal. */
    feed(serverUrl) {
      pipedrive.registerWebhook({
        url: `${serverUrl}/webhooks/sources/pipedrive`,
        user: credentials.user,
        password: credentials.password,
        action: 'change',
      });
      const { deal } = pipedrive.addDeal({
        organization: 'Fabrikam Fiber (won in Pipedrive)',
        country: 'Estonia',
        person: { firstName: 'Mari', lastName: 'Tamm', email: 'it@fabrikam-fiber.example' },
        products: [{ name: 'Acronis Workstation', quantity: 10 }],
      });
      pipedrive.setDealStatus(deal.id, 'won');
      const orgId = deal.org_id!;
      return {
        what: `Pipedrive: deal ${deal.id} won`,
        customerKey: `pipedrive:${deal.id}`,
        companyId: String(orgId),
        writtenInSystem: () => pipedrive.world.notes.some((n) => n.org_id === orgId),
      };
    },
    close: () => pipedrive.close(),
  };
}
