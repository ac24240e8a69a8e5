import type { AcronisEndpoints } from '../acronis/client.js';
import type { ContactChange } from './action.js';
import { isVersionMismatch, MAX_VERSION_ROUNDS, VersionRaceError } from './tenant-state.js';

/**
 * A contact change (docs/lifecycle.md "Contact"): the tenant's contact and the admin user's, each
 * read before it is written, so nothing is sent when it is so already and a re-run after the
 * API committed sends nothing more.
 */

/** The contactPut fields a contact change sets. */
export interface ContactFields {
  email?: string;
  firstname?: string;
  lastname?: string;
  phone?: string;
}

export function contactFields(change: ContactChange): ContactFields {
  return {
    ...(change.email ? { email: change.email } : {}),
    ...(change.first_name ? { firstname: change.first_name } : {}),
    ...(change.last_name ? { lastname: change.last_name } : {}),
    ...(change.phone ? { phone: change.phone } : {}),
  };
}

/** The wanted fields that differ from what the API shows. */
export function contactDiff(
  current: Partial<Record<keyof ContactFields, unknown>> | null | undefined,
  wanted: ContactFields,
) {
  const diff: ContactFields = {};
  for (const [field, value] of Object.entries(wanted) as [keyof ContactFields, string][])
    if (current?.[field] !== value) diff[field] = value;
  return diff;
}

type ContactCalls = Pick<AcronisEndpoints, 'getTenant' | 'updateTenant' | 'getUser' | 'updateUser'>;

/** The tenant's contact: 1 read, and 1 write of the fields that differ; a stale version reads again. */
export async function setTenantContact(
  acronis: ContactCalls,
  tenantId: string,
  wanted: ContactFields,
): Promise<{ changed: (keyof ContactFields)[] }> {
  for (let round = 0; round < MAX_VERSION_ROUNDS; round++) {
    const tenant = await acronis.getTenant(tenantId);
    const diff = contactDiff(tenant.contact, wanted);
    const changed = Object.keys(diff) as (keyof ContactFields)[];
    if (changed.length === 0) return { changed };
    try {
      await acronis.updateTenant(tenantId, { contact: diff, version: tenant.version });
      return { changed };
    } catch (err) {
      if (!isVersionMismatch(err)) throw err;
    }
  }
  throw new VersionRaceError(`tenant ${tenantId}`);
}

export interface UserContactResult {
  changed: (keyof ContactFields)[];
  /** The user is activated: its new e-mail waits for the link the platform sent to the old address. */
  emailAwaitsConfirmation: boolean;
}

/**
 * The admin user's contact: 1 read, and 1 write of the fields that differ; a stale version reads
 * again. An activated user's new e-mail reads unchanged until the confirmation link sent to the
 * old address is opened, so before such a PUT leaves, `beforeSend` records the user's version:
 * a re-run (`sentAt`) that finds the version past it knows the link left and sends no second one.
 */
export async function setUserContact(
  acronis: ContactCalls,
  userId: string,
  wanted: ContactFields,
  sent: { at: number | undefined; beforeSend(version: number): Promise<void> },
): Promise<UserContactResult> {
  let sentAt = sent.at;
  for (let round = 0; round < MAX_VERSION_ROUNDS; round++) {
    const user = await acronis.getUser(userId);
    const diff = contactDiff(user.contact, wanted);
    if (diff.email !== undefined && user.activated && sentAt !== undefined && user.version > sentAt) delete diff.email;
    const changed = Object.keys(diff) as (keyof ContactFields)[];
    const emailAwaitsConfirmation =
      user.activated && wanted.email !== undefined && user.contact?.email !== wanted.email;
    if (changed.length === 0) return { changed, emailAwaitsConfirmation };
    if (diff.email !== undefined && user.activated) await sent.beforeSend(user.version);
    try {
      await acronis.updateUser(userId, { contact: diff, version: user.version });
      return { changed, emailAwaitsConfirmation };
    } catch (err) {
      if (!isVersionMismatch(err)) throw err;
      // Refused: this PUT changed nothing, so a later version is someone else's.
      sentAt = undefined;
    }
  }
  throw new VersionRaceError(`user ${userId}`);
}
