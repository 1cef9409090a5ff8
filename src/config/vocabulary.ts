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
