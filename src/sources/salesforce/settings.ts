import { z } from 'zod';
import { envNameSchema as EnvName } from '../source-env.js';

/** The Salesforce part of a source file (docs/sources.md "Salesforce", the source file). */

/** A field's API name: standard (`Name`) or custom (`Acronis_Tenant_Id__c`). */
const FieldName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'a Salesforce field API name, e.g. Acronis_Tenant_Id__c');

/** The 15-character id Setup shows, or its 18-character form the messages carry. */
const OrganizationId = z
  .string()
  .regex(/^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/, 'an organization id: 00D and 12 or 15 more letters and digits');

export const DEFAULT_OPPORTUNITY_FIELDS = ['Name', 'StageName', 'IsWon', 'AccountId', 'Amount', 'CloseDate'];
export const DEFAULT_ACCOUNT_FIELDS = ['Name', 'BillingCountry', 'BillingCity', 'Phone', 'Website'];
export const DEFAULT_CONTACT_FIELDS = ['Email', 'FirstName', 'LastName', 'Phone', 'Title'];

export const SalesforceSettings = z.strictObject({
  /** The org whose messages are taken (Setup → Company Information → Salesforce.com Organization ID). */
  organization_id: OrganizationId,
  /**
   * Optional: a secret the endpoint URL set in Salesforce carries as `?token=<value>`; a message
   * without it is refused. Outbound messages carry no signature, so this is the only secret in one.
   */
  url_token_env: EnvName.optional(),
  /** `https://<MyDomain>.my.salesforce.com`: the token endpoint and the REST API. */
  instance_url: z.url({ protocol: /^https?$/ }),
  api_version: z
    .string()
    .regex(/^v\d{2}\.0$/, 'a REST API version such as v62.0')
    .default('v62.0'),
  /** The connected (or external client) app's consumer key and secret, for the client credentials flow. */
  client_id_env: EnvName,
  client_secret_env: EnvName,
  read: z
    .strictObject({
      opportunity_fields: z.array(FieldName).max(100).default(DEFAULT_OPPORTUNITY_FIELDS),
      account_fields: z.array(FieldName).max(100).default(DEFAULT_ACCOUNT_FIELDS),
      contact_fields: z.array(FieldName).max(100).default(DEFAULT_CONTACT_FIELDS),
      /** Read the opportunity's products (Quantity, ProductCode, Name): on when the mapping sets quotas from them. */
      line_items: z.boolean().default(false),
    })
    .prefault({}),
  /** The Account fields the result is written to; create them in Salesforce first (docs/sources.md). */
  write_back: z
    .strictObject({
      tenant_id_field: FieldName.default('Acronis_Tenant_Id__c'),
      admin_login_field: FieldName.default('Acronis_Admin_Login__c'),
      state_field: FieldName.default('Acronis_State__c'),
      reason_field: FieldName.optional(),
    })
    .prefault({}),
  /** Per call to Salesforce's API. */
  timeout_ms: z.number().int().min(1000).max(60_000).default(15_000),
});

export type SalesforceSettings = z.output<typeof SalesforceSettings>;
