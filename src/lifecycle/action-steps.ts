import type { AcronisEndpoints } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import { toOfferingItemChange, type OfferingItem, type OfferingItemChange } from '../acronis/offering-items.js';
import type { Logger } from '../logger.js';
import { StepInputError } from '../onboarding/errors.js';
import type { CustomerQuotas } from '../onboarding/customer-request.js';
import { ownQuotasNote, planOwnQuotas } from '../onboarding/own-quotas.js';
import { profileEditionFor, type Profile } from '../onboarding/profile.js';
import type { ActionFacts, ActionJob, ActionStepName } from './action.js';
import { contactFields, setTenantContact, setUserContact, type ContactFields } from './contact-change.js';
import { deleteDisabledTenant, setTenantEnabled } from './tenant-state.js';

/** What an action step is handed: the API client, the logger, a line in the job's log, the shared offering lookups. */
export interface ActionStepContext {
  acronis: AcronisEndpoints;
  logger: Logger;
  log(line: string): Promise<void>;
  offers: { availableForChild(partnerTenantId: string, edition: string): Promise<OfferingItem[]> };
  /** The admin user the onboarding made, for `change`'s roles and `contact`. */
  adminUserId(): Promise<string | undefined>;
  /** The admin's roles as acronis-onboard last set them: the latest change's, else the onboarding's. */
  rolesSetLast(): Promise<string[] | undefined>;
  /** The customer's own quotas as last applied (its onboarding's, then each change's); none for records made before. */
  ownQuotas(): Promise<CustomerQuotas | undefined>;
  /** Remembers the own quotas a change applied, for the next change to keep. */
  rememberOwnQuotas(quotas: CustomerQuotas): Promise<void>;
  /** Writes facts into the step's job before a send, so a re-run after a crash reads them. */
  checkpoint(facts: Partial<ActionFacts>): Promise<void>;
}

export interface ActionStepResult {
  facts: ActionFacts;
  /** An offboard's disable: the delete waits until then. */
  pendingUntil?: Date;
  /** The action ends here, with this outcome (an offboard's delete, or one that must not go on). */
  end?: { state: 'deleted' | 'failed' | 'done'; outcome: string };
}

type StepInput = ActionJob & { facts: ActionFacts & { tenantId: string } };
type ActionStep<R = ActionStepResult> = (input: StepInput, ctx: ActionStepContext) => Promise<R>;

const noted = (facts: ActionFacts, note: string): ActionFacts => ({ ...facts, notes: [...(facts.notes ?? []), note] });

/** suspend / resume: the tenant's `enabled`, 1 read + 1 write, nothing sent when it is so already. */
const setEnabled: ActionStep = async ({ action, facts }, ctx) => {
  const wanted = action === 'resume';
  const { changed } = await setTenantEnabled(ctx.acronis, facts.tenantId, wanted);
  const note = changed
    ? wanted
      ? 'enabled'
      : 'disabled'
    : `was ${wanted ? 'enabled' : 'disabled'} already: nothing sent`;
  await ctx.log(`tenant ${facts.tenantId}: ${note}`);
  return { facts: noted({ ...facts, changed }, note) };
};

/** offboard, first step: disabled at once; the delete waits for the grace period. */
const offboardDisable: ActionStep = async ({ params, facts }, ctx) => {
  const { changed } = await setTenantEnabled(ctx.acronis, facts.tenantId, false);
  const deleteAt = new Date(Date.now() + (params.graceMs ?? 0));
  const note = `${changed ? 'disabled' : 'was disabled already'}; to be deleted at ${deleteAt.toISOString()} unless cancelled (offboard --cancel)`;
  await ctx.log(`tenant ${facts.tenantId}: ${note}`);
  return { facts: noted({ ...facts, changed, deleteAt: deleteAt.toISOString() }, note), pendingUntil: deleteAt };
};

