import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RateLimiter } from '../rate-limiter.js';
import type { CallbackDispatcher } from './callbacks.js';
import type { ConnectWiseWorld } from './world.js';

/**
 * The simulated ConnectWise PSA's HTTP side: the REST endpoints the intake calls, the callback
 * key URL, `/system/callbacks`, ConnectWise's error bodies (`{code, message, errors[]}`), Basic
 * `companyId+publicKey:privateKey` plus `clientId` on everything, and a per-second rate limit
 * answered 429 + Retry-After.
 */

export interface SimCredentials {
  companyId: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

export interface ServerState {
  world: ConnectWiseWorld;
  dispatcher: CallbackDispatcher;
  credentials: SimCredentials;
  codebase: string;
  rateLimitPerSecond: number | null;
  limiter: RateLimiter;
  /** Answers queued by a test: the next requests get these statuses instead of being served. */
  faults: number[];
  stats: { requests: number; refusedAuth: number; rateLimited: number; keyFetches: number };
}

class CwError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: Array<{ code: string; message: string; resource: string; field: string }>,
  ) {
    super(message);
  }
}

const notFound = (resource: string, id: number | string) =>
  new CwError(404, 'NotFound', `${resource} recId ${id} not found.`);
const invalid = (resource: string, field: string, message: string) =>
  new CwError(400, 'InvalidObject', `${resource} object is invalid`, [
    { code: 'InvalidField', message, resource, field },
  ]);

const idParam = z.object({ id: z.coerce.number().int() });
const patchOps = z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown() }));

function expectedAuthorization(c: SimCredentials): string {
  return `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`;
}

