import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import subsetDocument from './openapi-subset.json' with { type: 'json' };

/**
 * Request and response validation against openapi-subset.json, translated from OpenAPI 3.0
 * to JSON Schema for ajv (`nullable` → `anyOf` with null; see docs/simulator.md).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface MediaSchemas {
  [mediaType: string]: { schema: Json };
}
interface SubsetOperation {
  operationId: string | null;
  security: JsonObject[];
  requestBody: { required: boolean; content: MediaSchemas } | null;
  responses: { [status: string]: { content: MediaSchemas } };
}
interface Subset {
  operations: { [operation: string]: SubsetOperation };
  components: { schemas: { [name: string]: Json } };
}

const subset = subsetDocument as unknown as Subset;
const DOC_ID = 'acronis-oas';
const REF_PREFIX = '#/components/schemas/';

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(REF_PREFIX)) out[key] = `${DOC_ID}${value}`;
    else if (key !== 'nullable') out[key] = toJsonSchema(value);
  }
  return node.nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

const components: { [name: string]: Json } = Object.fromEntries(
  Object.entries(subset.components.schemas).map(([name, schema]) => [name, toJsonSchema(schema)]),
);

function component(name: string): JsonObject {
  const schema = components[name];
  if (!isObject(schema)) throw new Error(`openapi-subset.json lacks components.schemas.${name}`);
  return structuredClone(schema);
}

/**
 * Where the simulator knowingly departs from the OAS because the real API does
 * (docs/acronis-api.md is the witness). Everything else is validated exactly as published.
 */
const REQUEST_OVERRIDES: { [operation: string]: () => Json } = {
  // §3.1 [C]: the tutorials send `enhanced_security` at the top level; the simulator
  // accepts it there as well as in `settings`.
  'POST /tenants': () => {
    const schema = component('tenantPost');
    (schema.properties as JsonObject).enhanced_security = { type: 'boolean' };
    return schema;
  },
  // §6.3: the OAS reuses the response list as the PUT body, which would require
  // `timestamp` and each item's created_at/updated_at/deleted_at. DOC, PYX and WH send only
  // id, issuer_id, role_id, tenant_id, trustee_id, trustee_type and version, and it works.
  'PUT /users/{user_id}/access_policies': () => {
    const schema = component('accessPoliciesList');
    schema.required = ['items'];
    const item = ((schema.properties as JsonObject).items as JsonObject).items as JsonObject;
    item.required = ['id', 'issuer_id', 'role_id', 'tenant_id', 'trustee_id', 'trustee_type', 'version'];
    return schema;
  },
  // §5: the official examples switch pricing by PUTting the GET body back with `mode` changed;
  // the real API accepts its read-only `production_start_date` (and ignores it). Any other
  // property is still refused.
  'PUT /tenants/{tenant_id}/pricing': () => {
    const schema = component('tenantPricingSettingsPut');
    const read = component('tenantPricingSettings').properties as JsonObject;
    (schema.properties as JsonObject).production_start_date = read.production_start_date as Json;
    return schema;
  },
  // §4.3: its item schema already accepts the extra keys of a GET object PUT back, and its
  // strict top level rejects `items`. Acronis' own examples PUT the GET answer back with
  // `items` renamed, so its read-only `timestamp` comes along: tolerated (and ignored), as the
  // pricing PUT tolerates `production_start_date`. Anything else at the top level is refused.
  'PUT /tenants/{tenant_id}/offering_items': () => {
    const schema = component('tenantOfferingItemsPut');
    const read = component('offeringItemList').properties as JsonObject;
    (schema.properties as JsonObject).timestamp = read.timestamp as Json;
    return schema;
  },
};

const RESPONSE_OVERRIDES: { [operationAndStatus: string]: () => Json } = {
  // §2.2 [I]: a bad client secret answers `invalid_client` (SW's mock), which the OAS
  // `tokenError` enum does not list.
  'POST /idp/token 401': () => {
    const schema = component('tokenError');
    (schema.properties as JsonObject).error = { type: 'string' };
    return schema;
  },
};

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(coerceTypes: boolean): Ajv {
  // unicodeRegExp:false: the OAS patterns use escapes such as `\:` that are invalid under /u.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, coerceTypes, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ $id: DOC_ID, components: { schemas: components } });
  return ajv;
}

