import { z } from 'zod';
import { envNameSchema as EnvName } from '../source-env.js';

/** The Autotask PSA part of a source file (docs/sources.md "Autotask PSA"); secrets only by variable name. */

/** A company user-defined field, by the name Autotask shows (Admin > Features & Settings > User-Defined Fields). */
const UdfName = z.string().min(1).max(100);

const writeBack = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('udf'),
    fields: z.strictObject({ tenant_id: UdfName, admin_login: UdfName, state: UdfName }),
  }),
  z.strictObject({
    mode: z.literal('note'),
    /** Autotask requires a note's action type (Admin > Features & Settings > Note Types): its id. */
    action_type: z.number().int().positive(),
    title: z.string().min(1).max(250).default('Acronis onboarding'),
  }),
]);

export const AutotaskSettings = z.strictObject({
  /** The webhook's SecretKey, which signs every callout (`X-Hook-Signature`). */
  secret_key_env: EnvName,
  api: z.strictObject({
    /** The API-only user's user name, secret and its API tracking identifier (integration code). */
    username_env: EnvName,
    secret_env: EnvName,
    integration_code_env: EnvName,
    /**
     * The zone's REST root, e.g. https://webservices5.autotask.net/atservicesrest. Absent: asked
     * once of `zone_lookup_url` (`GET /v1.0/zoneInformation?user=<user name>`).
     */
    zone_url: z.url({ protocol: /^https?$/ }).optional(),
    zone_lookup_url: z.url({ protocol: /^https?$/ }).default('https://webservices.autotask.net/atservicesrest'),
    timeout_ms: z.number().int().min(1000).max(60_000).default(15_000),
  }),
  write_back: writeBack.default({
    mode: 'udf',
    fields: { tenant_id: 'Acronis tenant id', admin_login: 'Acronis admin login', state: 'Acronis state' },
  }),
});

export type AutotaskSettings = z.output<typeof AutotaskSettings>;
