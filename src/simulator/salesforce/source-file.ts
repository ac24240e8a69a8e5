/**
 * A source file (docs/sources.md "Salesforce") for a simulated Salesforce org, as the demo and the
 * tests use it: an Opportunity won onboards its Account, the Account's first Contact as the admin
 * and the products of code ACR-CP-WS as the workstation quota; the result goes to three Account
 * custom fields.
 */
export function wonOpportunitySource(
  instanceUrl: string,
  organizationId: string,
  env: { clientId: string; clientSecret: string; urlToken?: string },
) {
  return {
    kind: 'salesforce',
    trigger: {
      event_types: ['Opportunity'],
      all: [{ field: 'opportunity.IsWon', equals: [true], label: 'won' }],
    },
    mapping: {
      name: 'account.Name',
      email: 'contact.Email',
      first_name: 'contact.FirstName',
      last_name: 'contact.LastName',
      line_item_quotas: {
        name: 'line_items[].product_code',
        quantity: 'line_items[].quantity',
        items: { 'ACR-CP-WS': 'pw_base_workstations' },
      },
    },
    settings: {
      organization_id: organizationId,
      instance_url: instanceUrl,
      client_id_env: env.clientId,
      client_secret_env: env.clientSecret,
      ...(env.urlToken ? { url_token_env: env.urlToken } : {}),
      read: { line_items: true },
    },
  };
}
