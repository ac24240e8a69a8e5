import ipaddr from 'ipaddr.js';

/**
 * Whether a callback's `Metadata.key_url` may be fetched. It arrives in the request, so an
 * attacker chooses it: only https on exactly the configured ConnectWise host, never an IP literal
 * or a name that is local by definition, never with credentials in it. Decided before anything
 * leaves (docs/sources.md "ConnectWise PSA", key URL rules).
 */
export interface KeyUrlRule {
  /** URL.host form: lower case, default port dropped. */
  host: string;
  /** Test only: http and loopback/internal addresses allowed (the exact-host rule still holds). */
  allowInsecureTestHost: boolean;
}

export type KeyUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const LOCAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

export function checkKeyUrl(raw: unknown, rule: KeyUrlRule): KeyUrlVerdict {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'no Metadata.key_url' };
  if (raw.length > 2048) return { ok: false, reason: 'key_url longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'key_url is not a URL' };
  }
  const schemes = rule.allowInsecureTestHost ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return { ok: false, reason: `key_url scheme ${url.protocol} is not https` };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'key_url carries credentials' };
  if (url.host !== rule.host)
    return { ok: false, reason: `key_url host ${url.host} is not the configured ${rule.host}` };
  if (!rule.allowInsecureTestHost) {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    if (ipaddr.isValid(hostname)) return { ok: false, reason: 'key_url host is an IP address' };
    if (LOCAL_NAME.test(hostname)) return { ok: false, reason: 'key_url host is a local name' };
  }
  return { ok: true, url };
}

/** Public unicast only: what a configured hostname must resolve to unless the test rule is on. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}
