/**
 * The /api/2 operations the simulator answers, as `METHOD /oas/path/{param}`: the key of stats
 * and faults, and what scripts/extract-openapi.ts copies into openapi-subset.json.
 */
export const OAS_OPERATIONS = [
  'POST /idp/token',
  'POST /clients',
  'GET /clients/{client_id}',
  'GET /users/me',
  'GET /applications',
  'GET /tenants/{tenant_id}/applications',
  'POST /applications/{application_id}/bindings/tenants/{tenant_id}',
  'DELETE /applications/{application_id}/bindings/tenants/{tenant_id}',
  'POST /tenants',
  'GET /tenants',
  'GET /tenants/{tenant_id}',
  'PUT /tenants/{tenant_id}',
  'DELETE /tenants/{tenant_id}',
  'GET /tenants/{tenant_id}/edition',
  'PUT /tenants/{tenant_id}/edition',
  'GET /tenants/{tenant_id}/mfa/status',
  'PUT /tenants/{tenant_id}/mfa/status',
  'GET /tenants/{tenant_id}/children',
  'GET /search',
  'GET /tenants/{tenant_id}/offering_items',
  'PUT /tenants/{tenant_id}/offering_items',
  'GET /tenants/{tenant_id}/offering_items/available_for_child',
  'GET /infra',
  'GET /tenants/{tenant_id}/pricing',
  'PUT /tenants/{tenant_id}/pricing',
  'GET /users',
  'GET /users/check_login',
  'POST /users',
  'GET /users/{user_id}',
  'PUT /users/{user_id}',
  'GET /tenants/{tenant_id}/users',
  'GET /users/{user_id}/access_policies',
  'PUT /users/{user_id}/access_policies',
  'POST /users/{user_id}/send-activation-email',
  'POST /users/{user_id}/password',
  'GET /tenants/{tenant_id}/registration_tokens',
  'POST /tenants/{tenant_id}/registration_tokens',
  'DELETE /registration_tokens/{token_id}',
  'GET /tenants/{tenant_id}/usages',
  'GET /tenants/usages',
] as const;

/**
 * Operations the real API has but the OAS does not describe: `GET /tenants/{id}/infra`
 * (docs/acronis-api.md §4.6, seen in the SW test fixture and BASH `04`). No schema exists for
 * them, so their bodies are neither validated nor checked.
 */
export const UNDOCUMENTED_OPERATIONS = ['GET /tenants/{tenant_id}/infra'] as const;

export type OasOperation = (typeof OAS_OPERATIONS)[number];
export type SimulatedOperation = OasOperation | (typeof UNDOCUMENTED_OPERATIONS)[number];

export function splitOperation(operation: string): { method: string; path: string } {
  const space = operation.indexOf(' ');
  return { method: operation.slice(0, space), path: operation.slice(space + 1) };
}
