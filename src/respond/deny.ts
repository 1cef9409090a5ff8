/**
 * A deny as the client sees it (README, Responses): status, the RFC 6750 §3
 * Bearer challenge, the JSON body and its headers. The only writer of denials,
 * so the challenge syntax and the body shape cannot drift apart.
 */
import type { ServerResponse } from 'node:http';
import type { ChallengeError, Deny } from '../policy/decision.js';
import { closeIfBodyPending, NO_STORE_JSON_HEADERS } from './error.js';

/** Retry-After when a 503 deny does not say (decide() always does: the configured jwks.cooldown_s). */
const DEFAULT_RETRY_AFTER_S = 10;

/**
 * error_description may echo token-derived text (an issuer, an audience);
 * capped so a hostile token cannot inflate our response headers.
 */
const MAX_DESCRIPTION_CHARS = 256;

/**
 * RFC 6750 §3: error_description and scope values are restricted to
 * NQSCHAR = %x20-21 / %x23-5B / %x5D-7E (printable ASCII without `"` and `\`),
 * so they never need escaping inside the quoted-string. Disallowed chars are
 * replaced: `"` by `'`, everything else by a space.
 */
export function sanitizeNqs(value: string, maxChars = MAX_DESCRIPTION_CHARS): string {
  let clean = true;
  const n = Math.min(value.length, maxChars);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      clean = false;
      break;
    }
  }
  if (clean) return value.length > maxChars ? value.slice(0, maxChars) : value;
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) out += "'";
    else if (c < 0x20 || c > 0x7e || c === 0x5c) out += ' ';
    else out += value[i];
  }
  return out;
}

/**
 * RFC 9110 §5.6.4 quoted-string for the realm: `"` and `\` become
 * quoted-pairs; characters a header value cannot carry (CTLs other than HTAB,
 * above U+00FF) are dropped so writeHead can never throw on a config value.
 */
export function quoteString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += '\\' + value[i];
    else if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) continue;
    else out += value[i];
  }
  return out + '"';
}

/** The realm is config, the same on every deny: quote it once per distinct value. */
let lastRealm = '';
let lastRealmQuoted = '""';
function quotedRealm(realm: string): string {
  if (realm !== lastRealm) {
    lastRealm = realm;
    lastRealmQuoted = quoteString(realm);
  }
  return lastRealmQuoted;
}

/** Which Bearer challenge a deny carries, or undefined for none (404, 405, 503, non-auth 400). */
function challengeOf(deny: Deny): ChallengeError | undefined {
  if (deny.challenge !== undefined) return deny.challenge.error;
  if (deny.status === 401) return deny.reason === 'missing_token' ? '' : 'invalid_token';
  if (deny.status === 403 && deny.reason === 'insufficient_scope') return 'insufficient_scope';
  return undefined;
}

/**
 * The exact RFC 6750 §3 `WWW-Authenticate` value for a deny, or undefined.
 * `resourceMetadata` (RFC 9728 §5.1) is the absolute URL of the protected-resource
 * metadata, added to every Bearer challenge when discovery is configured.
 */
export function buildChallenge(deny: Deny, realm: string, resourceMetadata?: string): string | undefined {
  // A DPoP challenge (sender-constrained tokens) is built once per config, complete.
  if (deny.wwwAuthenticate !== undefined) return deny.wwwAuthenticate;
  const error = challengeOf(deny);
  if (error === undefined) return undefined;
  let value = `Bearer realm=${quotedRealm(realm)}`;
  // RFC 6750 §3.1: a request without credentials gets no error code at all.
  if (error !== '') {
    value += `, error="${error}", error_description="${sanitizeNqs(deny.description)}"`;
    if (error === 'insufficient_scope' && deny.requiredScopes !== undefined && deny.requiredScopes.length > 0) {
      value += `, scope="${scopeString(deny.requiredScopes)}"`;
    }
  }
  if (resourceMetadata !== undefined) value += `, resource_metadata="${sanitizeNqs(resourceMetadata, Number.MAX_SAFE_INTEGER)}"`;
  return value;
}

function scopeString(scopes: readonly string[]): string {
  // Scope tokens are config values validated at load; sanitizing again costs
  // nothing on a 403 and keeps the header well-formed whatever the config says.
  return sanitizeNqs(scopes.join(' '), Number.MAX_SAFE_INTEGER);
}

/** Write a deny: status, challenge, JSON body, no-store. */
export function sendDeny(res: ServerResponse, deny: Deny, realm: string, resourceMetadata?: string): void {
  if (res.headersSent || res.destroyed) return;
  const body: { error: string; error_description: string; scope?: string } = {
    error: deny.error,
    error_description: deny.description,
  };
  const headers: Record<string, string | number> = { ...NO_STORE_JSON_HEADERS };
  const challenge = buildChallenge(deny, realm, resourceMetadata);
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  if (deny.status === 403 && deny.requiredScopes !== undefined && deny.requiredScopes.length > 0) {
    body.scope = deny.requiredScopes.join(' ');
  }
  if (deny.status === 405 && deny.allowMethods !== undefined) headers['allow'] = deny.allowMethods.join(', ');
  if (deny.status === 503) headers['retry-after'] = String(deny.retryAfterS ?? DEFAULT_RETRY_AFTER_S);
  const json = JSON.stringify(body);
  headers['content-length'] = Buffer.byteLength(json);
  closeIfBodyPending(res, headers);
  res.writeHead(deny.status, headers);
  res.end(json);
}

