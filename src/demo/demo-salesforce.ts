import { randomBytes } from 'node:crypto';
import type { SalesforceSimulator } from '../simulator/salesforce/index.js';
import { wonOpportunitySource } from '../simulator/salesforce/source-file.js';
import type { DemoSystem } from './demo-system.js';

/**
 * The demo's Salesforce (docs/sources.md "Salesforce"): a simulated org whose outbound message
 * goes to a URL carrying a token made for the run (outbound messages are not signed), behind
 * `salesforce.json` in the demo's SOURCES_DIR; an opportunity won in it is onboarded (its product
 * as the workstation quota) and the tenant is written to three custom fields of its Account.
 */

/** The Account fields the source writes by default, created in the org as its admin would. */
const WRITE_BACK_FIELDS = ['Acronis_Tenant_Id__c', 'Acronis_Admin_Login__c', 'Acronis_State__c'];

export async function startDemoSalesforce(name: (what: string) => string): Promise<DemoSystem> {
  const { startSalesforceSimulator } = await import('../simulator/salesforce/index.js');
  const secret = () => randomBytes(18).toString('hex');
  const credentials = { clientId: `3MVG9${secret()}`, clientSecret: secret(), urlToken: secret() };
  const env = {
    clientId: name('SALESFORCE_CLIENT_ID'),
    clientSecret: name('SALESFORCE_CLIENT_SECRET'),
    urlToken: name('SALESFORCE_URL_TOKEN'),
  };
  const salesforce: SalesforceSimulator = await startSalesforceSimulator({
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
  });
  salesforce.defineAccountFields(...WRITE_BACK_FIELDS);
  return {
    fileName: 'salesforce.json',
    file: wonOpportunitySource(salesforce.url, salesforce.organizationId, env),
    secretEnv: {
      [env.clientId]: credentials.clientId,
      [env.clientSecret]: credentials.clientSecret,
      [env.urlToken]: credentials.urlToken,
    },
    /** Points the outbound message at the server and wins the opportunity. */
    feed(serverUrl) {
      // Short resends: the demo's run is minutes, not Salesforce's back-off up to two hours.
      salesforce.setOutbound({
        targetUrl: `${serverUrl}/webhooks/sources/salesforce?token=${credentials.urlToken}`,
        firstRetryMs: 1000,
        maxRetryMs: 5000,
      });
      const { opportunityId, accountId } = salesforce.seedOpportunity({
        account: { Name: 'Tailspin Toys (won in Salesforce)', BillingCountry: 'Netherlands' },
        contact: { Email: 'it@tailspin-toys.example', FirstName: 'Daan', LastName: 'de Vries' },
        opportunity: { Name: 'Cyber Protect for 12 workstations' },
        lineItems: [{ productCode: 'ACR-CP-WS', name: 'Cyber Protect workstation', quantity: 12 }],
      });
      salesforce.winOpportunity(opportunityId);
      return {
        what: `Salesforce: opportunity ${opportunityId} won`,
        customerKey: `salesforce:${opportunityId}`,
        companyId: accountId,
        writtenInSystem: () => salesforce.store.accountWrites.some((w) => w.accountId === accountId),
      };
    },
    close: () => salesforce.close(),
  };
}
