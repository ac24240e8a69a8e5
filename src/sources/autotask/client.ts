import type { Got } from 'got';
import { z } from 'zod';
import { SourceApiError, type KindContext } from '../kind.js';
import { callJson, jsonApi, type JsonCall } from '../json-api.js';
import { classifyAutotask } from './errors.js';
import type { AutotaskSettings } from './settings.js';

/**
 * Every call this project makes to Autotask's REST API, one function per endpoint
 * (docs/sources.md "Autotask PSA", API calls): the `ApiIntegrationCode`, `UserName` and `Secret`
 * headers on each, against the zone's URL (asked once of the zone lookup when the file names none).
 */

const Udf = z.object({ name: z.string(), value: z.union([z.string(), z.number(), z.boolean()]).nullish() }).loose();

export const Company = z
  .object({
    id: z.number().int(),
    companyName: z.string(),
    companyType: z.number().int().nullish(),
    companyNumber: z.string().nullish(),
    isActive: z.boolean().nullish(),
    phone: z.string().nullish(),
    address1: z.string().nullish(),
    city: z.string().nullish(),
    postalCode: z.string().nullish(),
    countryID: z.number().int().nullish(),
    webAddress: z.string().nullish(),
    userDefinedFields: z.array(Udf).nullish(),
  })
  .loose();
export type Company = z.output<typeof Company>;

