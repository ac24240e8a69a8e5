import type { Job } from 'bullmq';
import type { Requester } from '../lifecycle/action.js';
import type { Logger } from '../logger.js';
import type { ActionRecord } from '../workers/action-store.js';
import { checkActions, enqueueActions } from '../workers/enqueue-action.js';
import type { IntakeJob } from '../workers/source-queues.js';
import type { IntakeDeps } from './intake-job.js';
import type { SourceRecord } from './kind.js';
import { eventContact, eventCustomerKey, type SourceAction } from './source-actions.js';
import type { Source } from './source-set.js';
import { applyTrigger } from './trigger.js';

/**
 * An event the source file's `actions` match (docs/sources.md "actions"): the customer found by the
 * key its onboarding gave it, the action checked and queued through the one function the CLI uses,
 * the event settled `action` (or `ignored`/`rejected`, with why). Answers undefined when the event
 * is rather an onboarding: the customer is not known here (or not suspended, for a resume) and the
 * onboarding trigger matches, as a deal won the first time does.
 */
export async function askAction(
  deps: IntakeDeps,
  source: Source,
  job: Job<IntakeJob>,
  record: SourceRecord,
  action: SourceAction,
  log: Logger,
): Promise<string | undefined> {
  const { eventHash, event } = job.data;
  const name = source.config.name;
  const ignore = async (reason: string) => {
    await deps.store.settle(name, eventHash, 'ignored', { reason });
    log.info({ outcome: 'ignored', action, reason }, 'source event settled');
    return 'ignored';
  };
  const onboards = applyTrigger(source.config.trigger, event, record).match;
  if (action === 'offboard' && !source.config.actions?.allow_offboard)
    return ignore(
      `the event asks to offboard, and offboarding from sources is off: set "actions": { "allow_offboard": true } in ${source.config.file} to allow it`,
    );
  const lifecycle = deps.lifecycle;
  if (!lifecycle) {
    await deps.store.settle(name, eventHash, 'failed', {
      reason: `this process takes no lifecycle actions (${action})`,
    });
    return 'failed';
  }
  const key = eventCustomerKey(source.config, event, record);
  const customer = key === undefined ? undefined : await lifecycle.deps.store.getCustomer(key);
  if (key === undefined || !customer) {
    if (onboards) return undefined;
    return ignore(
      `the event asks to ${action === 'contact' ? 'change the contact of' : action} customer ${key ?? '(no key: the event names no object)'}, which this install never onboarded`,
    );
  }
  const latest = (await lifecycle.deps.actions.customerActions(key, 1))[0];
  const already = repeated(action, latest);
  if (already) return ignore(`${action}: ${already}`);
  if (action === 'resume' && !suspended(latest)) {
    if (onboards) return undefined;
    return ignore(`resume: customer ${key} is not suspended (its latest action is ${latest?.action ?? 'none'})`);
  }
  const requester: Requester = { kind: 'source', label: `source ${name} event ${event.eventId}`.slice(0, 300) };
  const contact = action === 'contact' ? eventContact(source.config, event, record) : undefined;
  const params = action === 'offboard' ? { graceMs: lifecycle.offboardGraceMs } : contact ? { contact } : {};
  const checked = await checkActions(lifecycle.deps, [{ customer: key, action, params, requester }]);
  if (checked.accepted.length === 0) {
    const problems = checked.problems.map((p) => ({ field: p.field, reason: p.reason }));
    await deps.store.settle(name, eventHash, 'rejected', { reason: `${action} refused`, problems });
    log.info({ outcome: 'rejected', action, problems }, 'source event settled');
    return 'rejected';
  }
  const label = `${name}: ${event.objectType} ${event.objectId || '(no id)'}`.slice(0, 200);
  const queued = await enqueueActions(lifecycle.deps, { action, source: `source:${name}`, label }, checked.accepted);
  await deps.store.settle(name, eventHash, 'action', { action, batchId: queued.batchId, customer: key });
  log.info({ outcome: 'action', action, customer: key, batchId: queued.batchId }, 'source event settled');
  return `action (${action})`;
}

const LIVE = (a: ActionRecord) => a.state !== 'failed' && a.state !== 'cancelled';

/** The same ask twice (the deal's next event while it stays lost): the first one stands. */
function repeated(action: SourceAction, latest: ActionRecord | undefined): string | undefined {
  if (!latest || !LIVE(latest)) return undefined;
  if (latest.action === 'offboard')
    return `customer ${latest.customerKey} is offboarded by action ${latest.id} (${latest.state})`;
  // A contact may change again: each event's change is looked at (nothing is sent when it is so already).
  if (latest.action === action && action !== 'resume' && action !== 'contact')
    return `customer ${latest.customerKey} already asked by action ${latest.id} (${latest.state}, ${latest.requester})`;
  return undefined;
}

function suspended(latest: ActionRecord | undefined): boolean {
  return latest !== undefined && latest.action === 'suspend' && LIVE(latest);
}
