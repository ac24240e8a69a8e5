import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SOBJECT_TYPES, type FieldValue, type SalesforceStore, type SObjectType, type StoredRecord } from './store.js';

/**
 * The Salesforce endpoints the source calls, in Salesforce's shapes: the OAuth 2.0 client
 * credentials token (`POST /services/oauth2/token`), records (`GET /services/data/vNN.N/sobjects/
 * {type}/{id}?fields=`), the two SOQL queries the source sends, `PATCH` of an Account (204) and
 * `/limits`. Errors are Salesforce's JSON array of `{message, errorCode}`; the org's API request
 * limit answers 403 `REQUEST_LIMIT_EXCEEDED` once spent, as Salesforce does.
 */

export interface RestApiOptions {
  store: SalesforceStore;
  clientId: string;
  clientSecret: string;
  /** Tokens issued and still valid; clearing it makes every token answer 401 INVALID_SESSION_ID. */
  tokens: Set<string>;
  /** The org's API requests allowed (Salesforce: per 24 hours, by edition and licences). */
  apiLimit: { max: number; used: number };
  /** Statuses to answer instead of the next REST requests (503 SERVER_UNAVAILABLE, for retry tests). */
  faults: number[];
  calls: Map<string, number>;
  url: () => string;
}

const sfError = (message: string, errorCode: string, fields?: string[]) => [
  { message, errorCode, ...(fields ? { fields } : {}) },
];

const DATA = /^\/services\/data\/v\d{2}\.0\//;

/** Authentication, the API request limit and injected faults, in that order, before any data route. */
function gate(options: RestApiOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!DATA.test(request.url)) return;
    const key = `${request.method} ${request.routeOptions.url ?? request.url}`;
    options.calls.set(key, (options.calls.get(key) ?? 0) + 1);
    const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
    if (!options.tokens.has(token))
      return reply.code(401).send(sfError('Session expired or invalid', 'INVALID_SESSION_ID'));
    if (options.apiLimit.used >= options.apiLimit.max) {
      return reply.code(403).send(sfError('TotalRequests Limit exceeded.', 'REQUEST_LIMIT_EXCEEDED'));
    }
    options.apiLimit.used += 1;
    reply.header('sforce-limit-info', `api-usage=${options.apiLimit.used}/${options.apiLimit.max}`);
    const fault = options.faults.shift();
    if (fault !== undefined) {
      return reply.code(fault).send(sfError('Server temporarily unavailable', 'SERVER_UNAVAILABLE'));
    }
  };
}

function present(type: SObjectType, record: StoredRecord, fields: string[], version: string) {
  const shown: Record<string, unknown> = {
    attributes: { type, url: `/services/data/${version}/sobjects/${type}/${record.Id}` },
  };
  for (const name of ['Id', ...fields]) shown[name] = record[name] ?? null;
  return shown;
}

/** A field the record's type does not have, as Salesforce names it in INVALID_FIELD. */
function unknownField(store: SalesforceStore, type: SObjectType, fields: string[]): string | undefined {
  if (type !== 'Account') return undefined;
  return fields.find(
    (f) => f !== 'Id' && !store.accountFields.has(f) && !['CreatedDate', 'LastModifiedDate'].includes(f),
  );
}

const QUERY =
  /^SELECT (.+) FROM (Contact|OpportunityLineItem) WHERE (AccountId|OpportunityId) = '([a-zA-Z0-9]{15,18})'( ORDER BY CreatedDate ASC)?( LIMIT (\d+))?$/;

function registerToken(app: FastifyInstance, options: RestApiOptions): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.post('/services/oauth2/token', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string>;
    if (form.grant_type !== 'client_credentials') {
      return reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    }
    if (form.client_id !== options.clientId || form.client_secret !== options.clientSecret) {
      return reply.code(400).send({ error: 'invalid_client', error_description: 'invalid client credentials' });
    }
    const token = `00D!${randomBytes(24).toString('base64url')}`;
    options.tokens.add(token);
    return {
      access_token: token,
      signature: randomBytes(32).toString('base64'),
      instance_url: options.url(),
      id: `${options.url()}/id/00D000000000001/005000000000001`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
    };
  });
}

export function registerRestApi(app: FastifyInstance, options: RestApiOptions): void {
  const { store } = options;
  registerToken(app, options);
  app.addHook('preHandler', gate(options));
  const versionOf = (request: FastifyRequest) => (request.params as { version: string }).version;

  app.get('/services/data/:version/sobjects/:type/:id', async (request, reply) => {
    const { type, id } = request.params as { type: SObjectType; id: string };
    if (!SOBJECT_TYPES.includes(type))
      return reply.code(404).send(sfError(`The requested resource does not exist`, 'NOT_FOUND'));
    const fields = ((request.query as { fields?: string }).fields ?? '').split(',').filter(Boolean);
    const unknown = unknownField(store, type, fields);
    if (unknown) {
      return reply.code(400).send(sfError(`No such column '${unknown}' on entity '${type}'.`, 'INVALID_FIELD'));
    }
    const record = store.get(type, id);
    if (!record) return reply.code(404).send(sfError('The requested resource does not exist', 'NOT_FOUND'));
    return present(type, record, fields, versionOf(request));
  });

  app.get('/services/data/:version/query', async (request, reply) => {
    const match = QUERY.exec((request.query as { q?: string }).q ?? '');
    if (!match)
      return reply
        .code(400)
        .send(sfError('unexpected token: the simulated org reads two query shapes', 'MALFORMED_QUERY'));
    const [, columns, type, field, value, ordered, , limit] = match;
    let records = store.where(type as SObjectType, field!, value!);
    if (ordered) records = [...records].sort((a, b) => String(a.CreatedDate).localeCompare(String(b.CreatedDate)));
    if (limit) records = records.slice(0, Number(limit));
    const names = columns!.split(',').map((c) => c.trim());
    const shown = records.map((r) => present(type as SObjectType, r, names, versionOf(request)));
    return { totalSize: shown.length, done: true, records: shown };
  });

  app.patch('/services/data/:version/sobjects/Account/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = request.body as Record<string, FieldValue> | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return reply.code(400).send(sfError('The request body is not a JSON object', 'JSON_PARSER_ERROR'));
    }
    const unknown = unknownField(store, 'Account', Object.keys(body));
    if (unknown) {
      return reply.code(400).send(sfError(`No such column '${unknown}' on sobject of type Account`, 'INVALID_FIELD'));
    }
    if (!store.update('Account', id, body)) {
      return reply.code(404).send(sfError('The requested resource does not exist', 'NOT_FOUND'));
    }
    store.accountWrites.push({ accountId: id, fields: body, at: Date.now() });
    return reply.code(204).send();
  });

  app.get('/services/data/:version/limits', async () => ({
    DailyApiRequests: {
      Max: options.apiLimit.max,
      Remaining: Math.max(0, options.apiLimit.max - options.apiLimit.used),
    },
  }));
}
