/**
 * What an access line says about a denied request and who sent it, beyond the
 * fixed fields (README, Operations): the raw path, the token's identity (as
 * `logging.fields` allows), the cause of a 401, the scopes a 403 lacked, and
 * for an issuer or audience mismatch the presented and expected values. Built
 * as a JSON fragment appended to the access line; never from a token or a
 * header, only from verified claims and the verifier's refusal.
 */
import type { VerifiedToken } from '../auth/types.js';
import type { LogIdentityField } from '../config/schema.js';
import type { ClaimMismatch } from '../errors.js';
import type { Deny } from '../policy/decision.js';
import { jsonString } from './json-string.js';
import { tokenCause } from './token-cause.js';

/** Logged paths and claim values are cut to this many characters: a line stays a line, a client cannot fill the log. */
export const MAX_LOGGED_CHARS = 256;
/** A presented `aud` list is logged up to this many entries. */
const MAX_LOGGED_AUDIENCES = 8;

const q = JSON.stringify;

function cut(value: string): string {
  return value.length > MAX_LOGGED_CHARS ? `${value.slice(0, MAX_LOGGED_CHARS)}…` : value;
}

/** The raw request target without its query (a query can carry an access_token), cut to MAX_LOGGED_CHARS. */
export function loggedPath(target: string): string {
  const at = target.indexOf('?');
  return cut(at === -1 ? target : target.slice(0, at));
}

const withoutTrailingSlash = (s: string): string => (s.endsWith('/') ? s.slice(0, -1) : s);

/** `iss` (or one `aud`) equals an expected value but for a trailing slash: the most common misconfiguration. */
export function trailingSlashOnly(presented: unknown, expected: readonly string[]): boolean {
  const values = typeof presented === 'string' ? [presented] : Array.isArray(presented) ? presented.filter((v): v is string => typeof v === 'string') : [];
  return values.some((p) => expected.some((e) => p !== e && withoutTrailingSlash(p) === withoutTrailingSlash(e)));
}

function presentedValue(presented: unknown): unknown {
  if (typeof presented === 'string') return cut(presented);
  if (Array.isArray(presented)) return presented.slice(0, MAX_LOGGED_AUDIENCES).map((v) => (typeof v === 'string' ? cut(v) : typeof v));
  return presented === undefined ? null : typeof presented;
}

/** `"mismatch":{…}` for the access line. */
export function mismatchFragment(m: ClaimMismatch): string {
  const note = trailingSlashOnly(m.presented, m.expected) ? ',"note":"differs only by a trailing slash"' : '';
  return `,"mismatch":{"claim":"${m.claim}","presented":${q(presentedValue(m.presented))},"expected":${q(m.expected.map(cut))}${note}}`;
}

/** The identity fields `fields` allows, from a verified token. */
export function identityFragment(token: VerifiedToken, fields: ReadonlySet<LogIdentityField>): string {
  let out = '';
  if (fields.has('client_id') && token.clientId !== undefined) out += `,"client_id":${jsonString(cut(token.clientId))}`;
  if (fields.has('sub') && token.subject !== undefined) out += `,"sub":${jsonString(cut(token.subject))}`;
  if (fields.has('jti') && token.jwtId !== undefined) out += `,"jti":${jsonString(cut(token.jwtId))}`;
  return out;
}

/** Required scopes the token does not carry verbatim (hierarchical matching may accept a parent scope instead). */
export function missingScopes(deny: Deny, token: VerifiedToken): readonly string[] {
  return (deny.requiredScopes ?? []).filter((s) => !token.scopeSet.has(s));
}

/** cause, missing_scopes and mismatch of a deny (or a shadow-mode would-be deny). */
export function denyFragment(deny: Deny, token: VerifiedToken | undefined): string {
  let out = '';
  const cause = tokenCause(deny.code);
  if (cause !== undefined) out += `,"cause":"${cause}"`;
  if (deny.mismatch !== undefined) out += mismatchFragment(deny.mismatch);
  if (deny.code === 'ERR_AUTH_INSUFFICIENT_SCOPE' && token !== undefined) out += `,"missing_scopes":${q(missingScopes(deny, token))}`;
  return out;
}
