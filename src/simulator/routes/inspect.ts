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
  app.post('/__sim/tokens/revoke', async (_request, reply) => {
    runtime.revokeTokens();
    return reply.code(204).send();
  });
}
