import type { Got } from 'got';
import { z } from 'zod';
import { SourceApiError, type KindContext } from '../kind.js';
import { callJson, jsonApi, type JsonCall, type VendorAnswer } from '../json-api.js';
import { classifyPipedrive } from './errors.js';
import type { PipedriveSettings } from './settings.js';

/**
 * Every call this project makes to Pipedrive's API, one function per endpoint (docs/sources.md
 * "Pipedrive", API calls): deals, organizations and persons on API v2, notes on v1 (they have no
 * v2 yet); the user's API token in the `x-api-token` header.
 */

const Envelope = <S extends z.ZodType>(data: S) => z.object({ success: z.literal(true), data }).loose();

const CustomFields = z.record(z.string(), z.unknown()).nullish();

export const Deal = z
  .object({
    id: z.number().int(),
    title: z.string().nullish(),
    status: z.string().nullish(),
    value: z.number().nullish(),
    currency: z.string().nullish(),
    org_id: z.number().int().nullish(),
    person_id: z.number().int().nullish(),
    pipeline_id: z.number().int().nullish(),
    stage_id: z.number().int().nullish(),
    won_time: z.string().nullish(),
    custom_fields: CustomFields,
  })
  .loose();
export type Deal = z.output<typeof Deal>;

export const Organization = z
  .object({
    id: z.number().int(),
    name: z.string(),
    address: z.object({ value: z.string().nullish(), country: z.string().nullish() }).loose().nullish(),
    custom_fields: CustomFields,
  })
  .loose();
export type Organization = z.output<typeof Organization>;

const Channel = z.object({ value: z.string(), primary: z.boolean().nullish(), label: z.string().nullish() }).loose();
export const Person = z
  .object({
    id: z.number().int(),
    name: z.string().nullish(),
    first_name: z.string().nullish(),
    last_name: z.string().nullish(),
    emails: z.array(Channel).nullish(),
    phones: z.array(Channel).nullish(),
    org_id: z.number().int().nullish(),
  })
  .loose();
export type Person = z.output<typeof Person>;

export const DealProduct = z
  .object({
    id: z.number().int(),
    product_id: z.number().int().nullish(),
    name: z.string().nullish(),
    quantity: z.number().nullish(),
  })
  .loose();
export type DealProduct = z.output<typeof DealProduct>;

export const Note = z.object({ id: z.number().int(), content: z.string().nullish() }).loose();
export type Note = z.output<typeof Note>;

/** At most this many products or notes are read (one page); a deal or an organization has far fewer. */
const PAGE = 500;

export class PipedriveClient {
  private readonly http: Got;
  private readonly options: { vendor: string; classify: (endpoint: string, answer: VendorAnswer) => SourceApiError };

  constructor(private readonly ctx: KindContext<PipedriveSettings>) {
    const { api } = ctx.settings;
    const token = ctx.secrets[api.token_env];
    if (!token) throw new SourceApiError(ctx.source, 'Pipedrive API', undefined, false, `${api.token_env} is not set`);
    this.options = {
      vendor: 'Pipedrive',
      classify: (endpoint, answer) => classifyPipedrive(ctx.source, endpoint, answer, api.token_env),
    };
    this.http = jsonApi({
      ...this.options,
      prefixUrl: api.base_url,
      headers: { 'x-api-token': token },
      timeoutMs: api.timeout_ms,
    });
  }

  private call<S extends z.ZodType>(call: JsonCall, schema: S): Promise<z.output<S>> {
    return callJson(this.http, this.ctx, this.options, call, schema);
  }

  getDeal(id: string): Promise<Deal> {
    const path = `api/v2/deals/${encodeURIComponent(id)}`;
    return this.call({ method: 'GET', endpoint: '/api/v2/deals/{id}', path }, Envelope(Deal)).then((r) => r.data);
  }

  async dealProducts(id: number): Promise<DealProduct[]> {
    const { data } = await this.call(
      {
        method: 'GET',
        endpoint: '/api/v2/deals/{id}/products',
        path: `api/v2/deals/${id}/products`,
        searchParams: { limit: String(PAGE) },
      },
      Envelope(z.array(DealProduct).nullable()),
    );
    return data ?? [];
  }

  getOrganization(id: number | string): Promise<Organization> {
    const path = `api/v2/organizations/${encodeURIComponent(String(id))}`;
    return this.call({ method: 'GET', endpoint: '/api/v2/organizations/{id}', path }, Envelope(Organization)).then(
      (r) => r.data,
    );
  }

  getPerson(id: number): Promise<Person> {
    return this.call(
      { method: 'GET', endpoint: '/api/v2/persons/{id}', path: `api/v2/persons/${id}` },
      Envelope(Person),
    ).then((r) => r.data);
  }

  async updateOrganizationFields(id: number, customFields: Record<string, string | null>): Promise<void> {
    await this.call(
      {
        method: 'PATCH',
        endpoint: '/api/v2/organizations/{id}',
        path: `api/v2/organizations/${id}`,
        json: { custom_fields: customFields },
      },
      Envelope(Organization),
    );
  }

  async organizationNotes(orgId: number): Promise<Note[]> {
    const { data } = await this.call(
      {
        method: 'GET',
        endpoint: '/api/v1/notes',
        path: 'api/v1/notes',
        searchParams: { org_id: String(orgId), limit: String(PAGE) },
      },
      Envelope(z.array(Note).nullable()),
    );
    return data ?? [];
  }

  async addNote(orgId: number, content: string): Promise<void> {
    await this.call(
      { method: 'POST', endpoint: '/api/v1/notes', path: 'api/v1/notes', json: { content, org_id: orgId } },
      Envelope(Note),
    );
  }

  async updateNote(noteId: number, content: string): Promise<void> {
    await this.call(
      { method: 'PUT', endpoint: '/api/v1/notes/{id}', path: `api/v1/notes/${noteId}`, json: { content } },
      Envelope(Note),
    );
  }

  /** `GET /api/v1/users/me`: the cheapest read that proves the domain and the token. */
  async me(): Promise<void> {
    await this.call(
      { method: 'GET', endpoint: '/api/v1/users/me', path: 'api/v1/users/me' },
      Envelope(z.object({ id: z.number() }).loose()),
    );
  }
}
