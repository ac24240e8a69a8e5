/**
 * A source file (docs/sources.md "Pipedrive") for a simulated Pipedrive, as the demo, the tests
 * and the bench use it: a deal whose status changes to won onboards its organization, the person
 * as the admin, and the deal's products "Acronis Workstation" as the workstation quota.
 */
export function wonDealSource(sim: { origin: string }, env: { user: string; password: string; token: string }) {
  return {
    kind: 'pipedrive',
    trigger: {
      event_types: ['change.deal'],
      all: [
        { field: 'deal.status', equals: ['won'], label: 'deal status' },
        { field: 'event.previous.status', equals: ['open', 'lost'], label: 'previous deal status' },
      ],
    },
    mapping: {
      name: 'organization.name',
      email: 'person.email',
      first_name: 'person.first_name',
      last_name: 'person.last_name',
      line_item_quotas: {
        name: 'products[].name',
        quantity: 'products[].quantity',
        items: { 'Acronis Workstation': 'pw_base_workstations' },
      },
    },
    settings: {
      webhook_user_env: env.user,
      webhook_password_env: env.password,
      api: { base_url: sim.origin, token_env: env.token },
    },
  };
}
