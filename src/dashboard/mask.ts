/**
 * What the dashboards show of job data, return values, logs and reasons: secrets replaced by
 * `[hidden]`. A value is hidden by its name (password, secret, token, sealed, authorization …,
 * but not the ids and times named after them) and by its shape (sealed values, JWTs, bearer
 * tokens, agent registration tokens, credentials in URLs), so a field added later is covered too.
 */
export const HIDDEN = '[hidden]';

const SECRET_NAME = /pass(word|wd)?|secret|token|sealed|authori[sz]ation|credential|api[-_]?key|cookie|session/i;
/** tokenId, tokenExpiresAt, tokenRequestedAt: about a secret, not the secret. */
const ABOUT_A_SECRET = /(id|ids|at|count|type)$/i;

const SECRET_SHAPES: [RegExp, string][] = [
  [/\bv1\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, HIDDEN], // SecretBox sealed values
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, HIDDEN], // JWTs (access and id tokens)
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${HIDDEN}`], // Authorization header values
  [/\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b/g, HIDDEN], // agent registration tokens
  [/(\/\/[^\s/:@]*:)[^\s/@]+@/g, `$1${HIDDEN}@`], // user:password@ in URLs
  [/([?&;][a-z_-]*(?:token|secret|password|key|sig)[a-z_-]*=)[^\s&#]+/gi, `$1${HIDDEN}`], // secrets in query strings
];

export function maskText(text: string): string {
  return SECRET_SHAPES.reduce((out, [shape, replacement]) => out.replace(shape, replacement), text);
}

/** A copy of `value` with every secret-named field and every secret-shaped string hidden. */
export function maskSecrets(value: unknown, name = ''): unknown {
  if (typeof value === 'string') return isSecretName(name) ? HIDDEN : maskText(value);
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskSecrets(item, key)]));
  }
  return value;
}

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !ABOUT_A_SECRET.test(name);
}