export const Contact = z
  .object({
    id: z.number().int(),
    companyID: z.number().int(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    emailAddress: z.string().nullish(),
    phone: z.string().nullish(),
    title: z.string().nullish(),
    isActive: z.union([z.number(), z.boolean()]).nullish(),
    primaryContact: z.boolean().nullish(),
  })
  .loose();
export type Contact = z.output<typeof Contact>;

export const CompanyNote = z
  .object({ id: z.number().int(), title: z.string().nullish(), description: z.string().nullish() })
  .loose();
export type CompanyNote = z.output<typeof CompanyNote>;

const Item = <S extends z.ZodType>(item: S) => z.object({ item: item.nullable() }).loose();
const Items = <S extends z.ZodType>(item: S) => z.object({ items: z.array(item) }).loose();
const ItemId = z.object({ itemId: z.number().int() }).loose();
const ZoneInformation = z.object({ url: z.url(), zoneName: z.string().nullish() }).loose();

/** Zones looked up, per source and user, for the life of the process (a zone does not move). */
const zones = new Map<string, Promise<string>>();

function secret(ctx: KindContext<AutotaskSettings>, name: string): string {
  const value = ctx.secrets[name];
  if (!value) throw new SourceApiError(ctx.source, 'Autotask API', undefined, false, `${name} is not set`);
  return value;
}

export class AutotaskClient {
  private readonly headers: Record<string, string>;
  private readonly classify = (endpoint: string, answer: Parameters<typeof classifyAutotask>[2]) =>
    classifyAutotask(this.ctx.source, endpoint, answer);

  constructor(private readonly ctx: KindContext<AutotaskSettings>) {
    const { api } = ctx.settings;
    this.headers = {
      apiintegrationcode: secret(ctx, api.integration_code_env),
      username: secret(ctx, api.username_env),
      secret: secret(ctx, api.secret_env),
    };
  }

  private async zoneUrl(): Promise<string> {
    const { api } = this.ctx.settings;
    if (api.zone_url) return api.zone_url;
    const key = JSON.stringify([this.ctx.source, api.zone_lookup_url, this.headers.username]);
    let zone = zones.get(key);
    if (!zone) {
      zone = this.lookUpZone().catch((error: unknown) => {
        zones.delete(key);
        throw error;
      });
      zones.set(key, zone);
    }
    return zone;
  }

  /** `GET /v1.0/zoneInformation?user=…`: needs no credentials, answers the zone's REST root. */
  private async lookUpZone(): Promise<string> {
    const { api } = this.ctx.settings;
    const http = jsonApi({ ...this.options(), prefixUrl: api.zone_lookup_url, headers: {} });
    const answer = await callJson(
      http,
      this.ctx,
      this.options(),
      {
        method: 'GET',
        endpoint: '/v1.0/zoneInformation',
        path: 'v1.0/zoneInformation',
        searchParams: { user: this.headers.username ?? '' },
      },
      ZoneInformation,
    );
    return answer.url;
  }

  private options() {
    return { vendor: 'Autotask', classify: this.classify, timeoutMs: this.ctx.settings.api.timeout_ms };
  }

  private async call<S extends z.ZodType>(call: JsonCall, schema: S): Promise<z.output<S>> {
    const http: Got = jsonApi({ ...this.options(), prefixUrl: await this.zoneUrl(), headers: this.headers });
    return callJson(http, this.ctx, this.options(), call, schema);
  }

  async getCompany(id: string): Promise<Company> {
    const endpoint = '/v1.0/Companies/{id}';
    const { item } = await this.call(
      { method: 'GET', endpoint, path: `v1.0/Companies/${encodeURIComponent(id)}` },
      Item(Company),
    );
    // Autotask answers an unknown id with 200 and `"item": null`.
    if (!item) throw new SourceApiError(this.ctx.source, `GET ${endpoint}`, 200, false, 'Autotask has no such company');
    return item;
  }

  async getContact(id: string): Promise<Contact> {
    const endpoint = '/v1.0/Contacts/{id}';
    const { item } = await this.call(
      { method: 'GET', endpoint, path: `v1.0/Contacts/${encodeURIComponent(id)}` },
      Item(Contact),
    );
    if (!item) throw new SourceApiError(this.ctx.source, `GET ${endpoint}`, 200, false, 'Autotask has no such contact');
    return item;
  }

  /** The company's active contacts (`POST`-less query: `GET /v1.0/Contacts/query?search=…`). */
  async companyContacts(companyId: number): Promise<Contact[]> {
    const search = {
      filter: [
        { op: 'eq', field: 'companyID', value: companyId },
        { op: 'eq', field: 'isActive', value: 1 },
      ],
    };
    const { items } = await this.call(
      {
        method: 'GET',
        endpoint: '/v1.0/Contacts/query',
        path: 'v1.0/Contacts/query',
        searchParams: { search: JSON.stringify(search) },
      },
      Items(Contact),
    );
    return items;
  }

  /** Autotask updates by `PATCH` on the collection, the record's id in the body. */
  async updateCompanyUdfs(id: number, userDefinedFields: Array<{ name: string; value: string | null }>) {
    await this.call(
      { method: 'PATCH', endpoint: '/v1.0/Companies', path: 'v1.0/Companies', json: { id, userDefinedFields } },
      ItemId,
    );
  }

  async companyNotes(companyId: number): Promise<CompanyNote[]> {
    const { items } = await this.call(
      { method: 'GET', endpoint: '/v1.0/Companies/{id}/Notes', path: `v1.0/Companies/${companyId}/Notes` },
      Items(CompanyNote),
    );
    return items;
  }

  async addCompanyNote(companyId: number, note: { title: string; description: string; actionType: number }) {
    await this.call(
      {
        method: 'POST',
        endpoint: '/v1.0/Companies/{id}/Notes',
        path: `v1.0/Companies/${companyId}/Notes`,
        json: { companyID: companyId, ...note },
      },
      ItemId,
    );
  }

  async updateCompanyNote(companyId: number, noteId: number, description: string) {
    await this.call(
      {
        method: 'PATCH',
        endpoint: '/v1.0/Companies/{id}/Notes',
        path: `v1.0/Companies/${companyId}/Notes`,
        json: { id: noteId, description },
      },
      ItemId,
    );
  }

  /** `GET /v1.0/Companies/entityInformation`: proves the zone, the credentials and the company read right. */
  async entityInformation(): Promise<void> {
    await this.call(
      { method: 'GET', endpoint: '/v1.0/Companies/entityInformation', path: 'v1.0/Companies/entityInformation' },
      z.object({ info: z.object({ name: z.string() }).loose() }).loose(),
    );
  }
}