function guard(state: ServerState, request: FastifyRequest, reply: FastifyReply): boolean {
  state.stats.requests++;
  const fault = state.faults.shift();
  if (fault !== undefined) {
    if (fault === 429 || fault === 503) reply.header('retry-after', '1');
    void reply
      .code(fault)
      .send({ code: fault === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'injected by the test' });
    return false;
  }
  if (
    request.headers.authorization !== expectedAuthorization(state.credentials) ||
    request.headers.clientid !== state.credentials.clientId
  ) {
    state.stats.refusedAuth++;
    void reply.code(401).send({ code: 'Unauthorized', message: 'Authentication failed.' });
    return false;
  }
  const wait = state.limiter.admit(state.rateLimitPerSecond);
  if (wait !== null) {
    state.stats.rateLimited++;
    void reply
      .code(429)
      .header('retry-after', String(wait))
      .send({ code: 'TooManyRequests', message: 'Too many requests, slow down.' });
    return false;
  }
  return true;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

function route(
  app: FastifyInstance,
  state: ServerState,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  handler: Handler,
): void {
  app.route({
    method,
    url,
    handler: async (request, reply) => {
      if (!guard(state, request, reply)) return reply;
      try {
        const body = await handler(request, reply);
        return reply.sent ? reply : reply.send(body);
      } catch (error) {
        if (error instanceof CwError) {
          return reply
            .code(error.status)
            .send({ code: error.code, message: error.message, ...(error.errors ? { errors: error.errors } : {}) });
        }
        throw error;
      }
    },
  });
}

function recordWrite(state: ServerState, request: FastifyRequest): void {
  state.world.writes.push({
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
    body: request.body,
  });
}

function registerRecordRoutes(app: FastifyInstance, state: ServerState, api: string): void {
  const { world } = state;
  route(app, state, 'GET', `${api}/system/info`, () => ({
    version: 'v2025.1.10431',
    isCloud: false,
    serverTimeZone: 'Eastern Standard Time',
    cloudRegion: 'NA',
  }));
  route(app, state, 'GET', `${api}/company/companies/:id`, (r) => {
    const { id } = idParam.parse(r.params);
    return world.companies.get(id) ?? Promise.reject(notFound('Company', id));
  });
  route(app, state, 'PATCH', `${api}/company/companies/:id`, (r) => {
    const { id } = idParam.parse(r.params);
    const company = world.companies.get(id);
    if (!company) throw notFound('Company', id);
    const ops = patchOps.safeParse(r.body);
    if (!ops.success) throw invalid('company', 'body', 'A JSON Patch array is required');
    recordWrite(state, r);
    for (const op of ops.data) applyCompanyPatch(company, op);
    return company;
  });
  route(app, state, 'GET', `${api}/company/contacts/:id`, (r) => {
    const { id } = idParam.parse(r.params);
    return world.contacts.get(id) ?? Promise.reject(notFound('Contact', id));
  });
  route(app, state, 'GET', `${api}/finance/agreements/:id`, (r) => {
    const { id } = idParam.parse(r.params);
    return world.agreements.get(id) ?? Promise.reject(notFound('Agreement', id));
  });
  route(app, state, 'GET', `${api}/finance/agreements/:id/additions`, (r) => {
    const { id } = idParam.parse(r.params);
    return world.additions.get(id) ?? Promise.reject(notFound('Agreement', id));
  });
  route(app, state, 'GET', `${api}/sales/opportunities/:id`, (r) => {
    const { id } = idParam.parse(r.params);
    return world.opportunities.get(id) ?? Promise.reject(notFound('Opportunity', id));
  });
}

function applyCompanyPatch(
  company: ConnectWiseWorld['companies'] extends Map<number, infer C> ? C : never,
  op: z.infer<typeof patchOps>[number],
): void {
  if (op.op !== 'replace' || op.path.replace(/^\//, '') !== 'customFields') {
    throw invalid('company', op.path, `The simulator supports replace of customFields only, not ${op.op} ${op.path}`);
  }
  const given = z.array(z.object({ id: z.number().int(), value: z.unknown() }).passthrough()).safeParse(op.value);
  if (!given.success) throw invalid('company', 'customFields', 'customFields must be an array of {id, value}');
  for (const field of given.data) {
    const existing = company.customFields.find((f) => f.id === field.id);
    if (!existing) throw invalid('company', 'customFields', `Custom field ${field.id} does not exist`);
    existing.value = field.value ?? null;
  }
}

function registerNoteRoutes(app: FastifyInstance, state: ServerState, api: string): void {
  const { world } = state;
  const notesOf = (id: number) => {
    const notes = world.notes.get(id);
    if (!notes) throw notFound('Company', id);
    return notes;
  };
  route(app, state, 'GET', `${api}/company/companies/:id/notes`, (r) => notesOf(idParam.parse(r.params).id));
  route(app, state, 'POST', `${api}/company/companies/:id/notes`, (r, reply) => {
    const { id } = idParam.parse(r.params);
    const notes = notesOf(id);
    const input = z
      .object({
        text: z.string().min(1),
        type: z.object({ id: z.number() }).optional(),
        flagged: z.boolean().optional(),
      })
      .safeParse(r.body);
    if (!input.success) throw invalid('companyNote', 'text', 'The text field is required.');
    recordWrite(state, r);
    const company = world.company(id);
    const note = {
      id: world.id(),
      text: input.data.text,
      type: input.data.type ?? null,
      flagged: input.data.flagged ?? false,
      company: { id, identifier: company.identifier, name: company.name },
      enteredBy: state.credentials.companyId,
    };
    notes.push(note);
    void reply.code(201);
    return note;
  });
  route(app, state, 'PATCH', `${api}/company/companies/:id/notes/:noteId`, (r) => {
    const { id, noteId } = z.object({ id: z.coerce.number().int(), noteId: z.coerce.number().int() }).parse(r.params);
    const note = notesOf(id).find((n) => n.id === noteId);
    if (!note) throw notFound('CompanyNote', noteId);
    const ops = patchOps.safeParse(r.body);
    const text = ops.success ? ops.data.find((o) => o.path.replace(/^\//, '') === 'text')?.value : undefined;
    if (typeof text !== 'string' || text === '') throw invalid('companyNote', 'text', 'The text field is required.');
    recordWrite(state, r);
    note.text = text;
    return note;
  });
}

function registerCallbackRoutes(app: FastifyInstance, state: ServerState, api: string): void {
  const { world } = state;
  const entry = z
    .object({
      url: z.string().url(),
      type: z.string(),
      level: z.string(),
      objectId: z.number().int(),
      description: z.string().optional(),
    })
    .passthrough();
  const publicEntry = ({ signingKey: _key, keyId: _id, ...rest }: ConnectWiseWorld['callbacks'][number]) => rest;
  route(app, state, 'GET', `${api}/system/callbacks`, () => world.callbacks.map(publicEntry));
  route(app, state, 'POST', `${api}/system/callbacks`, (r, reply) => {
    const input = entry.safeParse(r.body);
    if (!input.success)
      throw invalid('callbackEntry', String(input.error.issues[0]?.path[0] ?? 'url'), 'Invalid callback entry');
    if (!['agreement', 'opportunity', 'company'].includes(input.data.type.toLowerCase())) {
      throw invalid('callbackEntry', 'type', 'The simulator sends agreement, opportunity and company callbacks only');
    }
    void reply.code(201);
    return publicEntry(world.registerCallback(input.data));
  });
  // The key URL sits beside the REST root, not under it, as on a live instance.
  route(app, state, 'GET', `/${state.codebase}/system/callbackkey/index.rails`, (r) => {
    const { id } = z.object({ id: z.string().optional() }).parse(r.query);
    const found = world.callbacks.find((c) => c.keyId === id);
    if (!found) throw notFound('CallbackKey', id ?? '');
    state.stats.keyFetches++;
    return { signing_key: found.signingKey };
  });
}

export async function buildServer(state: ServerState): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true }, bodyLimit: 1024 * 1024 });
  const api = `/${state.codebase}/apis/3.0`;
  registerRecordRoutes(app, state, api);
  registerNoteRoutes(app, state, api);
  registerCallbackRoutes(app, state, api);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ code: 'ConnectWiseApi', message: 'The endpoint does not exist.' }),
  );
  await app.ready();
  return app;
}
