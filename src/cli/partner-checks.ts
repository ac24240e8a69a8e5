import type { App } from '../app/app.js';
import { checkProfileOffer } from '../app/onboarding-setup.js';
import { AcronisApiError } from '../acronis/errors.js';
import type { Config } from '../config.js';
import { loadProfile, ProfileError } from '../onboarding/profile.js';
import { partnerAccessProblem } from '../partners/partner-refusal.js';
import type { Partner } from '../partners/partner-set.js';
import { tty } from './terminal-text.js';

/**
 * `check` with a partners file (docs/partners.md): each partner on its own, so one with a wrong
 * secret is named while the others are shown to work — a new token for its client, its partner
 * tenant (a partner or folder), its profile against its offer.
 */

/** The single-partner variables PARTNERS_FILE replaces: set beside it, they are not used. */
const REPLACED = [
  'ACRONIS_BASE_URL',
  'ACRONIS_CLIENT_ID',
  'ACRONIS_CLIENT_SECRET',
  'ACRONIS_PARENT_TENANT_ID',
] as const;

export function unusedVariablesWarning(config: Config, partners: readonly Partner[]): string | undefined {
  if (!config.PARTNERS_FILE) return undefined;
  // A file made by `bootstrap --partner` names ACRONIS_CLIENT_ID and _SECRET for the partner they served.
  const named = new Set(partners.flatMap((p) => [p.variables.clientId, p.variables.clientSecret]));
  const set = REPLACED.filter((name) => config[name] !== undefined && !named.has(name));
  if (set.length === 0) return undefined;
  return `Warning          ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but not used: PARTNERS_FILE names the partners`;
}

export interface PartnerVerdict {
  partner: string;
  ok: boolean;
  lines: string[];
}

/** Every partner checked at once (each through its own data centre's budget); in the file's order. */
export function checkPartners(app: App): Promise<PartnerVerdict[]> {
  return Promise.all(app.partners.all.map((partner) => checkPartner(app, partner)));
}

async function checkPartner(app: App, partner: Partner): Promise<PartnerVerdict> {
  const label = `Partner ${partner.name}`.padEnd(16);
  try {
    const lines = await partnerLines(app, partner);
    const ok = !lines.some((line) => line.startsWith('  warning'));
    return {
      partner: partner.name,
      ok,
      lines: [tty`${label} ${ok ? 'ok' : 'warning'} (${partner.dataCenterUrl})`, ...lines],
    };
  } catch (err) {
    return { partner: partner.name, ok: false, lines: [tty`${label} refused: ${problemOf(partner, err)}`] };
  }
}

async function partnerLines(app: App, partner: Partner): Promise<string[]> {
  const lane = app.lane(partner.name);
  const { acronis } = lane;
  await acronis.issueFreshToken();
  const apiClient = await acronis.getApiClient(acronis.clientId);
  const partnerTenantId = partner.parentTenantId ?? apiClient.tenant_id;
  const tenant = await acronis.getTenant(partnerTenantId);
  const own = partner.parentTenantId ? '' : " — the API client's own tenant";
  const lines = [
    tty`  API client     ${apiClient.client_id} in tenant ${apiClient.tenant_id} (${apiClient.status ?? 'status unknown'}): a new token issued`,
    tty`  parent tenant  ${tenant.name} (${tenant.kind}, ${tenant.id})` + own,
  ];
  if (tenant.kind !== 'partner' && tenant.kind !== 'folder')
    return [
      ...lines,
      tty`  warning        customers can be created only under a partner or folder tenant, not under a ${tenant.kind}`,
    ];
  const source = partner.profilePath ?? app.config.ONBOARDING_PROFILE;
  await checkProfileOffer(await loadProfile(source), source ?? 'built-in standard', partnerTenantId, lane.offers);
  return [...lines, tty`  profile        ${source ?? 'built-in standard'}: its offer has every item it enables`];
}

function problemOf(partner: Partner, err: unknown): string {
  const access = partnerAccessProblem(partner, err);
  if (access) return access;
  if (err instanceof ProfileError || err instanceof AcronisApiError) return err.message;
  throw err;
}
