import { z } from 'zod';
import { envNameSchema as EnvName } from '../source-env.js';

/** The Pipedrive part of a source file (docs/sources.md "Pipedrive"); secrets only by variable name. */

/** A custom field's key: Pipedrive names custom fields by a 40-character hash. */
const FieldKey = z.string().regex(/^[a-f0-9]{40}$/, "a Pipedrive custom field's 40-character key");

const writeBack = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('fields'),
    fields: z.strictObject({ tenant_id: FieldKey, admin_login: FieldKey, state: FieldKey }),
  }),
  z.strictObject({ mode: z.literal('note') }),
]);

export const PipedriveSettings = z.strictObject({
  /** The HTTP Basic user and password set on the webhook (`http_auth_user`, `http_auth_password`). */
  webhook_user_env: EnvName,
  webhook_password_env: EnvName,
  api: z.strictObject({
    /** The company domain's root, e.g. https://acme.pipedrive.com */
    base_url: z.url({ protocol: /^https?$/ }),
    /** A user's personal API token (Settings > Personal preferences > API), sent as `x-api-token`. */
    token_env: EnvName,
    timeout_ms: z.number().int().min(1000).max(60_000).default(15_000),
  }),
  /** Read the deal's products (name, quantity): on when the mapping sets quotas from them. */
  read_products: z.boolean().default(true),
  write_back: writeBack.default({ mode: 'note' }),
});

export type PipedriveSettings = z.output<typeof PipedriveSettings>;
