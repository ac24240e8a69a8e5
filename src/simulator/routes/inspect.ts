import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { itemKey } from '../catalogue.js';
import type { SimulatorRuntime } from '../runtime.js';
import { snapshotState } from '../state.js';

const usageSchema = z.strictObject({
  tenant_id: z.string(),
  name: z.string(),
  infra_id: z.string().optional(),
  value: z.number().nonnegative(),
});

const quotaSchema = z.strictObject({
  tenant_id: z.string(),
  name: z.string(),
  infra_id: z.string().optional(),
  value: z.number().int().nonnegative().nullable(),
  overage: z.number().int().nonnegative().nullable().default(null),
});

/**
 * /__sim: inspection and control for tests and operators. No auth, no faults, no latency,
 * not counted in stats.
 */
export function registerInspectRoutes(app: FastifyInstance, runtime: SimulatorRuntime): void {
  app.get('/__sim/config', async () => runtime.options);
  // A bad body throws ZodError; the error handler answers 400 with the issues.
  app.put('/__sim/config', async (request) => runtime.configure(request.body ?? {}));
  app.get('/__sim/state', async () => snapshotState(runtime.world));
  app.get('/__sim/stats', async () => runtime.stats.snapshot());
  app.get('/__sim/seed', async () => runtime.world.seed);
  app.post('/__sim/stats/reset', async (_request, reply) => {
    runtime.stats.reset();
    return reply.code(204).send();
  });
  // A tenant's usage of an item (the simulator runs no workloads): what makes turning the item off refused.
  app.put('/__sim/usage', async (request, reply) => {
    const input = usageSchema.parse(request.body ?? {});
    if (!runtime.world.tenants.has(input.tenant_id)) return reply.code(404).send({ error: 'no such tenant' });
    runtime.world.setUsage(input.tenant_id, itemKey(input.name, input.infra_id), input.value);
    return reply.code(204).send();
  });
  // A quota set from above (a distributor's on its partner): what a tenant may not give its children more of.
  app.put('/__sim/quota', async (request, reply) => {
    const input = quotaSchema.parse(request.body ?? {});
    const { world } = runtime;
    if (!world.tenants.has(input.tenant_id)) return reply.code(404).send({ error: 'no such tenant' });
    const key = itemKey(input.name, input.infra_id);
    const current = world.ownItemState(input.tenant_id, key);
    if (current?.status !== 1) return reply.code(409).send({ error: 'the item is not enabled on that tenant' });
    const version = input.value === null ? 0 : world.versionStamp();
    world.setItemState(input.tenant_id, key, {
      ...current,
      quota: { value: input.value, overage: input.overage, version },
      // The item's own updated_at moves; its tenant's does not (docs/reconcile.md).
      updatedAt: world.now(),
    });
    return reply.code(204).send();
  });
  app.post('/__sim/tokens/revoke', async (_request, reply) => {
    runtime.revokeTokens();
    return reply.code(204).send();
  });
}
