/**
 * The baseline the pipeline is compared with: the same customers onboarded the way Acronis'
 * sample scripts do it (PYX, docs/acronis-api.md §0: `tenants/create_customer_tenant_and_assign_specific_edition.py`,
 * `users/create_user_for_customer_activate_assign_backup_user_role.py`, `agent/get_agent_installation_token.py`):
 * one customer at a time, one call at a time, each call waiting for the one before. Per customer:
 * POST /tenants, GET …/available_for_child, PUT …/offering_items, GET /users/check_login,
 * POST /users, POST …/send-activation-email, PUT …/access_policies, POST …/registration_tokens.
 * Same client as the pipeline (got, the Redis token cache, the request budget), against a
 * fresh simulator with the same latency.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAcronisClient } from '../src/acronis/client.js';
import { backupAgentAdminScope } from '../src/acronis/registration-tokens.js';
import { checkLogin } from '../src/acronis/users.js';
import { RequestBudget } from '../src/acronis/request-budget.js';
import { planOfferingItems } from '../src/onboarding/offering-plan.js';
import { STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { RedisKeys } from '../src/redis/keys.js';
import { createSecretBox, generateSecretsKey } from '../src/secrets/secret-box.js';
import { removeKeys } from '../test/helpers/redis.js';
import { simStats, type SimStats } from './pipeline-run.js';
import { startSimProcess } from './sim-process.js';

export interface BaselineResult {
  customers: number;
  seconds: number;
  firstDoneSeconds: number;
  stats: SimStats;
}

export async function runBaseline(opts: {
  customers: number;
  rateLimit: number;
  latencyMs: number;
  jitterMs: number;
}): Promise<BaselineResult> {
  const sim = await startSimProcess(['--latency', String(opts.latencyMs), '--jitter', String(opts.jitterMs)]);
  const prefix = `bench-baseline-${randomUUID().slice(0, 8)}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = new RedisKeys(prefix);
  const baseUrl = sim.vars.ACRONIS_BASE_URL as string;
  const clientId = sim.vars.ACRONIS_CLIENT_ID as string;
  const acronis = createAcronisClient({
    baseUrl,
    clientId,
    clientSecret: sim.vars.ACRONIS_CLIENT_SECRET as string,
    redis,
    box: createSecretBox(generateSecretsKey()),
    tokenKeys: keys.tokenCache(baseUrl, clientId, sim.vars.ACRONIS_CLIENT_SECRET as string),
    throttle: new RequestBudget({ redis, keys: keys.requestBudget, perSecond: opts.rateLimit }),
  });
  try {
    const partnerId = (await acronis.getApiClient(clientId)).tenant_id;
    await fetch(`${baseUrl}/__sim/stats/reset`, { method: 'POST' });
    const started = performance.now();
    let firstDoneSeconds = Number.NaN;
    for (let i = 1; i <= opts.customers; i++) {
      await onboardOne(acronis, partnerId, i);
      if (i === 1) firstDoneSeconds = (performance.now() - started) / 1000;
    }
    const seconds = (performance.now() - started) / 1000;
    return { customers: opts.customers, seconds, firstDoneSeconds, stats: await simStats(sim) };
  } finally {
    sim.stop();
    await removeKeys(redis, prefix);
    redis.disconnect();
  }
}

async function onboardOne(acronis: ReturnType<typeof createAcronisClient>, partnerId: string, i: number) {
  const profile = STANDARD_PROFILE;
  const edition = profile.editions[0] as string;
  const email = `admin${i}@bench-customer.example`;
  const tenant = await acronis.createTenant({
    name: `bench Customer ${i}`,
    parent_id: partnerId,
    kind: 'customer',
    customer_id: `bench-${i}`,
    contact: { email, firstname: 'Ada', lastname: `Admin${i}` },
  });
  const available = await acronis.getAvailableForChild(partnerId, { kind: 'customer', edition });
  await acronis.putOfferingItems(tenant.id, planOfferingItems({ available, profile, edition }));
  if ((await checkLogin(acronis.transport, email)) === 'taken') throw new Error(`login ${email} is taken`);
  const user = await acronis.createUser({
    tenant_id: tenant.id,
    login: email,
    contact: { email, firstname: 'Ada', lastname: `Admin${i}` },
  });
  await acronis.sendActivationEmail(user.id);
  await acronis.setAccessPolicies(
    user.id,
    profile.roles.map((roleId) => ({ roleId, tenantId: tenant.id })),
  );
  await acronis.createRegistrationToken(tenant.id, {
    expiresInSeconds: profile.agent_token.expires_in,
    scopes: [backupAgentAdminScope(user.personal_tenant_id ?? tenant.id)],
  });
}
