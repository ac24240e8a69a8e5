import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RollingWindow } from '../hubspot/rate-window.js';
import type { AutotaskWorld, SimContact } from './world.js';

/**
 * The simulated Autotask's REST side, one zone at `/atservicesrest`: the zone lookup, the
 * company, contact and company note endpoints the kind calls, Autotask's `ApiIntegrationCode`,
 * `UserName` and `Secret` headers on each, its error bodies (`{"errors": ["…"]}`), an unknown id
 * answered 200 with `"item": null`, and a request threshold answered 429.
 */

export interface AutotaskCredentials {
  username: string;
  secret: string;
  integrationCode: string;
}

export interface AutotaskServerState {
  world: AutotaskWorld;
  credentials: AutotaskCredentials;
  /** Requests admitted per window; over it, 429. */
  window: RollingWindow;
  /** Statuses a test queued: the next requests get them instead of being served. */
  faults: number[];
  stats: { requests: number; refusedAuth: number; rateLimited: number; zoneLookups: number };
  origin: () => string;
}

class AtError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const idParam = z.object({ id: z.coerce.number().int() });
const udfPatch = z.object({
  id: z.number().int(),
  userDefinedFields: z.array(z.object({ name: z.string(), value: z.string().nullable() })),
});

function guard(state: AutotaskServerState, request: FastifyRequest, reply: FastifyReply): boolean {
  state.stats.requests++;
  const fault = state.faults.shift();
  if (fault !== undefined) {
    void reply.code(fault).send({ errors: ['injected by the test'] });
    return false;
  }
  const h = request.headers;
  const c = state.credentials;
  if (h.apiintegrationcode !== c.integrationCode || h.username !== c.username || h.secret !== c.secret) {
    state.stats.refusedAuth++;
    void reply.code(401).send({ errors: ['User is not authenticated.'] });
    return false;
  }
  if (!state.window.admit()) {
    state.stats.rateLimited++;
    void reply
      .code(429)
      .send({ errors: ['The request threshold for this database has been exceeded. Try again later.'] });
    return false;
  }
  return true;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

function route(
  app: FastifyInstance,
  state: AutotaskServerState,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  handler: Handler,
) {
  app.route({
    method,
    url: `/atservicesrest/v1.0/${url}`,
    handler: async (request, reply) => {
      if (!guard(state, request, reply)) return reply;
      try {
        const body = await handler(request, reply);
        return reply.sent ? reply : reply.send(body);
      } catch (error) {
        if (error instanceof AtError) return reply.code(error.status).send({ errors: [error.message] });
        throw error;
      }
    },
  });
}

function recordWrite(state: AutotaskServerState, request: FastifyRequest): void {
  state.world.writes.push({
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    body: request.body,
  });
}

/** The subset of Autotask's query language the kind uses: `eq` filters, all of which must hold. */
function matches(contact: SimContact, search: unknown): boolean {
  const filters = z
    .object({ filter: z.array(z.object({ op: z.string(), field: z.string(), value: z.unknown() })) })
    .safeParse(search);
  if (!filters.success) throw new AtError(500, 'Unable to parse the search parameter.');
  return filters.data.filter.every((f) => {
    if (f.op !== 'eq') throw new AtError(500, `The simulator supports the eq operator only, not ${f.op}.`);
    const value = (contact as unknown as Record<string, unknown>)[f.field];
    return String(typeof value === 'boolean' ? Number(value) : value) === String(f.value);
  });
}

function registerCompanyRoutes(app: FastifyInstance, state: AutotaskServerState): void {
  const { world } = state;
  route(app, state, 'GET', 'Companies/entityInformation', () => ({
    info: {
      name: 'Company',
      canCreate: true,
      canDelete: false,
      canQuery: true,
      canUpdate: true,
      hasUserDefinedFields: true,
      supportsWebhookCallouts: true,
    },
  }));
  route(app, state, 'GET', 'Companies/:id', (r) => ({ item: world.companies.get(idParam.parse(r.params).id) ?? null }));
  route(app, state, 'PATCH', 'Companies', (r) => {
    const input = udfPatch.safeParse(r.body);
    if (!input.success)
      throw new AtError(500, 'The simulator updates user-defined fields only: {id, userDefinedFields}.');
    const company = world.companies.get(input.data.id);
    if (!company) throw new AtError(404, `Company ${input.data.id} does not exist.`);
    for (const given of input.data.userDefinedFields) {
      const udf = company.userDefinedFields.find((u) => u.name === given.name);
      if (!udf) throw new AtError(500, `Unable to find the user-defined field '${given.name}'.`);
    }
    recordWrite(state, r);
    for (const given of input.data.userDefinedFields)
      company.userDefinedFields.find((u) => u.name === given.name)!.value = given.value;
    return { itemId: company.id };
  });
  route(app, state, 'GET', 'Contacts/query', (r) => {
    const { search } = z.object({ search: z.string() }).parse(r.query);
    let parsed: unknown;
    try {
      parsed = JSON.parse(search);
    } catch {
      throw new AtError(500, 'Unable to parse the search parameter.');
    }
    const items = [...world.contacts.values()].filter((c) => matches(c, parsed));
    return { items, pageDetails: { count: items.length, requestCount: 500, prevPageUrl: null, nextPageUrl: null } };
  });
  route(app, state, 'GET', 'Contacts/:id', (r) => ({ item: world.contacts.get(idParam.parse(r.params).id) ?? null }));
}

function registerNoteRoutes(app: FastifyInstance, state: AutotaskServerState): void {
  const { world } = state;
  const notesOf = (id: number) => {
    const notes = world.notes.get(id);
    if (!notes) throw new AtError(404, `Company ${id} does not exist.`);
    return notes;
  };
  route(app, state, 'GET', 'Companies/:id/Notes', (r) => {
    const items = notesOf(idParam.parse(r.params).id);
    return { items, pageDetails: { count: items.length, requestCount: 500, prevPageUrl: null, nextPageUrl: null } };
  });
  route(app, state, 'POST', 'Companies/:id/Notes', (r) => {
    const { id } = idParam.parse(r.params);
    const input = z
      .object({ title: z.string().min(1), description: z.string().min(1), actionType: z.number().int() })
      .safeParse(r.body);
    if (!input.success) throw new AtError(500, 'title, description and actionType are required.');
    const notes = notesOf(id);
    recordWrite(state, r);
    const note = { id: world.id(), companyID: id, ...input.data };
    notes.push(note);
    return { itemId: note.id };
  });
  route(app, state, 'PATCH', 'Companies/:id/Notes', (r) => {
    const { id } = idParam.parse(r.params);
    const input = z.object({ id: z.number().int(), description: z.string().min(1) }).safeParse(r.body);
    if (!input.success) throw new AtError(500, 'id and description are required.');
    const note = notesOf(id).find((n) => n.id === input.data.id);
    if (!note) throw new AtError(404, `CompanyNote ${input.data.id} does not exist.`);
    recordWrite(state, r);
    note.description = input.data.description;
    return { itemId: note.id };
  });
}

export async function buildAutotaskServer(state: AutotaskServerState): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // The zone lookup needs no credentials; one zone, this server.
  app.get('/atservicesrest/v1.0/zoneInformation', async (request) => {
    z.object({ user: z.string().min(1) }).parse(request.query);
    state.stats.zoneLookups++;
    return { zoneName: 'Simulated zone', url: `${state.origin()}/atservicesrest/`, webUrl: state.origin(), ci: 1 };
  });
  registerCompanyRoutes(app, state);
  registerNoteRoutes(app, state);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ errors: ['The requested resource does not exist.'] }),
  );
  await app.ready();
  return app;
}