const jsonAjv = newAjv(false);
// Form bodies (POST /idp/token) arrive as strings; let booleans such as
// `not_required_introspection=true` validate.
const formAjv = newAjv(true);

const compiled = new Map<string, ValidateFunction>();

function compile(cacheKey: string, schema: () => Json, form = false): ValidateFunction {
  let validate = compiled.get(cacheKey);
  if (!validate) {
    validate = (form ? formAjv : jsonAjv).compile(schema() as object);
    compiled.set(cacheKey, validate);
  }
  return validate;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors) return [];
  // Drop the noise of the nullable translation: "must be null" and "must match a schema in
  // anyOf" say nothing the inner error does not.
  const useful = errors.filter((e) => !(e.keyword === 'type' && e.params.type === 'null') && e.keyword !== 'anyOf');
  const chosen = useful.length > 0 ? useful : errors;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const error of chosen) {
    const where = error.instancePath ? `'${error.instancePath.slice(1).replace(/\//g, '.')}'` : 'body';
    let text: string;
    if (error.keyword === 'additionalProperties')
      text = `${where} must NOT have additional property '${String(error.params.additionalProperty)}'`;
    else if (error.keyword === 'required')
      text = `${where} must have required property '${String(error.params.missingProperty)}'`;
    else if (error.keyword === 'enum')
      text = `${where} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    else text = `${where} ${error.message ?? 'is invalid'}`;
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return out;
}

export function hasOperation(operation: string): boolean {
  return operation in subset.operations;
}

export function operationSecurity(operation: string): { basic: boolean; bearer: boolean; none: boolean } {
  const security = subset.operations[operation]?.security ?? [{ basicAuth: [] }, { oauth2: [] }];
  return {
    basic: security.some((s) => 'basicAuth' in s),
    bearer: security.some((s) => 'oauth2' in s),
    none: security.some((s) => Object.keys(s).length === 0),
  };
}

/** The media type of the operation's request body, or null when it takes none. */
export function requestMediaType(operation: string): string | null {
  const body = subset.operations[operation]?.requestBody;
  return body ? (Object.keys(body.content)[0] ?? null) : null;
}

/** Errors of `body` against the operation's request schema ([] = valid or no schema). */
export function validateRequestBody(operation: string, body: unknown): string[] {
  const op = subset.operations[operation];
  const mediaType = requestMediaType(operation);
  const documented = mediaType ? op?.requestBody?.content[mediaType]?.schema : undefined;
  if (!mediaType || documented === undefined || documented === null) return [];
  const override = REQUEST_OVERRIDES[operation];
  const validate = compile(
    `req ${operation}`,
    () => (override ? override() : toJsonSchema(documented)),
    mediaType.includes('form'),
  );
  return validate(body) ? [] : describeErrors(validate.errors);
}

/**
 * Errors of a JSON response body against the schema the OAS gives for that status. Statuses
 * the OAS does not list for the operation (e.g. the 409 of a name conflict, docs/acronis-api.md
 * §3.1 [I]) are checked against the generic error body of the operation's family.
 */
export function validateResponseBody(operation: string, status: number, body: unknown): string[] {
  const op = subset.operations[operation];
  if (!op) return [];
  const key = `${operation} ${status}`;
  const override = RESPONSE_OVERRIDES[key];
  const documented = op.responses[String(status)]?.content['application/json']?.schema;
  let schema: () => Json;
  if (override) schema = override;
  else if (documented !== undefined && documented !== null) schema = () => toJsonSchema(documented);
  else if (status >= 400) schema = () => component(operation === 'POST /idp/token' ? 'tokenError' : 'errorScheme');
  else return [`status ${status} is not documented for ${operation}`];
  const validate = compile(`res ${key}`, schema);
  return validate(body) ? [] : describeErrors(validate.errors);
}

/** Statuses the OAS documents for the operation, for tests and docs/simulator.md. */
export function documentedStatuses(operation: string): string[] {
  return Object.keys(subset.operations[operation]?.responses ?? {});
}
