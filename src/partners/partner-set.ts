/**
 * The partner accounts an install serves (docs/partners.md): each a partner tenant reached with
 * its own API client in one data centre. Partners that share a data centre share its request
 * budget and its step queue; a customer names its partner, or gets the default one.
 */

/** Lower case, so a CSV's `EU` and a webhook's `eu` are the same partner. */
export const PARTNER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The partner of an install configured the old way (ACRONIS_BASE_URL, ACRONIS_CLIENT_ID…). */
export const ENV_PARTNER_NAME = 'default';

export interface Partner {
  name: string;
  /** The data centre's URL, as ACRONIS_BASE_URL takes it (no `/api/2`). */
  dataCenterUrl: string;
  /** The data centre's id: the URL's host[:port], lower case. */
  dataCenter: string;
  clientId: string;
  clientSecret: string;
  /** The environment variables its client comes from, for messages that say what to check. */
  variables: { clientId: string; clientSecret: string };
  /** Configured; absent: the API client's own tenant. */
  parentTenantId?: string;
  /** The profile its customers get when they name none; absent: ONBOARDING_PROFILE (or the built-in one). */
  profilePath?: string;
  rateLimit: number;
  rateCeiling?: number;
}

/** One data centre of the install: one request budget and one step queue for the partners in it. */
export interface DataCenter {
  id: string;
  url: string;
  partners: readonly Partner[];
  /** The lowest limit its partners state: one budget serves them all. */
  rateLimit: number;
  rateCeiling?: number;
  /** `onboarding` for the default partner's data centre (installs from before partners keep their queue). */
  queueName: string;
  /** Whether it is the default partner's: its budget keeps the keys of an install from before partners. */
  primary: boolean;
}

/** A customer named a partner the install does not serve. */
export class UnknownPartnerError extends Error {
  constructor(
    readonly partner: string,
    readonly known: readonly string[],
  ) {
    super(`unknown partner "${partner}": this install serves ${known.map((k) => `"${k}"`).join(', ')}`);
    this.name = 'UnknownPartnerError';
  }
}

/** The data centre's id of a URL: its host and, when not the scheme's default, its port. */
export function dataCenterOf(url: string): string {
  return new URL(url).host.toLowerCase();
}

/** The default queue stays `onboarding`; another data centre's name is BullMQ-safe (no `:`). */
export function queueNameFor(dataCenter: string, primary: boolean): string {
  return primary ? 'onboarding' : `onboarding.${dataCenter.replace(/[^a-z0-9.-]/g, '-')}`;
}

export class PartnerSet {
  readonly dataCenters: readonly DataCenter[];
  private readonly byName: ReadonlyMap<string, Partner>;

  constructor(
    readonly all: readonly Partner[],
    defaultName: string,
  ) {
    this.byName = new Map(all.map((p) => [p.name, p]));
    const fallback = this.byName.get(defaultName);
    if (!fallback) throw new UnknownPartnerError(defaultName, this.names);
    this.default = fallback;
    this.dataCenters = groupByDataCenter(all, fallback);
  }

  readonly default: Partner;

  get names(): string[] {
    return this.all.map((p) => p.name);
  }

  /** Whether more than one partner is served: surfaces name the partner only then. */
  get several(): boolean {
    return this.all.length > 1;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** The partner of that name (any case); none given: the default one. */
  get(name?: string): Partner {
    if (name === undefined || name === '') return this.default;
    const partner = this.byName.get(name.trim().toLowerCase());
    if (!partner) throw new UnknownPartnerError(name, this.names);
    return partner;
  }

  dataCenterOf(partnerName?: string): DataCenter {
    const { dataCenter } = this.get(partnerName);
    return this.dataCenters.find((dc) => dc.id === dataCenter) as DataCenter;
  }
}

function groupByDataCenter(partners: readonly Partner[], primary: Partner): DataCenter[] {
  const ids = [...new Set([primary.dataCenter, ...partners.map((p) => p.dataCenter)])];
  return ids.map((id) => {
    const members = partners.filter((p) => p.dataCenter === id);
    const first = members[0] as Partner;
    const ceilings = members.flatMap((p) => (p.rateCeiling === undefined ? [] : [p.rateCeiling]));
    const isPrimary = id === primary.dataCenter;
    return {
      id,
      url: first.dataCenterUrl,
      partners: members,
      rateLimit: Math.min(...members.map((p) => p.rateLimit)),
      ...(ceilings.length > 0 ? { rateCeiling: Math.min(...ceilings) } : {}),
      queueName: queueNameFor(id, isPrimary),
      primary: isPrimary,
    };
  });
}
