import { z } from 'zod';

/**
 * The ConnectWise PSA part of a source file (docs/sources.md "ConnectWise PSA"). Credentials are
 * named by environment variable, never written in the file.
 */

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as CW_PRIVATE_KEY (upper case, digits, _)');

/** A company custom field, by its id (Setup Tables > Custom Fields) or, failing that, its caption. */
const customFieldRef = z
  .object({ id: z.number().int().positive().optional(), caption: z.string().min(1).max(50).optional() })
  .strict()
  .refine((ref) => ref.id !== undefined || ref.caption !== undefined, 'give the custom field id or caption');

const writeBackSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('custom_fields'),
      fields: z.object({ tenant_id: customFieldRef, admin_login: customFieldRef, state: customFieldRef }).strict(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('note'),
      /** A note type id (Setup Tables > Note Types); ConnectWise uses its default when absent. */
      note_type_id: z.number().int().positive().optional(),
      flagged: z.boolean().default(false),
    })
    .strict(),
]);

export const connectwiseSettingsSchema = z
  .object({
    api: z
      .object({
        /** e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0 (the codebase's REST root). */
        base_url: z
          .string()
          .url()
          .refine((url) => /^https?:\/\//.test(url), 'an http(s) URL'),
        company_id_env: envName,
        public_key_env: envName,
        private_key_env: envName,
        client_id_env: envName,
        timeout_ms: z.number().int().min(100).max(60_000).default(10_000),
      })
      .strict(),
    /**
     * The one host (`name[:port]`) a callback's `Metadata.key_url` may point at. Defaults to the
     * API's host; on ConnectWise cloud the key URL may be on the site host (na.myconnectwise.net)
     * rather than the API host (api-na.myconnectwise.net): set it then.
     */
    callback_key_host: z.string().min(1).max(255).optional(),
    /**
     * TEST ONLY: lets the key URL be plain http and a loopback or internal address (the simulated
     * ConnectWise on 127.0.0.1). The exact-host rule still holds. Never set it in production.
     */
    allow_insecure_test_host: z.boolean().default(false),
    signing_keys: z
      .object({
        cache_entries: z.number().int().min(1).max(1000).default(32),
        cache_ttl_seconds: z.number().int().min(1).max(86_400).default(3600),
        fetch_timeout_ms: z.number().int().min(100).max(30_000).default(5000),
        max_bytes: z.number().int().min(64).max(65_536).default(4096),
      })
      .strict()
      .default({ cache_entries: 32, cache_ttl_seconds: 3600, fetch_timeout_ms: 5000, max_bytes: 4096 }),
    write_back: writeBackSchema.default({ mode: 'note', flagged: false }),
  })
  .strict();

export type ConnectWiseSettings = z.infer<typeof connectwiseSettingsSchema>;
export type ConnectWiseWriteBackSettings = ConnectWiseSettings['write_back'];
export type CustomFieldRef = z.infer<typeof customFieldRef>;

/** The key URL host a source trusts, normalised as URL.host (lower case, default port dropped). */
export function trustedKeyHost(settings: ConnectWiseSettings): string {
  if (settings.callback_key_host !== undefined) return new URL(`https://${settings.callback_key_host}`).host;
  return new URL(settings.api.base_url).host;
}
