import got, { type Got, type Method } from 'got';
import { z } from 'zod';
import { SourceApiError, type KindContext } from '../kind.js';
import {
  additionSchema,
  agreementSchema,
  companyNoteSchema,
  companySchema,
  contactSchema,
  opportunitySchema,
  systemInfoSchema,
  type CustomFieldValue,
} from './api-schemas.js';
import { fromResponse, toSourceApiError } from './errors.js';
import type { ConnectWiseSettings } from './settings.js';

/**
 * ConnectWise PSA REST: Basic `companyId+publicKey:privateKey` plus the `clientId` header on
 * every call (docs/sources.md "ConnectWise PSA"). One function per endpoint, each through the
 * source's rate limit (`ctx.acquire`) and parsed with zod; no retries here (the intake's jobs own
 * them), and every failure leaves as a SourceApiError decided in errors.ts.
 */

export interface ConnectWiseCredentials {
  companyId: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

export function credentialsOf(
  settings: ConnectWiseSettings,
  secrets: Readonly<Record<string, string>>,
  source = 'connectwise',
): ConnectWiseCredentials {
  const read = (name: string): string => {
    const value = secrets[name];
    if (value === undefined || value === '')
      throw new SourceApiError(source, 'credentials', undefined, false, `${name} is not set`);
    return value;
  };
  return {
    companyId: read(settings.api.company_id_env),
    publicKey: read(settings.api.public_key_env),
    privateKey: read(settings.api.private_key_env),
    clientId: read(settings.api.client_id_env),
  };
}

/** The headers that authenticate us to ConnectWise (the API and the callback key URL alike). */
export function authHeaders(credentials: ConnectWiseCredentials): Record<string, string> {
  const basic = Buffer.from(`${credentials.companyId}+${credentials.publicKey}:${credentials.privateKey}`).toString(
    'base64',
  );
  return { authorization: `Basic ${basic}`, clientid: credentials.clientId };
}

const PAGE_SIZE = 1000;

export class ConnectWiseClient {
  private readonly http: Got;

  constructor(private readonly ctx: KindContext<ConnectWiseSettings>) {
    const credentials = credentialsOf(ctx.settings, ctx.secrets, ctx.source);
    this.http = got.extend({
      prefixUrl: ctx.settings.api.base_url.replace(/\/+$/, ''),
      headers: { ...authHeaders(credentials), accept: 'application/json' },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      timeout: { request: ctx.settings.api.timeout_ms },
    });
  }

  getCompany(id: number) {
    return this.call('GET', `company/companies/${id}`, 'GET /company/companies/{id}', companySchema);
  }

  getContact(id: number) {
    return this.call('GET', `company/contacts/${id}`, 'GET /company/contacts/{id}', contactSchema);
  }

  getAgreement(id: number) {
    return this.call('GET', `finance/agreements/${id}`, 'GET /finance/agreements/{id}', agreementSchema);
  }

  getAgreementAdditions(id: number) {
    const endpoint = 'GET /finance/agreements/{id}/additions';
    return this.call(
      'GET',
      `finance/agreements/${id}/additions?pageSize=${PAGE_SIZE}`,
      endpoint,
      z.array(additionSchema),
    );
  }

  getOpportunity(id: number) {
    return this.call('GET', `sales/opportunities/${id}`, 'GET /sales/opportunities/{id}', opportunitySchema);
  }

  /** ConnectWise takes a JSON Patch; replacing `customFields` sends the whole array back. */
  patchCompanyCustomFields(id: number, customFields: CustomFieldValue[]) {
    const ops = [{ op: 'replace', path: 'customFields', value: customFields }];
    return this.call('PATCH', `company/companies/${id}`, 'PATCH /company/companies/{id}', companySchema, ops);
  }

  listCompanyNotes(id: number) {
    const endpoint = 'GET /company/companies/{id}/notes';
    return this.call(
      'GET',
      `company/companies/${id}/notes?pageSize=${PAGE_SIZE}`,
      endpoint,
      z.array(companyNoteSchema),
    );
  }

  addCompanyNote(id: number, note: { text: string; type?: { id: number }; flagged: boolean }) {
    return this.call(
      'POST',
      `company/companies/${id}/notes`,
      'POST /company/companies/{id}/notes',
      companyNoteSchema,
      note,
    );
  }

  replaceCompanyNoteText(id: number, noteId: number, text: string) {
    const endpoint = 'PATCH /company/companies/{id}/notes/{noteId}';
    const ops = [{ op: 'replace', path: 'text', value: text }];
    return this.call('PATCH', `company/companies/${id}/notes/${noteId}`, endpoint, companyNoteSchema, ops);
  }

  systemInfo() {
    return this.call('GET', 'system/info', 'GET /system/info', systemInfoSchema);
  }

  private async call<T>(
    method: Method,
    path: string,
    endpoint: string,
    schema: z.ZodType<T>,
    json?: unknown,
  ): Promise<T> {
    const source = this.ctx.source;
    await this.ctx.acquire();
    let response;
    try {
      response = await this.http(path, { method, json, signal: this.ctx.signal });
    } catch (error) {
      throw toSourceApiError(source, endpoint, error);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw fromResponse(source, endpoint, response.statusCode, response.headers['retry-after'], response.body);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new SourceApiError(
        source,
        endpoint,
        response.statusCode,
        false,
        'ConnectWise answered with something that is not JSON',
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join('.') || 'the body';
      throw new SourceApiError(
        source,
        endpoint,
        response.statusCode,
        false,
        `ConnectWise answered an unexpected shape at ${where}`,
      );
    }
    return parsed.data;
  }
}
