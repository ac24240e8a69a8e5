import { z } from 'zod';
import { envNameSchema } from '../source-env.js';

/**
 * The generic kind's part of a source file (docs/sources.md "Generic JSON"): how requests are
 * authenticated (Standard Webhooks, a static Bearer token or HTTP Basic, each secret by the name
 * of the environment variable holding it), where the record's id is, and where results go back.
 */
const standardWebhooks = z.strictObject({
  scheme: z.literal('standard-webhooks'),
  /** `whsec_<base64>`; during a rotation the previous one too. */
  secret_env: envNameSchema,
  previous_secret_env: envNameSchema.optional(),
});
const bearer = z.strictObject({ scheme: z.literal('bearer'), token_env: envNameSchema });
const basic = z.strictObject({ scheme: z.literal('basic'), user_env: envNameSchema, password_env: envNameSchema });

export const genericSettingsSchema = z.strictObject({
  auth: z.discriminatedUnion('scheme', [standardWebhooks, bearer, basic], {
    error: 'must be {"scheme": "standard-webhooks" | "bearer" | "basic", …}',
  }),
  /** The path of the record's own id in each customer object: the customer key is `<source>:<id>`. */
  object_id: z.string().trim().min(1).default('id'),
  /**
   * Where results go back: each customer done or failed is POSTed there as JSON, signed with
   * Standard Webhooks under `secret_env`. Absent: nothing is written back.
   */
  callback: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
      secret_env: envNameSchema,
    })
    .optional(),
});
export type GenericSettings = z.infer<typeof genericSettingsSchema>;

export function genericSecretNames(settings: GenericSettings): string[] {
  const { auth, callback } = settings;
  const names =
    auth.scheme === 'standard-webhooks'
      ? [auth.secret_env, ...(auth.previous_secret_env ? [auth.previous_secret_env] : [])]
      : auth.scheme === 'bearer'
        ? [auth.token_env]
        : [auth.user_env, auth.password_env];
  return [...names, ...(callback ? [callback.secret_env] : [])];
}
