import { z } from 'zod';
import type { ActionName, ContactChange } from '../lifecycle/action.js';
import { customerKeyOf } from '../onboarding/customer-request.js';
import type { SourceEvent, SourceRecord } from './kind.js';
import { mapCustomer, read } from './mapping.js';
import type { SourceConfig } from './source-file.js';
import { applyTrigger, triggerSchema } from './trigger.js';

/**
 * Which source events ask for a lifecycle action (docs/sources.md "actions"): each action has a
 * condition in the trigger's syntax. Offboarding deletes the tenant and its backups after the grace
 * period, so a source may ask for it only when its file says `allow_offboard: true`.
 */
export const sourceActionsSchema = z.strictObject({
  suspend: triggerSchema.optional(),
  resume: triggerSchema.optional(),
  offboard: triggerSchema.optional(),
  /** A contact change: the mapped email, first_name, last_name, phone become the tenant's and the admin's contact. */
  contact: triggerSchema.optional(),
  allow_offboard: z.boolean({ error: 'must be true or false' }).default(false),
});
export type SourceActions = z.infer<typeof sourceActionsSchema>;

/** The actions a source can ask for, in the order they are tried: the first that matches wins. */
export const SOURCE_ACTIONS = ['offboard', 'suspend', 'resume', 'contact'] as const satisfies readonly ActionName[];
export type SourceAction = (typeof SOURCE_ACTIONS)[number];

/** The action the event asks for, if any. */
export function matchAction(
  actions: SourceActions | undefined,
  event: SourceEvent,
  record: SourceRecord,
): SourceAction | undefined {
  if (!actions) return undefined;
  return SOURCE_ACTIONS.find((name) => {
    const trigger = actions[name];
    return trigger !== undefined && applyTrigger(trigger, event, record).match;
  });
}

/**
 * The key the onboarding gave the event's customer: the mapping's external_id, else
 * `<source>:<object id>`; without a mapping, the event's own external_id or its name as keyed.
 */
export function eventCustomerKey(config: SourceConfig, event: SourceEvent, record: SourceRecord): string | undefined {
  const text = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' ? String(v).trim() || undefined : undefined;
  const mapping = config.mapping;
  if (!mapping) {
    const name = text(event.payload.name);
    const external = text(event.payload.external_id);
    return external || name ? customerKeyOf({ name: name ?? '', external_id: external }) : undefined;
  }
  const key = mapping.external_id === undefined ? undefined : text(read(mapping.external_id, record).value);
  if (key) return key;
  return event.objectId === '' ? undefined : `${config.name}:${event.objectId}`;
}

const CONTACT_FIELDS = ['email', 'first_name', 'last_name', 'phone'] as const;

/** The contact an event gives, read as its onboarding would read the customer (the mapping, else the payload). */
export function eventContact(
  config: SourceConfig,
  event: SourceEvent,
  record: SourceRecord,
): ContactChange | undefined {
  const candidate = config.mapping
    ? mapCustomer(config.mapping, record, { source: config.name, objectId: event.objectId }).candidate
    : event.payload;
  const contact: ContactChange = {};
  for (const field of CONTACT_FIELDS) {
    const value = candidate[field];
    if (typeof value === 'string' && value.trim() !== '') contact[field] = value.trim();
  }
  return Object.keys(contact).length > 0 ? contact : undefined;
}
