/**
 * A source file (docs/sources.md "HubSpot") for a simulated HubSpot account, as the demo and the
 * tests use it: a deal moved to `closedwon` onboards its company, the contact as the admin and
 * the line items of SKU ACR-CP-WS as the workstation quota; app webhooks signed v3 only.
 */
export function wonDealSource(apiBaseUrl: string, env: { clientSecret: string; accessToken: string }) {
  return {
    kind: 'hubspot',
    trigger: { all: [{ field: 'deal.dealstage', equals: ['closedwon'], label: 'deal stage' }] },
    mapping: {
      name: 'company.name',
      email: 'contact.email',
      first_name: 'contact.firstname',
      last_name: 'contact.lastname',
      line_item_quotas: {
        name: 'line_items[].sku',
        quantity: 'line_items[].quantity',
        items: { 'ACR-CP-WS': 'pw_base_workstations' },
      },
    },
    settings: {
      client_secret_env: env.clientSecret,
      access_token_env: env.accessToken,
      api_base_url: apiBaseUrl,
      signature_versions: ['v3'],
      read: { line_items: true },
    },
  };
}
