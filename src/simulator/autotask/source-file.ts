/**
 * A source file (docs/sources.md "Autotask PSA") for a simulated Autotask, as the demo, the tests
 * and the bench use it: a company whose type becomes Customer (1) onboards, its primary contact as
 * the admin; the result goes to the company's three Acronis UDFs.
 */
export function customerCompanySource(
  sim: { lookupUrl: string },
  env: { secretKey: string; username: string; secret: string; integrationCode: string },
) {
  return {
    kind: 'autotask',
    trigger: {
      event_types: ['company.create', 'company.update'],
      all: [{ field: 'company.companyType', equals: [1], label: 'company type' }],
    },
    mapping: {
      name: 'company.companyName',
      external_id: 'company.companyNumber',
      email: 'contact.emailAddress',
      first_name: 'contact.firstName',
      last_name: 'contact.lastName',
    },
    settings: {
      secret_key_env: env.secretKey,
      api: {
        username_env: env.username,
        secret_env: env.secret,
        integration_code_env: env.integrationCode,
        zone_lookup_url: sim.lookupUrl,
      },
    },
  };
}
