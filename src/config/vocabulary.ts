/**
 * The fixed word lists of the config format. A leaf module (it imports
 * nothing) so the readers, the section tables and schema.ts can all use it
 * without an import cycle; schema.ts re-exports it for the rest of the code.
 */

/** JWS algorithms scopegate accepts with JWKS (asymmetric only: never `none`, never HS*). */
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** HTTP methods a route key may name. `*` in a key means all of these. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Methods that change data (not safe, RFC 9110 §9.2.1): a route serving one should require a scope. */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What `check` and the importer say of write methods on a route that needs no scope: one wording in both. */
export function unscopedWriteWarning(writes: readonly string[], auth: 'token' | 'none'): string {
  const who = auth === 'none' ? 'with { auth: none } anyone, without a token,' : 'with { auth: token } any valid token';
  return `${writes.join(',')} need${writes.length === 1 ? 's' : ''} no scope: ${who} can change data; require a write scope unless that is intended`;
}
