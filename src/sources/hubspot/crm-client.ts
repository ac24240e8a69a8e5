import got, { type Got } from 'got';
import { z } from 'zod';
import { SourceApiError, type KindContext } from '../kind.js';
import { classifyAnswer, classifyFailure, unexpectedBody } from './api-errors.js';
import type { HubSpotSettings } from './settings.js';

/**
 * Every call this project makes to HubSpot's CRM v3 API, one function per endpoint
 * (docs/sources.md "HubSpot", API calls). Each waits for the source's rate limit, sends the
 * private app token as Bearer, never retries on its own (BullMQ does) and turns every failure
 * into SourceApiError.
 */

const AssociationList = z.object({ results: z.array(z.object({ id: z.coerce.string() }).loose()) }).loose();

export const CrmObject = z
  .object({
    id: z.coerce.string(),
    properties: z.record(z.string(), z.string().nullable()),
    associations: z.record(z.string(), AssociationList).optional(),
  })
  .loose();
export type CrmObject = z.output<typeof CrmObject>;

const BatchResult = z.object({ results: z.array(CrmObject) }).loose();
const Page = z.object({ results: z.array(CrmObject) }).loose();

type ObjectPath = 'deals' | 'companies' | 'contacts' | 'line_items' | 'products';

export interface CrmCall {
  method: 'GET' | 'POST' | 'PATCH';
  /** The template, for errors and metrics: `/crm/v3/objects/deals/{id}`. */
  endpoint: string;
  path: string;
  searchParams?: Record<string, string>;
  json?: unknown;
}

export class HubSpotCrmClient {
  private readonly http: Got;

  constructor(private readonly ctx: KindContext<HubSpotSettings>) {
    const token = ctx.secrets[ctx.settings.access_token_env];
    if (!token) {
      const reason = `the environment variable ${ctx.settings.access_token_env} (the private app token) is empty`;
      throw new SourceApiError(ctx.source, 'HubSpot API', undefined, false, reason);
    }
    this.http = got.extend({
      prefixUrl: ctx.settings.api_base_url.replace(/\/+$/, ''),
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      timeout: { request: ctx.settings.timeout_ms },
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  }

  async call<S extends z.ZodType>(call: CrmCall, schema: S): Promise<z.output<S>> {
    const endpoint = `${call.method} ${call.endpoint}`;
    await this.ctx.acquire();
    let response;
    try {
      response = await this.http(call.path.replace(/^\//, ''), {
        method: call.method,
        ...(call.searchParams ? { searchParams: call.searchParams } : {}),
        ...(call.json !== undefined ? { json: call.json } : {}),
        ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
      });
    } catch (cause) {
      throw classifyFailure(this.ctx.source, endpoint, cause);
    }
    const answer = { status: response.statusCode, headers: response.headers, body: response.body };
    if (answer.status < 200 || answer.status >= 300) {
      throw classifyAnswer(this.ctx.source, endpoint, answer, this.ctx.settings.access_token_env);
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw unexpectedBody(this.ctx.source, endpoint, answer.status, 'not JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw unexpectedBody(this.ctx.source, endpoint, answer.status, `${issue?.path.join('.')}: ${issue?.message}`);
    }
    return parsed.data;
  }

  /** GET /crm/v3/objects/{type}/{id}?properties=…&associations=… */
  getObject(type: ObjectPath, id: string, properties: string[], associations: string[] = []): Promise<CrmObject> {
    const searchParams: Record<string, string> = { properties: properties.join(',') };
    if (associations.length > 0) searchParams.associations = associations.join(',');
    return this.call(
      {
        method: 'GET',
        endpoint: `/crm/v3/objects/${type}/{id}`,
        path: `/crm/v3/objects/${type}/${encodeURIComponent(id)}`,
        searchParams,
      },
      CrmObject,
    );
  }

  /** POST /crm/v3/objects/{type}/batch/read: up to 100 records in one call. */
  async batchRead(type: ObjectPath, ids: string[], properties: string[]): Promise<CrmObject[]> {
    if (ids.length === 0) return [];
    const result = await this.call(
      {
        method: 'POST',
        endpoint: `/crm/v3/objects/${type}/batch/read`,
        path: `/crm/v3/objects/${type}/batch/read`,
        json: { properties, inputs: ids.slice(0, 100).map((id) => ({ id })) },
      },
      BatchResult,
    );
    return result.results;
  }

  /** PATCH /crm/v3/objects/companies/{id} with the given properties. */
  updateCompany(id: string, properties: Record<string, string>): Promise<CrmObject> {
    return this.call(
      {
        method: 'PATCH',
        endpoint: '/crm/v3/objects/companies/{id}',
        path: `/crm/v3/objects/companies/${encodeURIComponent(id)}`,
        json: { properties },
      },
      CrmObject,
    );
  }

  /** GET /crm/v3/objects/companies?limit=1: the cheapest read that proves the token and its scope. */
  async firstCompany(): Promise<void> {
    await this.call(
      {
        method: 'GET',
        endpoint: '/crm/v3/objects/companies',
        path: '/crm/v3/objects/companies',
        searchParams: { limit: '1' },
      },
      Page,
    );
  }
}
