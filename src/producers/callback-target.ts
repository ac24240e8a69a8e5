import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a batch callback may go (docs/webhook.md "Batch callbacks"): https, no credentials in the URL,
 * and only to public unicast addresses — loopback, private, link-local (the cloud metadata
 * service), carrier-grade NAT, unspecified, multicast and reserved ranges are refused, in any
 * spelling (`0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`), unless the host is listed in
 * CALLBACK_ALLOWED_HOSTS. A host name is judged by the addresses it resolves to when the
 * connection is made (`callbackLookup`), so a name that resolves elsewhere later (DNS
 * rebinding) gains nothing; plain http only to listed hosts, with CALLBACK_ALLOW_HTTP.
 */
export interface CallbackPolicy {
  /** Host names or IP addresses (lower case, IPv6 without brackets) that may be internal. */
  allowedHosts: readonly string[];
  /** Plain http to the allowed hosts (never to others). */
  allowHttp: boolean;
}

/** A target the policy refuses; never retried. */
export class CallbackTargetError extends Error {
  readonly code = 'ERR_CALLBACK_TARGET';
  constructor(message: string) {
    super(message);
    this.name = 'CallbackTargetError';
  }
}

/** `::ffff:127.0.0.1` is 127.0.0.1; only what the range table calls unicast is public. */
export function isPublicAddress(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'unicast';
}

/** The URL's host as CALLBACK_ALLOWED_HOSTS names it: lower case, IPv6 without brackets. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** Why the URL may not be a callback target, or undefined. The URL is already parsed by WHATWG rules (so `0x7f000001` reads as 127.0.0.1). */
export function callbackUrlProblem(url: URL, policy: CallbackPolicy): string | undefined {
  const host = hostOf(url);
  const allowed = policy.allowedHosts.includes(host);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed && policy.allowHttp))
    return allowed
      ? 'must be an https URL (plain http to this host needs CALLBACK_ALLOW_HTTP=true)'
      : 'must be an https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@)';
  if (allowed) return undefined;
  if (ipaddr.isValid(host) && !isPublicAddress(host))
    return `points at a ${ipaddr.process(host).range()} address (${host}); only hosts in CALLBACK_ALLOWED_HOSTS may be internal`;
  return undefined;
}

/**
 * A name that is local whatever DNS says: refused when the webhook reads the URL, so the sender
 * hears of it (every other name is judged by its addresses when the callback connects).
 */
export function localNameProblem(url: URL, policy: CallbackPolicy): string | undefined {
  const host = hostOf(url).replace(/\.$/, '');
  if (policy.allowedHosts.includes(host) || (host !== 'localhost' && !host.endsWith('.localhost'))) return undefined;
  return 'points at localhost; only hosts in CALLBACK_ALLOWED_HOSTS may be internal';
}

/**
 * The `lookup` of a callback's connection: resolves the name and refuses it when any address
 * is not public (all of them, so a name answering a public and a private address cannot pick
 * the private one on a second try).
 */
export function callbackLookup(policy: CallbackPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true } satisfies LookupAllOptions, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = policy.allowedHosts.includes(hostname.toLowerCase())
        ? undefined
        : addresses.find((a) => !isPublicAddress(a.address));
      if (refused)
        return callback(
          new CallbackTargetError(
            `${hostname} resolves to ${refused.address}, a ${ipaddr.process(refused.address).range()} address; only hosts in CALLBACK_ALLOWED_HOSTS may be internal`,
          ),
          '',
          0,
        );
      const [first] = addresses;
      if (options.all) return callback(null, addresses);
      return callback(null, first?.address ?? '', first?.family ?? 4);
    });
  };
}
