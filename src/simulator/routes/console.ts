import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { itemKey } from '../catalogue.js';
import type { SimulatorRuntime } from '../runtime.js';
import type { World } from '../world.js';

/**
 * /__sim console edits: what an operator does by hand in the Acronis console, so tests and the
 * demo can make every kind of drift reconcile finds (docs/simulator.md "Console edits"). Each
 * moves the `updated_at` of the object it changes and nothing else's: a tenant's own fields its
 * tenant's, a user's fields the user's, an offering item or a role their own (the tenant's and
 * the user's stay), a usage nothing (docs/reconcile.md "What the incremental sweep sees").
 */

const tenantEditSchema = z.strictObject({
  tenant_id: z.string(),
  enabled: z.boolean().optional(),
  pricing_mode: z.enum(['trial', 'production']).optional(),
  mfa: z.boolean().optional(),
  /** Deleted in the console (soft, as the API's DELETE: sub-tenants and users go with it). */
  deleted: z.literal(true).optional(),
});

const userEditSchema = z.strictObject({
  user_id: z.string(),
  activated: z.boolean().optional(),
  enabled: z.boolean().optional(),
  deleted: z.literal(true).optional(),
  /** The user's roles on its own tenant, replacing every role it had. */
  roles: z.array(z.string()).optional(),
});

const itemEditSchema = z.strictObject({
  tenant_id: z.string(),
  name: z.string(),
  infra_id: z.string().optional(),
  status: z.union([z.literal(0), z.literal(1)]),
});

function editTenant(world: World, input: z.infer<typeof tenantEditSchema>): boolean {
  const tenant = world.tenants.get(input.tenant_id);
  if (!tenant) return false;
  const now = world.now();
  if (input.deleted) {
    world.deleteTenant(tenant.id, now);
    return true;
  }
  if (input.enabled !== undefined) tenant.enabled = input.enabled;
  if (input.mfa !== undefined) tenant.mfaStatus = input.mfa ? 'enabled' : 'disabled';
  const pricing = world.pricing.get(tenant.id);
  if (input.pricing_mode !== undefined && pricing && pricing.mode !== input.pricing_mode) {
    if (input.pricing_mode === 'production') pricing.productionStartDate = now;
    pricing.mode = input.pricing_mode;
    pricing.version = world.versionStamp();
  }
  tenant.version += 1;
  tenant.updatedAt = now;
  return true;
}

function editUser(world: World, input: z.infer<typeof userEditSchema>): boolean {
  const user = world.users.get(input.user_id);
  if (!user) return false;
  const now = world.now();
  if (input.roles !== undefined) {
    world.accessPolicies.set(
      user.id,
      input.roles.map((roleId) => ({
        id: world.ids.uuid(),
        version: 1,
        trusteeId: user.id,
        trusteeType: 'user' as const,
        issuerId: user.id,
        tenantId: user.tenantId,
        roleId,
        createdAt: now,
        updatedAt: now,
      })),
    );
  }
  const ownFields = input.activated !== undefined || input.enabled !== undefined || input.deleted;
  if (!ownFields) return true;
  if (input.activated !== undefined) user.activated = input.activated;
  if (input.enabled !== undefined) user.enabled = input.enabled;
  if (input.deleted) user.deletedAt = now;
  user.version += 1;
  user.updatedAt = now;
  return true;
}

function editItem(world: World, input: z.infer<typeof itemEditSchema>, reply: FastifyReply): FastifyReply {
  if (!world.tenants.has(input.tenant_id)) return reply.code(404).send({ error: 'no such tenant' });
  const key = itemKey(input.name, input.infra_id);
  const current = world.ownItemState(input.tenant_id, key);
  world.setItemState(input.tenant_id, key, {
    status: input.status,
    quota: input.status === 1 ? (current?.quota ?? { value: null, overage: null, version: 0 }) : null,
    updatedAt: world.now(),
  });
  return reply.code(204).send();
}

export function registerConsoleRoutes(app: FastifyInstance, runtime: SimulatorRuntime): void {
  app.put('/__sim/tenant', async (request, reply) => {
    const found = editTenant(runtime.world, tenantEditSchema.parse(request.body ?? {}));
    return found ? reply.code(204).send() : reply.code(404).send({ error: 'no such tenant' });
  });
  app.put('/__sim/user', async (request, reply) => {
    const found = editUser(runtime.world, userEditSchema.parse(request.body ?? {}));
    return found ? reply.code(204).send() : reply.code(404).send({ error: 'no such user' });
  });
  app.put('/__sim/item', async (request, reply) =>
    editItem(runtime.world, itemEditSchema.parse(request.body ?? {}), reply),
  );
}
