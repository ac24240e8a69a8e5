import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RollingWindow } from '../hubspot/rate-window.js';
import { OWNER_ID, type PipedriveWorld } from './world.js';

/**
 * The simulated Pipedrive's API: deals, deal products, organizations and persons on v2, notes and
 * `users/me` on v1; the API token in `x-api-token` (or `api_token`); Pipedrive's error body
 * (`{success: false, error, error_info}`) and its burst limit per rolling window, answered 429
 * with `x-ratelimit-*` headers.
 */

export interface PipedriveServerState {
  world: PipedriveWorld;
  apiToken: string;
  window: RollingWindow;
  faults: number[];
  stats: { requests: number; refusedAuth: number; rateLimited: number };
}

class PdError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const idParam = z.object({ id: z.coerce.number().int() });

function error(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send({
    success: false,
    error: message,
    errorCode: status,
    error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.',
    data: null,
    additional_data: null,
  });
}

function guard(state: PipedriveServerState, request: FastifyRequest, reply: FastifyReply): boolean {
  state.stats.requests++;
  const fault = state.faults.shift();
  if (fault !== undefined) {
    void error(reply, fault, 'injected by the test');
    return false;
  }
  const query = request.query as { api_token?: string };
  if ((request.headers['x-api-token'] ?? query.api_token) !== state.apiToken) {
    state.stats.refusedAuth++;
    void error(reply, 401, 'unauthorized access');
    return false;
  }
  const admitted = state.window.admit();
  reply.header('x-ratelimit-limit', String(state.window.max));
  reply.header('x-ratelimit-remaining', String(state.window.remaining()));
  reply.header('x-ratelimit-reset', String(Math.ceil(state.window.windowMs / 1000)));
  if (!admitted) {
    state.stats.rateLimited++;
    void error(reply, 429, 'Request over limit');
    return false;
  }
  return true;
}

type Handler = (request: FastifyRequest) => unknown;

function route(
  app: FastifyInstance,
  state: PipedriveServerState,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT',
  url: string,
  handler: Handler,
) {
  app.route({
    method,
    url,
    handler: async (request, reply) => {
      if (!guard(state, request, reply)) return reply;
      try {
        const data = await handler(request);
        return reply.send({ success: true, data, additional_data: null });
      } catch (failure) {
        if (failure instanceof PdError) return error(reply, failure.status, failure.message);
        throw failure;
      }
    },
  });
}

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new PdError(404, `${what} not found`);
  return value;
}

function recordWrite(state: PipedriveServerState, request: FastifyRequest): void {
  state.world.writes.push({
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    body: request.body,
  });
}

function registerRecordRoutes(app: FastifyInstance, state: PipedriveServerState): void {
  const { world } = state;
  route(app, state, 'GET', '/api/v2/deals/:id', (r) => found(world.deals.get(idParam.parse(r.params).id), 'Deal'));
  route(app, state, 'GET', '/api/v2/deals/:id/products', (r) => {
    const { id } = idParam.parse(r.params);
    found(world.deals.get(id), 'Deal');
    return world.dealProducts.get(id) ?? [];
  });
  route(app, state, 'GET', '/api/v2/organizations/:id', (r) =>
    found(world.organizations.get(idParam.parse(r.params).id), 'Organization'),
  );
  route(app, state, 'PATCH', '/api/v2/organizations/:id', (r) => {
    const org = found(world.organizations.get(idParam.parse(r.params).id), 'Organization');
    const input = z.object({ custom_fields: z.record(z.string(), z.string().nullable()) }).safeParse(r.body);
    if (!input.success) throw new PdError(400, 'The simulator updates custom_fields only');
    const unknown = Object.keys(input.data.custom_fields).find((key) => !(key in org.custom_fields));
    if (unknown) throw new PdError(400, `Unknown custom field key ${unknown}`);
    recordWrite(state, r);
    Object.assign(org.custom_fields, input.data.custom_fields);
    org.update_time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return org;
  });
  route(app, state, 'GET', '/api/v2/persons/:id', (r) =>
    found(world.persons.get(idParam.parse(r.params).id), 'Person'),
  );
  route(app, state, 'GET', '/api/v1/users/me', () => ({
    id: OWNER_ID,
    name: 'Simulated admin',
    company_id: 8_087_566,
  }));
}

function registerNoteRoutes(app: FastifyInstance, state: PipedriveServerState): void {
  const { world } = state;
  route(app, state, 'GET', '/api/v1/notes', (r) => {
    const { org_id } = z.object({ org_id: z.coerce.number().int() }).parse(r.query);
    const notes = world.notes.filter((n) => n.org_id === org_id);
    // Pipedrive answers an empty list as null.
    return notes.length > 0 ? notes : null;
  });
  route(app, state, 'POST', '/api/v1/notes', (r) => {
    const input = z.object({ content: z.string().min(1), org_id: z.number().int() }).safeParse(r.body);
    if (!input.success) throw new PdError(400, 'Note content and a deal, person, organization or lead are required');
    found(world.organizations.get(input.data.org_id), 'Organization');
    recordWrite(state, r);
    const note = { id: world.id(), ...input.data, add_time: new Date().toISOString() };
    world.notes.push(note);
    return note;
  });
  route(app, state, 'PUT', '/api/v1/notes/:id', (r) => {
    const note = found(
      world.notes.find((n) => n.id === idParam.parse(r.params).id),
      'Note',
    );
    const input = z.object({ content: z.string().min(1) }).safeParse(r.body);
    if (!input.success) throw new PdError(400, 'Note content is required');
    recordWrite(state, r);
    note.content = input.data.content;
    return note;
  });
}

export async function buildPipedriveServer(state: PipedriveServerState): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  registerRecordRoutes(app, state);
  registerNoteRoutes(app, state);
  app.setNotFoundHandler((_request, reply) => error(reply, 404, 'Unknown method .'));
  await app.ready();
  return app;
}
