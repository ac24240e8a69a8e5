import type { AcronisEndpoints } from '../acronis/client.js';
import type { ListedTenant } from '../acronis/tenant-listing.js';
import { USAGES_BATCH_MAX, type Usage } from '../acronis/usages.js';
import type { ListedUser } from '../acronis/user-listing.js';

/** The Acronis calls a sweep makes, every one through the install's client and request budget. */
export type ReconcileApi = Pick<AcronisEndpoints, 'listTenantsPage' | 'listUsersPage' | 'getTenantsUsages'>;

/**
 * Listing pages per call. 1,000 keeps 5,000 customers to 5 pages of tenants (and 5–6 of users)
 * while a page of tenants with their items inline (≈20 items each) stays a few MB to parse and
 * hold; the API's own default (5,000 tenants, 2,000 users) would make one page of ≈25 MB.
 */
const PAGE_SIZE = 1000;

/** Counts a sweep's calls and listing pages (for its summary, the metrics and the bench). */
export class CountedReads {
  calls = 0;
  listingPages = 0;

  constructor(private readonly api: ReconcileApi) {}

  /** Every tenant under the partner with its offering items inline, deleted ones included. */
  async subtreeTenants(partnerTenantId: string): Promise<{ tenants: ListedTenant[]; timestamp?: string }> {
    const tenants: ListedTenant[] = [];
    let timestamp: string | undefined;
    let after: string | undefined;
    do {
      const query = after
        ? { after, limit: PAGE_SIZE }
        : { subtreeRootId: partnerTenantId, allowDeleted: true, expandOfferingItems: true, limit: PAGE_SIZE };
      const page = await this.count(() => this.api.listTenantsPage(query), true);
      timestamp ??= page.timestamp;
      tenants.push(...page.items);
      after = page.after;
    } while (after !== undefined);
    return { tenants, ...(timestamp ? { timestamp } : {}) };
  }

  /** Every user under the partner with its roles (deleted ones are not listed: they show as gone). */
  async subtreeUsers(partnerTenantId: string): Promise<ListedUser[]> {
    const users: ListedUser[] = [];
    let after: string | undefined;
    do {
      const query = after
        ? { after, limit: PAGE_SIZE }
        : { subtreeRootTenantId: partnerTenantId, withAccessPolicies: true, limit: PAGE_SIZE };
      const page = await this.count(() => this.api.listUsersPage(query), true);
      users.push(...page.items);
      after = page.after;
    } while (after !== undefined);
    return users;
  }

  /** The usages of these tenants, one batched call per 100 of them. */
  async usages(tenantIds: readonly string[]): Promise<Map<string, Usage[]>> {
    const byTenant = new Map<string, Usage[]>();
    for (let at = 0; at < tenantIds.length; at += USAGES_BATCH_MAX) {
      const batch = tenantIds.slice(at, at + USAGES_BATCH_MAX);
      for (const entry of await this.count(() => this.api.getTenantsUsages(batch)))
        byTenant.set(entry.tenant, entry.usages);
    }
    return byTenant;
  }

  private async count<T>(call: () => Promise<T>, page = false): Promise<T> {
    this.calls++;
    if (page) this.listingPages++;
    return call();
  }
}