/** offboard, after the grace period: the tenant deleted (irreversible), unless someone enabled it again. */
const offboardDelete: ActionStep = async ({ facts }, ctx) => {
  const result = await deleteDisabledTenant(ctx.acronis, facts.tenantId);
  if (result === 'enabled-again') {
    const outcome = `tenant ${facts.tenantId} is enabled again (resumed outside acronis-onboard?): not deleted`;
    await ctx.log(outcome);
    return { facts, end: { state: 'failed', outcome } };
  }
  const outcome = result === 'deleted' ? `deleted at ${new Date().toISOString()}` : 'was deleted already: nothing sent';
  await ctx.log(`tenant ${facts.tenantId}: ${outcome}`);
  return { facts: noted(facts, outcome), end: { state: 'deleted', outcome } };
};

function changeProfile(input: StepInput): Profile {
  if (!input.params.profile) throw new StepInputError(input.customerKey, 'profile', 'a change needs a profile');
  return input.params.profile;
}

/** The tenant's current Cyber Protection edition: the edition of its enabled items that have one. */
function editionOf(items: readonly OfferingItem[]): string | null {
  return items.find((i) => i.status === 1 && i.edition !== null)?.edition ?? null;
}

/**
 * The edition switch through the API's edition endpoint, when the edition changes: the items read
 * go in, the items after the switch come out (the switch answers the tenant's item list).
 */
async function switchEditionIfNeeded(
  input: StepInput,
  ctx: ActionStepContext,
  items: OfferingItem[],
): Promise<{ facts: ActionFacts; items: OfferingItem[] }> {
  const target = profileEditionFor(changeProfile(input), input.params.edition);
  const current = editionOf(items);
  const facts = { ...input.facts, editionFrom: current, editionTo: target };
  if (current === target || current === null) {
    const note = current === null ? `edition ${target} (the tenant had none)` : `edition ${target} kept`;
    return { facts: noted(facts, note), items };
  }
  const backup = items.find((i) => i.status === 1 && i.edition === current) as OfferingItem;
  const switched = await ctx.acronis.switchEdition(input.facts.tenantId, {
    application_id: backup.application_id,
    target_edition: target,
  });
  const note = `edition ${current} → ${target}`;
  await ctx.log(note);
  return { facts: noted(facts, note), items: switched };
}

/** change, first in chains queued before the two were one step (its job may still be in a queue): the edition only. */
const changeEdition: ActionStep = async (input, ctx) => {
  const items = await ctx.acronis.getOfferingItems(input.facts.tenantId, { edition: '*' });
  return { facts: (await switchEditionIfNeeded(input, ctx, items)).facts };
};

/** The item's key as the API tells items apart: name and storage. */
const keyOf = (item: { name: string; infra_id?: string | undefined }) => `${item.name}@${item.infra_id ?? ''}`;

/**
 * The PUT that reconciles the tenant's items with the profile as a whole: what the profile wants
 * on (with its quotas, each with the current quota's version), what it knows of the partner's
 * offer but does not want off, and items it does not know left alone (as Acronis' own module does).
 */
export function reconcileItems(
  current: readonly OfferingItem[],
  wanted: readonly OfferingItemChange[],
  known: readonly OfferingItem[],
): OfferingItemChange[] {
  const currentByKey = new Map(current.map((i) => [keyOf(i), i]));
  const wantedKeys = new Set(wanted.map(keyOf));
  const on = wanted.map((change) => {
    const now = currentByKey.get(keyOf(change));
    if (!change.quota || !now?.quota) return change;
    return { ...change, quota: { ...change.quota, version: now.quota.version } };
  });
  const knownKeys = new Set(known.map(keyOf));
  const off = current
    .filter((i) => i.status === 1 && knownKeys.has(keyOf(i)) && !wantedKeys.has(keyOf(i)))
    .map((i) => toOfferingItemChange(i, { status: 0 }));
  return [...on, ...off];
}

