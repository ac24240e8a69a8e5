import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RollingWindow } from './rate-window.js';
import { OBJECT_TYPES, type HubSpotStore, type ObjectType, type StoredObject } from './store.js';

/**
 * The CRM v3 endpoints the HubSpot source calls, answering in HubSpot's shapes: objects as
 * `{id, properties, createdAt, updatedAt, archived, associations}`, errors as its JSON error body
 * `{status: "error", message, correlationId, category}`.
 */

export interface CrmApiOptions {
  store: HubSpotStore;
  accessToken: string;
  window: RollingWindow;
  /** Statuses to answer instead of the next requests (5xx, for retry tests). */
  faults: number[];
  calls: Map<string, number>;
}

function errorBody(message: string, category: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

function rateHeaders(reply: FastifyReply, window: RollingWindow): void {
  reply.header('x-hubspot-ratelimit-max', String(window.max));
  reply.header('x-hubspot-ratelimit-remaining', String(window.remaining()));
  reply.header('x-hubspot-ratelimit-interval-milliseconds', String(window.windowMs));
}

/** Authentication, the rolling rate limit and injected faults, in that order, before any route. */
function gate(options: CrmApiOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.url.startsWith('/crm/')) return;
    const key = `${request.method} ${request.routeOptions.url ?? request.url}`;
    options.calls.set(key, (options.calls.get(key) ?? 0) + 1);
    if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
      return reply
        .code(401)
        .send(errorBody('Authentication credentials not found or not valid.', 'INVALID_AUTHENTICATION'));
    }
    if (!options.window.admit()) {
      rateHeaders(reply, options.window);
      return reply.code(429).send({
        status: 'error',
        message: 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        correlationId: randomUUID(),
        policyName: 'TEN_SECONDLY_ROLLING',
      });
    }
    rateHeaders(reply, options.window);
    const fault = options.faults.shift();
    if (fault !== undefined) return reply.code(fault).send(errorBody('Internal error', 'INTERNAL_ERROR'));
  };
}

const Params = z.object({ type: z.enum(OBJECT_TYPES), id: z.string().optional() });
const CsvList = z
  .string()
  .optional()
  .transform((value) => (value ? value.split(',').filter(Boolean) : []));
const GetQuery = z.object({ properties: CsvList, associations: CsvList }).loose();
const BatchBody = z.object({
  properties: z.array(z.string()).default([]),
  inputs: z.array(z.object({ id: z.string() })).max(100),
});
const PatchBody = z.object({ properties: z.record(z.string(), z.union([z.string(), z.number(), z.null()])) });

/** HubSpot returns the properties asked for (those the record has) and three it always adds. */
function present(
  store: HubSpotStore,
  type: ObjectType,
  object: StoredObject,
  properties: string[],
  associations: string[],
) {
  const names = new Set(['hs_object_id', 'createdate', 'hs_lastmodifieddate', ...properties]);
  const shown: Record<string, string | null> = {};
  for (const name of names) if (name in object.properties) shown[name] = object.properties[name] ?? null;
  const body: Record<string, unknown> = {
    id: object.id,
    properties: shown,
    createdAt: object.createdAt,
    updatedAt: object.updatedAt,
    archived: false,
  };
  const linked: Record<string, unknown> = {};
  for (const name of associations) {
    const toType = Params.shape.type.safeParse(name);
    if (!toType.success) continue;
    const ids = store.associated(type, object.id, toType.data);
    // HubSpot names the line item association "line items" in this map; the client reads either.
    if (ids.length > 0) {
      linked[toType.data === 'line_items' ? 'line items' : toType.data] = {
        results: ids.map((id) => ({ id, type: store.associationType(type, toType.data) })),
      };
    }
  }
  if (Object.keys(linked).length > 0) body.associations = linked;
  return body;
}

function notFound(reply: FastifyReply, type: string, id: string) {
  return reply
    .code(404)
    .send(errorBody(`Object not found. objectId are usually numeric. ${type} ${id}`, 'OBJECT_NOT_FOUND'));
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send(errorBody(message, 'VALIDATION_ERROR'));
}

/** PATCH refuses a property the account does not have, as HubSpot does, naming it. */
function unknownProperties(store: HubSpotStore, type: ObjectType, names: string[]): string[] {
  return type === 'companies' ? names.filter((name) => !store.companyProperties.has(name)) : [];
}

export function registerCrmApi(app: FastifyInstance, options: CrmApiOptions): void {
  const { store } = options;
  app.addHook('preHandler', gate(options));

  app.get('/crm/v3/objects/:type', async (request, reply) => {
    const params = Params.safeParse(request.params);
    if (!params.success) return notFound(reply, 'type', String((request.params as { type: string }).type));
    const limit = Math.min(100, Number((request.query as { limit?: string }).limit ?? 10) || 10);
    const results = store.all(params.data.type).slice(0, limit);
    return { results: results.map((o) => present(store, params.data.type, o, [], [])) };
  });

  app.get('/crm/v3/objects/:type/:id', async (request, reply) => {
    const params = Params.safeParse(request.params);
    const query = GetQuery.safeParse(request.query);
    if (!params.success || !query.success) return badRequest(reply, 'Invalid input');
    const object = store.get(params.data.type, params.data.id ?? '');
    if (!object) return notFound(reply, params.data.type, params.data.id ?? '');
    return present(store, params.data.type, object, query.data.properties, query.data.associations);
  });

  app.post('/crm/v3/objects/:type/batch/read', async (request, reply) => {
    const params = Params.safeParse(request.params);
    const body = BatchBody.safeParse(request.body);
    if (!params.success || !body.success) return badRequest(reply, 'Invalid input JSON on line 1');
    const startedAt = new Date().toISOString();
    const results = body.data.inputs
      .map((input) => store.get(params.data.type, input.id))
      .filter((o): o is StoredObject => o !== undefined)
      .map((o) => present(store, params.data.type, o, body.data.properties, []));
    return { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  });

  app.patch('/crm/v3/objects/:type/:id', async (request, reply) => {
    const params = Params.safeParse(request.params);
    const body = PatchBody.safeParse(request.body);
    if (!params.success || !body.success) return badRequest(reply, 'Invalid input JSON on line 1');
    const { type, id = '' } = params.data;
    if (!store.get(type, id)) return notFound(reply, type, id);
    const missing = unknownProperties(store, type, Object.keys(body.data.properties));
    if (missing.length > 0) {
      const details = missing.map((name) => ({
        isValid: false,
        message: `Property "${name}" does not exist`,
        error: 'PROPERTY_DOESNT_EXIST',
        name,
      }));
      return badRequest(reply, `Property values were not valid: ${JSON.stringify(details)}`);
    }
    const properties = Object.fromEntries(
      Object.entries(body.data.properties).map(([k, v]) => [k, v === null ? '' : String(v)]),
    );
    const object = store.update(type, id, properties)!;
    if (type === 'companies') store.writeBacks.push({ companyId: id, properties, at: Date.now() });
    return present(store, type, object, Object.keys(properties), []);
  });
}
