import { randomBytes } from 'node:crypto';
import type { RunningAutotaskSimulator } from '../simulator/autotask/index.js';
import { customerCompanySource } from '../simulator/autotask/source-file.js';
import type { DemoSystem } from './demo-system.js';

/**
 * The demo's Autotask PSA (docs/sources.md "Autotask PSA"): a simulated Autotask whose company
 * webhook signs its callouts with a secret key made for the run, behind `autotask.json` in the
 * demo's SOURCES_DIR; a prospect whose type becomes Customer is onboarded (its primary contact as
 * the admin) and the tenant is written to the company's three Acronis UDFs.
 */

/** Autotask's default company type picklist: 1 Customer, 3 Prospect. */
const CUSTOMER = 1;
const PROSPECT = 3;

export async function startDemoAutotask(name: (what: string) => string): Promise<DemoSystem> {
  const { startAutotaskSimulator } = await import('../simulator/autotask/index.js');
  const secret = () => randomBytes(18).toString('hex');
  const credentials = {
    username: `api-${secret().slice(0, 8)}@demo.example`,
    secret: secret(),
    integrationCode: secret(),
  };
  const secretKey = secret();
  const env = {
    secretKey: name('AUTOTASK_WEBHOOK_SECRET_KEY'),
    username: name('AUTOTASK_USERNAME'),
    secret: name('AUTOTASK_SECRET'),
    integrationCode: name('AUTOTASK_INTEGRATION_CODE'),
  };
  // Short retries: the demo's run is minutes, not Autotask's 30 s between attempts.
  const autotask: RunningAutotaskSimulator = await startAutotaskSimulator({ credentials, retryDelaysMs: [1000, 5000] });
  return {
    fileName: 'autotask.json',
    file: customerCompanySource(autotask, env),
    secretEnv: {
      [env.secretKey]: secretKey,
      [env.username]: credentials.username,
      [env.secret]: credentials.secret,
      [env.integrationCode]: credentials.integrationCode,
    },
    /** Adds a prospect, points the company webhook at the server and makes the prospect a Customer. */
    feed(serverUrl) {
      // A prospect from before the webhook: the one callout is its becoming a Customer.
      const { company } = autotask.addCompany({
        companyName: 'Adventure Works (a Customer in Autotask)',
        companyType: PROSPECT,
        contact: { firstName: 'Ines', lastName: 'Costa', emailAddress: 'it@adventure-works.example' },
      });
      autotask.registerWebhook({
        url: `${serverUrl}/webhooks/sources/autotask`,
        // Autotask requires one; it calls it only when it deactivates the webhook, which the simulator never does.
        deactivationUrl: `${serverUrl}/autotask-webhook-deactivated`,
        secretKey,
      });
      autotask.updateCompany(company.id, { companyType: CUSTOMER });
      return {
        what: `Autotask PSA: company ${company.id} became a Customer`,
        customerKey: company.companyNumber,
        companyId: String(company.id),
        writtenInSystem: () => Boolean(autotask.world.udf(company.id, 'Acronis tenant id')),
      };
    },
    close: () => autotask.close(),
  };
}
