import { z } from 'zod';
import { envNameSchema as EnvName } from '../source-env.js';

/** The HubSpot part of a source file (docs/sources.md "HubSpot", source file). */

/** HubSpot internal property names: lower case, digits and underscores. */
const PropertyName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,99}$/, 'a HubSpot internal property name, e.g. acronis_tenant_id');

export const DEFAULT_DEAL_PROPERTIES = ['dealname', 'dealstage', 'pipeline', 'amount', 'closedate'];
export const DEFAULT_COMPANY_PROPERTIES = ['name', 'domain', 'country', 'city', 'phone', 'address', 'zip'];
export const DEFAULT_CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'jobtitle', 'hs_language'];

export const HubSpotSettings = z.strictObject({
  /** The app's client secret, which signs every request HubSpot sends (v1, v2 and v3). */
  client_secret_env: EnvName,
  /** The private app's access token, for reading records back and writing results. */
  access_token_env: EnvName,
  api_base_url: z.url({ protocol: /^https?$/ }).default('https://api.hubapi.com'),
  /** The signature schemes this source accepts; v1 has no URL and no timestamp, so drop it when you can. */
  signature_versions: z
    .array(z.enum(['v1', 'v2', 'v3']))
    .min(1)
    .default(['v3', 'v2', 'v1']),
  /** Which object a workflow's "Send a webhook" enrolls, when its body (v3 JSON) does not say. */
  workflow_object_type: z.enum(['deal', 'company', 'contact']).default('deal'),
  read: z
    .strictObject({
      deal_properties: z.array(PropertyName).max(100).default(DEFAULT_DEAL_PROPERTIES),
      company_properties: z.array(PropertyName).max(100).default(DEFAULT_COMPANY_PROPERTIES),
      contact_properties: z.array(PropertyName).max(100).default(DEFAULT_CONTACT_PROPERTIES),
      /** Read the deal's line items (quantity, SKU, name): on when the mapping sets quotas from them. */
      line_items: z.boolean().default(false),
    })
    .prefault({}),
  /** The company properties the result is written to; create them in HubSpot first (docs/sources.md). */
  write_back: z
    .strictObject({
      tenant_id_property: PropertyName.default('acronis_tenant_id'),
      admin_login_property: PropertyName.default('acronis_admin_login'),
      state_property: PropertyName.default('acronis_state'),
      reason_property: PropertyName.optional(),
    })
    .prefault({}),
  /** Per call to HubSpot's API. */
  timeout_ms: z.number().int().min(1000).max(60_000).default(15_000),
});

export type HubSpotSettings = z.output<typeof HubSpotSettings>;
