/**
 * Reading one claim named in config (README, "Identity providers"): a top-level
 * name taken literally, so `https://example.com/roles` is one claim, dots and all;
 * or `{ path: [...] }`, keys into nested objects (Keycloak's
 * `realm_access.roles`). Shared by scope claims and route conditions.
 */
import type { ClaimRef } from '../config/schema.js';

function isPlainObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The claim's value, or undefined when it is absent or a path runs into a missing
 * key or a non-object. Own properties only: a claim named `__proto__` or
 * `constructor` reads the payload's own data, never Object.prototype.
 */
export function readClaim(payload: Readonly<Record<string, unknown>>, ref: ClaimRef): unknown {
  if (typeof ref === 'string') return Object.hasOwn(payload, ref) ? payload[ref] : undefined;
  let at: unknown = payload;
  for (const key of ref.path) {
    if (!isPlainObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** The top-level claim a reference starts at: what a verified token must keep for it. */
export function topLevelClaim(ref: ClaimRef): string {
  return typeof ref === 'string' ? ref : (ref.path[0] as string);
}

/** How messages and `explain` name a claim reference. */
export function claimLabel(ref: ClaimRef): string {
  return typeof ref === 'string' ? ref : ref.path.join('.');
}
