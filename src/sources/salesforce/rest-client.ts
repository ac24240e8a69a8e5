import got, { type Got } from 'got';
import { z } from 'zod';
import { SourceApiError, type KindContext } from '../kind.js';
import { classifyAnswer, classifyFailure, errorOf, tokenRefused, unexpectedBody } from './api-errors.js';
import type { SalesforceSettings } from './settings.js';

/**
 * Every call this project makes to Salesforce, one function per endpoint (docs/sources.md
 * "Salesforce", API calls): the OAuth 2.0 client credentials token, then the REST API with it as
 * Bearer. Each call waits for the source's rate limit, never retries on its own (BullMQ does),
 * and a token Salesforce no longer accepts (401 INVALID_SESSION_ID) is fetched again once.
 */

const TokenAnswer = z.looseObject({ access_token: z.string().min(1), instance_url: z.string().optional() });
export const SObject = z.looseObject({ Id: z.string() });
export type SObject = z.output<typeof SObject>;
const QueryResult = z.looseObject({ totalSize: z.number(), records: z.array(z.looseObject({})) });
const Limits = z.looseObject({ DailyApiRequests: z.looseObject({ Max: z.number(), Remaining: z.number() }) });

const SALESFORCE_ID = /^[a-zA-Z0-9]{15,18}$/;

/** Tokens in this process's memory only, per source and app; a client credentials token has no expiry of its own. */
const tokens = new Map<string, Promise<string>>();

export interface RestCall {
  method: 'GET' | 'PATCH';
  /** The template, for errors and metrics: `/sobjects/Account/{id}`. */
  endpoint: string;
  path: string;
  searchParams?: Record<string, string>;
  json?: unknown;
}

export class SalesforceRestClient {
  private readonly http: Got;
  private readonly credentials: string;

  constructor(private readonly ctx: KindContext<SalesforceSettings>) {
    const { settings } = ctx;
    this.credentials = `${settings.client_id_env}/${settings.client_secret_env}`;
    this.http = got.extend({
      prefixUrl: settings.instance_url.replace(/\/+$/, ''),
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      timeout: { request: settings.timeout_ms },
      headers: { accept: 'application/json' },
    });
  }

  private get tokenKey(): string {
    return `${this.ctx.source}\n${this.ctx.settings.instance_url}\n${this.ctx.secrets[this.ctx.settings.client_id_env]}`;
  }

  /** POST /services/oauth2/token with grant_type=client_credentials. */
  private async fetchToken(): Promise<string> {
    const { settings, secrets, source } = this.ctx;
    const clientId = secrets[settings.client_id_env];
    const clientSecret = secrets[settings.client_secret_env];
    if (!clientId || !clientSecret) {
      throw new SourceApiError(source, 'POST /services/oauth2/token', undefined, false, `${this.credentials} is empty`);
    }
    await this.ctx.acquire();
    let response;
    try {
      response = await this.http.post('services/oauth2/token', {
        form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
        ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
      });
    } catch (cause) {
      throw classifyFailure(source, 'POST /services/oauth2/token', cause);
    }
    const answer = { status: response.statusCode, body: response.body };
    if (answer.status !== 200) throw tokenRefused(source, answer, this.credentials);
    const parsed = TokenAnswer.safeParse(safeJson(answer.body));
    if (!parsed.success) throw unexpectedBody(source, 'POST /services/oauth2/token', 200, 'no access_token');
    return parsed.data.access_token;
  }

  private token(fresh: boolean): Promise<string> {
    const key = this.tokenKey;
    let token = fresh ? undefined : tokens.get(key);
    if (!token) {
      token = this.fetchToken();
      tokens.set(key, token);
      // A refused fetch is not kept: the next call asks again.
      token.catch(() => tokens.get(key) === token && tokens.delete(key));
    }
    return token;
  }

  private async send(call: RestCall, token: string) {
    await this.ctx.acquire();
    try {
      return await this.http(`services/data/${this.ctx.settings.api_version}${call.path}`, {
        method: call.method,
        headers: { authorization: `Bearer ${token}` },
        ...(call.searchParams ? { searchParams: call.searchParams } : {}),
        ...(call.json !== undefined ? { json: call.json } : {}),
        ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
      });
    } catch (cause) {
      throw classifyFailure(this.ctx.source, `${call.method} ${call.endpoint}`, cause);
    }
  }

  async call<S extends z.ZodType>(call: RestCall, schema: S | null): Promise<z.output<S> | undefined> {
    const endpoint = `${call.method} /services/data/vXX.X${call.endpoint}`;
    let response = await this.send(call, await this.token(false));
    if (response.statusCode === 401 && errorOf(response.body).code === 'INVALID_SESSION_ID') {
      response = await this.send(call, await this.token(true));
    }
    const answer = { status: response.statusCode, body: response.body };
    if (answer.status < 200 || answer.status >= 300) {
      throw classifyAnswer(this.ctx.source, endpoint, answer, this.credentials);
    }
    if (!schema) return undefined;
    const parsed = schema.safeParse(safeJson(answer.body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw unexpectedBody(this.ctx.source, endpoint, answer.status, `${issue?.path.join('.')}: ${issue?.message}`);
    }
    return parsed.data;
  }

  /** GET /sobjects/{type}/{id}?fields=… */
  async getRecord(type: string, id: string, fields: string[]): Promise<SObject> {
    if (!SALESFORCE_ID.test(id)) {
      throw new SourceApiError(
        this.ctx.source,
        `GET /sobjects/${type}/{id}`,
        undefined,
        false,
        `${id} is not a Salesforce id`,
      );
    }
    const record = await this.call(
      {
        method: 'GET',
        endpoint: `/sobjects/${type}/{id}`,
        path: `/sobjects/${type}/${id}`,
        searchParams: { fields: ['Id', ...fields.filter((f) => f !== 'Id')].join(',') },
      },
      SObject,
    );
    return record as SObject;
  }

  /** GET /query?q=…: the ids in it are checked to be ids, so the SOQL cannot be changed by a record. */
  async query(soql: string, what: string): Promise<Record<string, unknown>[]> {
    const result = await this.call(
      { method: 'GET', endpoint: `/query (${what})`, path: '/query', searchParams: { q: soql } },
      QueryResult,
    );
    return result!.records;
  }

  /** PATCH /sobjects/Account/{id}: Salesforce answers 204 with no body. */
  async updateAccount(id: string, fields: Record<string, string>): Promise<void> {
    await this.call(
      { method: 'PATCH', endpoint: '/sobjects/Account/{id}', path: `/sobjects/Account/${id}`, json: fields },
      null,
    );
  }

  /** GET /limits: one cheap read that proves the token and shows the org's remaining API requests. */
  async limits(): Promise<{ max: number; remaining: number }> {
    const result = await this.call({ method: 'GET', endpoint: '/limits', path: '/limits' }, Limits);
    return { max: result!.DailyApiRequests.Max, remaining: result!.DailyApiRequests.Remaining };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isSalesforceId(value: unknown): value is string {
  return typeof value === 'string' && SALESFORCE_ID.test(value);
}
