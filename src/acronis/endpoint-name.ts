/**
 * The endpoint a request went to, as `METHOD /path/{param}` with the OAS path template
 * (`GET /tenants/{tenant_id}/usages`), so metrics count per endpoint rather than per tenant id.
 * An id is the segment after a collection name, unless it is one of that collection's own words.
 */
const COLLECTION_PARAMS: Record<string, string> = {
  tenants: 'tenant_id',
  users: 'user_id',
  clients: 'client_id',
  applications: 'application_id',
  registration_tokens: 'token_id',
};
const NOT_IDS = new Set(['check_login', 'me', 'usages']);

export function endpointName(method: string, path: string): string {
  const segments = path.split('?')[0]!.split('/');
  const template = segments.map((segment, i) => {
    const param = COLLECTION_PARAMS[segments[i - 1] ?? ''];
    return param && segment !== '' && !NOT_IDS.has(segment) ? `{${param}}` : segment;
  });
  return `${method} ${template.join('/')}`;
}