/** The usage refusal names its item in `error.context` (docs/acronis-api.md §4.4, §12). */
function itemInUse(err: unknown): string | undefined {
  if (!(err instanceof AcronisApiError) || err.status !== 400) return undefined;
  const name = err.context.name;
  return typeof name === 'string' && /usage/i.test(`${err.info ?? ''} ${err.message}`) ? name : undefined;
}

/**
 * change, first: the tenant's items read once, the edition switched when it changes, then the
 * items reconciled as a whole in one PUT (all or nothing on the API's side).
 */
const changeOfferingItems: ActionStep = async (input, ctx) => {
  const profile = changeProfile(input);
  const read = await ctx.acronis.getOfferingItems(input.facts.tenantId, { edition: '*' });
  // A chain queued before the edition switch moved into this step has switched already.
  const switched = input.facts.editionTo === undefined ? await switchEditionIfNeeded(input, ctx, read) : undefined;
  const facts = switched?.facts ?? input.facts;
  const current = switched?.items ?? read;
  const edition = facts.editionTo ?? profileEditionFor(profile, input.params.edition);
  const available = await ctx.offers.availableForChild(input.partnerTenantId, edition);
  const { plan, ...own } = planOwnQuotas({
    available,
    profile,
    edition,
    kept: await ctx.ownQuotas(),
    named: input.params.quotas,
    reset: input.params.resetQuotas,
  });
  const changes = reconcileItems(current, plan, available);
  try {
    await ctx.acronis.putOfferingItems(input.facts.tenantId, changes, { checkUsage: true });
  } catch (err) {
    const item = itemInUse(err);
    if (!item) throw err;
    const before = (facts.notes ?? []).join('; ') || 'nothing';
    const outcome = `offering item ${item} has usage and cannot be disabled: no item changed (the PUT is all or nothing); applied before it: ${before}`;
    await ctx.log(outcome);
    return { facts, end: { state: 'failed', outcome } };
  }
  // After the PUT: the tenant has them now. A re-run after a crash here computes the same quotas.
  await ctx.rememberOwnQuotas(own.quotas);
  const off = changes.filter((c) => c.status === 0).length;
  const note = [`${changes.length - off} items on, ${off} off`, ownQuotasNote(own)].filter(Boolean).join('; ');
  await ctx.log(note);
  return { facts: noted({ ...facts, itemsChanged: changes.length }, note) };
};

/** change: production pricing when the profile says so; the switch is one-way (docs/acronis-api.md §5). */
const changePricing: ActionStep = async (input, ctx) => {
  const profile = changeProfile(input);
  if (profile.pricing_mode !== 'production') return { facts: input.facts };
  const current = await ctx.acronis.getPricing(input.facts.tenantId);
  if (current.mode === 'production') return { facts: { ...input.facts, pricingMode: current.mode } };
  const updated = await ctx.acronis.setPricing(input.facts.tenantId, { mode: 'production', version: current.version });
  return { facts: noted({ ...input.facts, pricingMode: updated.mode }, `pricing ${current.mode} → ${updated.mode}`) };
};

/**
 * change: the admin's roles as the profile says. The PUT replaces the whole set, so it is sent only
 * when the profile's roles differ from those acronis-onboard set last: a change that keeps the
 * roles sends nothing, and leaves alone roles someone added by hand in the portal. `reapplyRoles`
 * (reconcile --fix, which read the roles differ) sends them whatever was set last.
 */
const changeRoles: ActionStep = async (input, ctx) => {
  const kept = await rolesKept(input, ctx);
  if (kept) return kept;
  const profile = changeProfile(input);
  const userId = (await ctx.adminUserId()) as string;
  const policies = await ctx.acronis.setAccessPolicies(
    userId,
    profile.roles.map((roleId) => ({ roleId, tenantId: input.facts.tenantId })),
  );
  return {
    facts: noted({ ...input.facts, roles: policies.map((p) => p.role_id) }, `roles ${profile.roles.join(', ')}`),
  };
};

