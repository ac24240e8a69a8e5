import { z } from 'zod';

/** A secret in a source file is the name of the environment variable holding it, never the secret. */
const ENV_NAME = /^[A-Z][A-Z0-9_]{0,127}$/;
export const envNameSchema = z.string({ error: 'must be an environment variable name' }).regex(ENV_NAME, {
  error: 'must be an environment variable name (A–Z, digits, _), never the secret itself',
});
