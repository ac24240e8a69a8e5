import { z } from 'zod';
import type { AcronisTransport } from './transport.js';

export const infraSchema = z.object({
  id: z.string(),
  name: z.string(),
  owner_tenant_id: z.string().optional(),
  location_id: z.string().optional(),
  platform_owned: z.boolean().optional(),
  url: z.string().optional(),
  capabilities: z.array(z.string()),
  backend_type: z.string().optional(),
  readonly: z.boolean().optional(),
});
export type Infra = z.infer<typeof infraSchema>;

/** GET /infra/{id}: a storage's name, location and capabilities (ACRONIS-API.md §4.6). */
export async function getInfra(api: AcronisTransport, infraId: string): Promise<Infra> {
  return api.json({ method: 'GET', path: `/infra/${encodeURIComponent(infraId)}` }, infraSchema);
}
