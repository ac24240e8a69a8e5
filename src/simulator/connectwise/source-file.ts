/**
 * A source file (docs/sources.md "ConnectWise PSA") for a simulated ConnectWise, as the demo and
 * the tests use it: an agreement of type Managed Backup added onboards its company, the default
 * contact as the admin and the additions of product ACR-WORKSTATION as the workstation quota.
 */
export function addedAgreementSource(
  apiBaseUrl: string,
  env: { companyId: string; publicKey: string; privateKey: string; clientId: string },
) {
  return {
    kind: 'connectwise',
    trigger: {
      event_types: ['agreement/added'],
      all: [{ field: 'agreement.type', equals: ['Managed Backup'], label: 'agreement type' }],
    },
    mapping: {
      name: 'company.name',
      email: 'contact.email',
      first_name: 'contact.firstName',
      last_name: 'contact.lastName',
      line_item_quotas: {
        name: 'additions[].product',
        quantity: 'additions[].quantity',
        items: { 'ACR-WORKSTATION': 'pw_base_workstations' },
      },
    },
    settings: {
      api: {
        base_url: apiBaseUrl,
        company_id_env: env.companyId,
        public_key_env: env.publicKey,
        private_key_env: env.privateKey,
        client_id_env: env.clientId,
      },
      // The simulator is plain http on 127.0.0.1, which a real source is never allowed: the
      // test-only relaxation (docs/sources.md), right for the tests and the demo alone.
      allow_insecure_test_host: true,
    },
  };
}
