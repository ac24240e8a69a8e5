import { agentInstallCommands } from '../onboarding/agent-install.js';
import { customerField, SecretBoxError, type SecretBox } from '../secrets/secret-box.js';
import type { EnqueueOutcome, OnboardingStore } from './onboarding-store.js';

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

export async function batchResults(
  deps: { store: OnboardingStore; box: SecretBox; dataCenterUrl: string },
  batchId: string,
): Promise<CustomerResult[]> {
  const customers = await deps.store.batchCustomers(batchId);
  return customers.map(({ key, outcome, record }) => {
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
    const install = token
      ? agentInstallCommands({ dataCenterUrl: deps.dataCenterUrl, token })
      : { windows: '', linux: '' };
    return {
      customer: key,
      name: record?.name ?? '',
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
  });
}
