import { describe, expect, it } from 'vitest';
import { actionJobSchema, checkActionJob, type ActionJob } from '../../src/lifecycle/action.js';
import { parseProfile, STANDARD_PROFILE } from '../../src/onboarding/profile.js';

const profile = parseProfile({ ...STANDARD_PROFILE, name: 'action-job-test' }, 'test');
const job = (over: Partial<ActionJob> = {}): unknown =>
  JSON.parse(
    JSON.stringify({
      actionId: 'a-1',
      batchId: 'ab-1',
      customerKey: 'acme',
      customerName: 'Acme',
      requester: { kind: 'operator', label: 'test' },
      action: 'change',
      partnerTenantId: 'p-1',
      steps: ['change-offering-items', 'change-roles'],
      params: { profile },
      facts: {},
      ...over,
    }),
  );

describe('checkActionJob', () => {
  it("gives what the job's schema gives, for a profile seen before as for one seen first", () => {
    const first = checkActionJob(job());
    const again = checkActionJob(job({ actionId: 'a-2' }));
    expect(first.success && again.success).toBe(true);
    expect(first.data).toEqual(actionJobSchema.parse(job()));
    expect(again.data).toEqual(actionJobSchema.parse(job({ actionId: 'a-2' })));
  });

  it('still checks the rest of a job whose profile was seen before', () => {
    checkActionJob(job());
    const bad = checkActionJob(job({ steps: [] }));
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['steps']);
  });

  it('refuses a profile that differs from the one checked, however little', () => {
    checkActionJob(job());
    const raw = job() as { params: { profile: { roles: unknown } } };
    raw.params.profile.roles = 'company_admin';
    const bad = checkActionJob(raw);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['params', 'profile', 'roles']);
  });

  it('hands each job its own copy of a remembered profile', () => {
    const one = checkActionJob(job());
    one.data!.params.profile!.roles.push('readonly_admin');
    const two = checkActionJob(job());
    expect(two.data!.params.profile!.roles).toEqual(profile.roles);
  });
});
