import type { QueuedRequest } from '../chain.js';

/** The customer's contact as the API spells it (OAS `contactPut`), for the tenant and its admin alike. */
export function contactOf(request: QueuedRequest) {
  return {
    email: request.email,
    ...(request.first_name ? { firstname: request.first_name } : {}),
    ...(request.last_name ? { lastname: request.last_name } : {}),
    ...(request.phone ? { phone: request.phone } : {}),
    ...(request.country ? { country: request.country } : {}),
  };
}
