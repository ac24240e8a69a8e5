/**
 * The fixed parts of the simulated cloud: applications (services), storage infrastructure
 * and the offering items the seeded partner sells.
 */

export const BACKUP_APPLICATION_ID = '6e6d758d-8e74-3ae3-ac84-50eb0dff12eb';
export const PLATFORM_APPLICATION_ID = '7459244f-68f3-3bf4-9f53-5f63ecc1d91f';
export const FILES_CLOUD_APPLICATION_ID = 'dfd85a5f-a464-32ab-81fd-99bcc66a070f';
export const NOTARY_APPLICATION_ID = 'a9c5ff5d-2e1f-3c0c-8d64-6d6e0a4f3d9b';

export type OfferingItemType = 'count' | 'feature' | 'infra';
export type MeasurementUnit = 'bytes' | 'quantity' | 'seconds' | 'n/a';

export interface Application {
  id: string;
  name: string;
  type: 'backup' | 'files_cloud' | 'platform' | 'notary';
  api_base_url: string;
}

export interface CatalogueItem {
  applicationId: string;
  name: string;
  edition: string | null;
  usageName: string;
  type: OfferingItemType;
  measurementUnit: MeasurementUnit;
  infraId?: string;
  /** The item that must be enabled beside this one (code 1023 otherwise, docs/acronis-api.md §4.4). */
  requires?: string;
}

/** The fixed ids are documented (docs/acronis-api.md §4.1); notary's is made up. */
export const APPLICATIONS: Application[] = [
  { id: BACKUP_APPLICATION_ID, name: 'Cyber Protection', type: 'backup', api_base_url: '/api/backup' },
  { id: PLATFORM_APPLICATION_ID, name: 'Platform', type: 'platform', api_base_url: '/api/2' },
  { id: FILES_CLOUD_APPLICATION_ID, name: 'File Sync & Share', type: 'files_cloud', api_base_url: '/fc' },
  { id: NOTARY_APPLICATION_ID, name: 'Notary', type: 'notary', api_base_url: '/api/notary' },
];

/** The platform application is always on and cannot be disabled (docs/acronis-api.md §4.1). */
export const ALWAYS_ON_APPLICATIONS = [PLATFORM_APPLICATION_ID];

/**
 * Editions the platform knows (docs/acronis-api.md §4.5). An edition outside this list answers
 * 400, e.g. PYX's typo `pck_per_gigabite`.
 */
export const KNOWN_EDITIONS = new Set([
  'pck_per_workload',
  'pck_per_gigabyte',
  'fss_legacy',
  'fss_per_gigabyte',
  'fss_per_user',
  'per_workload',
  'per_gigabyte',
  'standard',
  'advanced',
  'disaster_recovery',
  'cyber_protect_std',
  'cyber_protect_adv',
  'cyber_protect_dre',
]);

export type InfraCapability = 'backup' | 'disaster_recovery' | 'files_cloud' | 'vcd';

export interface InfraSeed {
  /** Fixed where Acronis's examples rely on it; random (or seed-derived) otherwise. */
  id?: string;
  name: string;
  locationName: string;
  capabilities: InfraCapability[];
  backendType: string;
}

/** The regular backup storages, one per location; `storages: N` seeds the first N (more are numbered). */
const REGULAR_STORAGES: Omit<InfraSeed, 'backendType'>[] = [
  { name: 'Cloud Storage EU', locationName: 'Europe (Frankfurt)', capabilities: ['backup'] },
  { name: 'Cloud Storage US', locationName: 'United States (Boston)', capabilities: ['backup'] },
  { name: 'Cloud Storage UK', locationName: 'United Kingdom (London)', capabilities: ['backup'] },
  { name: 'Cloud Storage AU', locationName: 'Australia (Sydney)', capabilities: ['backup'] },
];

export function regularStorage(index: number): InfraSeed {
  const known = REGULAR_STORAGES[index];
  if (known) return { ...known, backendType: 'fes' };
  const n = index + 1;
  return { name: `Cloud Storage ${n}`, locationName: `Location ${n}`, capabilities: ['backup'], backendType: 'fes' };
}

/**
 * The disaster-recovery storage beside the regular one, as in Acronis's sandbox (dev-cloud):
 * its id is the one the official examples filter out of a new customer's items ("Google DR
 * storage for dev-cloud"), so their customer creation meets the one-storage rule as it does there.
 */
export const DR_STORAGE: InfraSeed = {
  id: 'ba2976d0-c13e-4661-ae60-b4593583fce2',
  name: 'Disaster Recovery Storage (Google Cloud)',
  locationName: 'Google Cloud (Europe)',
  capabilities: ['disaster_recovery'],
  backendType: 'gcs',
};

const count = (applicationId: string, name: string, edition: string | null, usageName: string): CatalogueItem => ({
  applicationId,
  name,
  edition,
  usageName,
  type: 'count',
  measurementUnit: 'quantity',
});

/**
 * Per edition the same workloads under the edition's prefix (docs/acronis-api.md §4.5):
 * `pw_base_` for pck_per_workload, `pg_base_` for pck_per_gigabyte, none for legacy
 * `standard`; `usage_name` drops the prefix. Every storage item exists once per infra:
 * `storage` on a backup infra, `dr_storage` on a disaster-recovery one. Mailboxes need their
 * seats enabled (code 1023, docs/acronis-api.md §4.4).
 */
export function buildCatalogue(infras: { id: string; capabilities: InfraCapability[] }[]): CatalogueItem[] {
  const items: CatalogueItem[] = [];
  const editions: [string, string][] = [
    ['pck_per_workload', 'pw_base_'],
    ['pck_per_gigabyte', 'pg_base_'],
    ['standard', ''],
  ];
  for (const [edition, prefix] of editions) {
    for (const workload of ['workstations', 'servers', 'vms', 'mobiles']) {
      items.push(count(BACKUP_APPLICATION_ID, `${prefix}${workload}`, edition, workload));
    }
    if (edition !== 'standard') {
      items.push(count(BACKUP_APPLICATION_ID, `${prefix}m365_seats`, edition, 'm365_seats'));
      items.push({
        ...count(BACKUP_APPLICATION_ID, `${prefix}m365_mailboxes`, edition, 'm365_mailboxes'),
        requires: `${prefix}m365_seats`,
      });
    }
    for (const infra of infras) {
      const usageName = infra.capabilities.includes('backup') ? 'storage' : 'dr_storage';
      items.push({
        applicationId: BACKUP_APPLICATION_ID,
        name: `${prefix}${usageName}`,
        edition,
        usageName,
        type: 'infra',
        measurementUnit: 'bytes',
        infraId: infra.id,
      });
    }
  }
  // Editionless items are never filtered out by `edition` (docs/acronis-api.md §4.3).
  items.push({
    applicationId: BACKUP_APPLICATION_ID,
    name: 'local_storage',
    edition: null,
    usageName: 'local_storage',
    type: 'feature',
    measurementUnit: 'n/a',
  });
  items.push({
    applicationId: BACKUP_APPLICATION_ID,
    name: 'compute_points',
    edition: null,
    usageName: 'compute_points',
    type: 'count',
    measurementUnit: 'seconds',
  });
  items.push(count(NOTARY_APPLICATION_ID, 'notarizations', null, 'notarizations'));
  items.push(count(NOTARY_APPLICATION_ID, 'esignatures', null, 'esignatures'));
  return items;
}

export function itemKey(name: string, infraId: string | null | undefined): string {
  return infraId ? `${name}|${infraId}` : name;
}