/** change-roles with nothing to send (no admin user recorded, or the roles set last are the profile's): its result; else undefined. */
const rolesKept: ActionStep<ActionStepResult | undefined> = async (input, ctx) => {
  const profile = changeProfile(input);
  const userId = await ctx.adminUserId();
  if (!userId) return { facts: noted(input.facts, 'no admin user recorded: roles left as they are') };
  const last = await ctx.rolesSetLast();
  const wanted = [...profile.roles];
  if (last && sameSet(last, wanted) && !input.params.reapplyRoles)
    return { facts: noted({ ...input.facts, roles: wanted }, `roles ${wanted.join(', ')} kept`) };
  return undefined;
};

const sameSet = (a: readonly string[], b: readonly string[]) =>
  new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));

/** change: the tenant's two-factor setting, when the profile has one. */
const changeMfa: ActionStep = async (input, ctx) => {
  const wanted = changeProfile(input).mfa;
  if (wanted === undefined) return { facts: input.facts };
  const current = await ctx.acronis.getTenantMfa(input.facts.tenantId);
  if ((current.mfa_status === 'enabled') === wanted) return { facts: { ...input.facts, mfa: wanted } };
  await ctx.acronis.setTenantMfa(input.facts.tenantId, wanted);
  return { facts: noted({ ...input.facts, mfa: wanted }, `two-factor ${wanted ? 'on' : 'off'}`) };
};

function wantedContact(input: StepInput): ContactFields {
  const contact = input.params.contact;
  if (!contact) throw new StepInputError(input.customerKey, 'contact', 'a contact change needs a contact');
  return contactFields(contact);
}

/** contact, first: the tenant's contact, the fields that differ (nothing sent when none does). */
const changeContact: ActionStep = async (input, ctx) => {
  const { changed } = await setTenantContact(ctx.acronis, input.facts.tenantId, wantedContact(input));
  const note = changed.length > 0 ? `tenant contact ${changed.join(', ')} changed` : 'tenant contact as asked already';
  await ctx.log(note);
  return { facts: noted(input.facts, note) };
};

/** contact, then: the admin user's contact, the same way; an activated user's new e-mail waits for its confirmation. */
const changeUserContact: ActionStep = async (input, ctx) => {
  const userId = await ctx.adminUserId();
  if (!userId) return { facts: noted(input.facts, 'no admin user recorded: its contact left as it is') };
  const { changed, emailAwaitsConfirmation } = await setUserContact(ctx.acronis, userId, wantedContact(input), {
    at: input.facts.userContactSentAt,
    beforeSend: (version) => ctx.checkpoint({ userContactSentAt: version }),
  });
  const done =
    changed.length > 0
      ? `admin user contact ${changed.join(', ')} changed`
      : emailAwaitsConfirmation
        ? 'admin user e-mail change sent already'
        : 'admin user contact as asked already';
  const note = emailAwaitsConfirmation
    ? `${done}; the new e-mail applies once the link sent to the old address is opened`
    : done;
  await ctx.log(note);
  return { facts: noted(input.facts, note) };
};

/**
 * Steps whose having nothing to send is known without the API: the step before asks when it
 * ends and, when so, records this step's result and hands over past it, sparing its job (one
 * job hop and ~47 Redis commands at the end of every change that keeps its roles). Asked at the
 * same point of the customer's line as the step's own job would be (no other action runs on the
 * customer in between), so it decides the same.
 */
export const SENDS_NOTHING: Partial<Record<ActionStepName, ActionStep<ActionStepResult | undefined>>> = {
  'change-roles': rolesKept,
};

/** Every action step's handler. */
export const ACTION_STEPS: Record<ActionStepName, ActionStep> = {
  'set-enabled': setEnabled,
  'offboard-disable': offboardDisable,
  'offboard-delete': offboardDelete,
  'change-edition': changeEdition,
  'change-offering-items': changeOfferingItems,
  'change-pricing': changePricing,
  'change-roles': changeRoles,
  'change-mfa': changeMfa,
  'change-contact': changeContact,
  'change-user-contact': changeUserContact,
};
