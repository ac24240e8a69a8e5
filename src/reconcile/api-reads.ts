import type { AcronisEndpoints } from '../acronis/client.js';
import type { OfferingItem } from '../acronis/offering-items.js';
import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { Usage } from '../acronis/usages.js';
import type { ListedUser } from '../acronis/user-listing.js';

/** The Acronis calls a sweep makes, every one through the install's client and request budget. */
export type ReconcileApi = Pick<
  AcronisEndpoints,
  'listTenantsPage' | 'listUsersPage' | 'getOfferingItems' | 'getTenantUsages'
>;

/** Listing pages per call: large, so 5,000 customers are a few pages. */
const PAGE_SIZE = 1000;

/** Counts a sweep's calls and listing pages (for its summary, the metrics and the bench). */
export class CountedReads {
  calls = 0;
  listingPages = 0;

  constructor(private readonly api: ReconcileApi) {}

  /** Every tenant under the partner (changed since `updatedSince` when given), deleted ones included. */
  async subtreeTenants(
    partnerTenantId: string,
    updatedSince?: Date,
  ): Promise<{ tenants: ListedTenant[]; timestamp?: string }> {
    const tenants: ListedTenant[] = [];
    let timestamp: string | undefined;
    let after: string | undefined;
    do {
      const query = after
        ? { after, limit: PAGE_SIZE }
        : {
            subtreeRootId: partnerTenantId,
            allowDeleted: true,
            limit: PAGE_SIZE,
            ...(updatedSince ? { updatedSince } : {}),
          };
      const page = await this.count(() => this.api.listTenantsPage(query), true);
      timestamp ??= page.timestamp;
      tenants.push(...page.items);
      after = page.after;
    } while (after !== undefined);
    return { tenants, ...(timestamp ? { timestamp } : {}) };
  }

  /** Tenants by id, 100 a call (the listing's limit on `uuids`), deleted ones included. */
  async tenantsById(ids: readonly string[]): Promise<ListedTenant[]> {
    const tenants: ListedTenant[] = [];
    for (let at = 0; at < ids.length; at += 100) {
      const page = await this.count(() => this.api.listTenantsPage({ uuids: ids.slice(at, at + 100) }), true);
      tenants.push(...page.items);
    }
    return tenants;
  }

  /** Users under the partner changed since `updatedSince` (deleted ones are not listed: they show as gone). */
  async changedUsers(partnerTenantId: string, updatedSince: Date): Promise<ListedUser[]> {
    const users: ListedUser[] = [];
    let after: string | undefined;
    do {
      const query = after
        ? { after, limit: PAGE_SIZE }
        : { subtreeRootTenantId: partnerTenantId, updatedSince, limit: PAGE_SIZE };
      const page = await this.count(() => this.api.listUsersPage(query), true);
      users.push(...page.items);
      after = page.after;
    } while (after !== undefined);
    return users;
  }

  /** The tenant's users with their roles: one call (a customer has a handful). */
  async tenantUsers(tenantId: string): Promise<ListedUser[]> {
    const page = await this.count(() => this.api.listUsersPage({ tenantId, withAccessPolicies: true }));
    return page.items;
  }

  items(tenantId: string): Promise<OfferingItem[]> {
    return this.count(() => this.api.getOfferingItems(tenantId, { edition: '*' }));
  }

  usages(tenantId: string): Promise<Usage[]> {
    return this.count(() => this.api.getTenantUsages(tenantId));
  }

  private async count<T>(call: () => Promise<T>, page = false): Promise<T> {
    this.calls++;
    if (page) this.listingPages++;
    return call();
  }
}
