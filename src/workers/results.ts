import { agentInstallCommands } from '../onboarding/agent-install.js';
import { UnknownPartnerError } from '../partners/partner-set.js';
import { customerField, SecretBoxError, type SecretBox } from '../secrets/secret-box.js';
import type { CustomerRecord, EnqueueOutcome, OnboardingStore } from './onboarding-store.js';

/**
 * One row per customer submitted in a batch: where it stands, why it failed, and for the
 * onboarded ones what the MSP hands on — ids, the admin login, the password when we set
 * one, the agent registration token and ready-to-paste install commands. Secrets are
 * opened here, for the operator who asked, and nowhere else; one that does not open (another
 * SECRETS_KEY, or altered) leaves its cell empty and is named in `unreadable`, and the rest of
 * the row and the batch is still given.
 */
export interface CustomerResult {
  customer: string;
  name: string;
  /** With several partners only (docs/partners.md): the customer's partner and its data centre's URL. */
  partner?: string;
  data_center?: string;
  submitted: EnqueueOutcome;
  state: string;
  step: string;
  failed_step: string;
  error: string;
  tenant_id: string;
  user_id: string;
  login: string;
  activation: string;
  password: string;
  registration_token: string;
  token_expires_at: string;
  install_windows: string;
  install_linux: string;
  /** Secrets of this row that could not be opened, each with the reason; empty when all opened. */
  unreadable: string;
}

export const RESULT_COLUMNS: (keyof CustomerResult)[] = [
  'customer',
  'name',
  'submitted',
  'state',
  'step',
  'failed_step',
  'error',
  'tenant_id',
  'user_id',
  'login',
  'activation',
  'password',
  'registration_token',
  'token_expires_at',
  'install_windows',
  'install_linux',
  'unreadable',
];

/** With several partners, each row also names its partner and data centre, after the name. */
export const PARTNER_RESULT_COLUMNS: (keyof CustomerResult)[] = [
  ...RESULT_COLUMNS.slice(0, 2),
  'partner',
  'data_center',
  ...RESULT_COLUMNS.slice(2),
];

export interface ResultsDeps {
  store: OnboardingStore;
  box: SecretBox;
  /**
   * The data-centre URL the agents of a partner's customers register with (none: the default
   * partner's). Throws for a partner the install no longer serves.
   */
  dataCenterUrlFor(partner: string | undefined): string;
  /** Set when the install serves several partners: each row names its partner (none recorded: this one). */
  defaultPartner?: string;
}

export async function batchResults(deps: ResultsDeps, batchId: string): Promise<CustomerResult[]> {
  const customers = await deps.store.batchCustomers(batchId);
  return customers.map((customer) => resultRow(deps, customer));
}

type BatchEntry = Awaited<ReturnType<OnboardingStore['batchCustomers']>>[number];

function resultRow(deps: ResultsDeps, { key, outcome, record }: BatchEntry): CustomerResult {
  const unreadable: string[] = [];
  const open = (sealed: string | undefined, field: 'password' | 'registration_token') => {
    if (!sealed) return '';
    try {
      return deps.box.open(sealed, customerField(key, field));
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      unreadable.push(`${field}: ${err.message}`);
      return '';
    }
  };
  const token = open(record?.facts.tokenSealed, 'registration_token');
  const place = record ? placeOf(deps, record) : { partner: '', dataCenterUrl: '' };
  if (token && place.problem) unreadable.push(`install commands: ${place.problem}`);
  const install =
    token && place.dataCenterUrl
      ? agentInstallCommands({ dataCenterUrl: place.dataCenterUrl, token })
      : { windows: '', linux: '' };
  return {
    customer: key,
    name: record?.name ?? '',
    ...(deps.defaultPartner !== undefined ? { partner: place.partner, data_center: place.dataCenterUrl } : {}),
    submitted: outcome,
    state: record?.state ?? 'unknown',
    step: record?.step ?? '',
    failed_step: record?.state === 'failed' ? (record.failedStep ?? '') : '',
    error: record?.state === 'failed' ? (record.error ?? '') : '',
    tenant_id: record?.facts.tenantId ?? '',
    user_id: record?.facts.userId ?? '',
    login: record?.facts.login ?? '',
    activation: record?.facts.activation ?? '',
    password: open(record?.facts.passwordSealed, 'password'),
    registration_token: token,
    token_expires_at: record?.facts.tokenExpiresAt ?? '',
    install_windows: install.windows,
    install_linux: install.linux,
    unreadable: unreadable.join('; '),
  };
}

/** The customer's partner and data-centre URL; a partner the install no longer serves leaves the URL empty. */
function placeOf(
  deps: ResultsDeps,
  record: CustomerRecord,
): { partner: string; dataCenterUrl: string; problem?: string } {
  const partner = record.partner ?? deps.defaultPartner ?? '';
  try {
    return { partner, dataCenterUrl: deps.dataCenterUrlFor(record.partner) };
  } catch (err) {
    if (!(err instanceof UnknownPartnerError)) throw err;
    return { partner, dataCenterUrl: '', problem: err.message };
  }
}
