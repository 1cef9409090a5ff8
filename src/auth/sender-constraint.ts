/**
 * Sender-constrained tokens: which binding a verified access token must prove on this
 * request, or why it cannot (RFC 9449 §7 for DPoP, RFC 8705 §3 for certificate-bound
 * tokens, RFC 7800 for `cnf`). Pure: the DPoP proof check (dpop.ts) and the
 * certificate check (mtls.ts) are run by the caller on what this decides.
 *
 * Refusals here are `401 invalid_token` with cause `sender_constraint`; a failed
 * DPoP proof is `401 invalid_dpop_proof`. The two challenges are built once per config
 * (senderChallenges).
 */

export type AuthScheme = 'Bearer' | 'DPoP';

/** A token's `cnf` claim as far as scopegate can check it. */
export interface Confirmation {
  /** RFC 9449 §6.1: base64url SHA-256 JWK thumbprint of the DPoP key. */
  readonly jkt: string | undefined;
  /** RFC 8705 §3.1: base64url SHA-256 of the client certificate's DER. */
  readonly x5tS256: string | undefined;
  /**
   * `cnf` is there but cannot be checked: not an object, a malformed `jkt` or
   * `x5t#S256`, or a member naming another method (`jwk`, `jwe`, `kid`, `jku`;
   * RFC 7800 §3). Such a token claims a binding nobody verifies, so it is refused.
   */
  readonly unsupported: boolean;
}

/** SHA-256 in unpadded base64url is 43 characters. */
const SHA256_B64URL = /^[A-Za-z0-9_-]{43}$/;
const UNSUPPORTED: Confirmation = Object.freeze({ jkt: undefined, x5tS256: undefined, unsupported: true });

/** The `cnf` claim of a verified payload → a Confirmation, or undefined when the token has none. */
export function readConfirmation(cnf: unknown): Confirmation | undefined {
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return UNSUPPORTED;
  let jkt: string | undefined;
  let x5tS256: string | undefined;
  for (const [name, value] of Object.entries(cnf as Record<string, unknown>)) {
    if (typeof value !== 'string' || !SHA256_B64URL.test(value)) return UNSUPPORTED;
    if (name === 'jkt') jkt = value;
    else if (name === 'x5t#S256') x5tS256 = value;
    else return UNSUPPORTED;
  }
  if (jkt === undefined && x5tS256 === undefined) return UNSUPPORTED;
  return Object.freeze({ jkt, x5tS256, unsupported: false });
}

export type SenderConstraintCode =
  | 'ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN' // cnf.jkt presented with `Bearer` (RFC 9449 §7.2)
  | 'ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED' // cnf.jkt while auth.dpop is not configured
  | 'ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN' // `DPoP` scheme, token without cnf.jkt (RFC 9449 §7.1)
  | 'ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED' // cnf.x5t#S256 while auth.mtls is not configured
  | 'ERR_AUTH_SENDER_CNF_UNSUPPORTED' // a cnf scopegate cannot check (Confirmation.unsupported)
  | 'ERR_AUTH_SENDER_REQUIRED' // no cnf where require_sender_constrained applies
  | 'ERR_AUTH_SENDER_CERT_MISSING' // mtls.ts: no client certificate in the header
  | 'ERR_AUTH_SENDER_CERT_MALFORMED' // mtls.ts: a header that cannot be read
  | 'ERR_AUTH_SENDER_CERT_MISMATCH'; // mtls.ts: another certificate

export interface SenderRefusal {
  readonly kind: 'refuse';
  readonly code: SenderConstraintCode;
  /** Safe to send as error_description. */
  readonly description: string;
}

export type BindingDecision =
  /** A plain bearer token where none is required: nothing to check. */
  | { readonly kind: 'unbound' }
  /** Run these checks; each one that applies must pass. */
  | { readonly kind: 'check'; readonly dpop: boolean; readonly mtls: boolean }
  | SenderRefusal;

/** What the config enables, fixed per generation. */
export interface SenderSetup {
  /** auth.dpop is configured. */
  readonly dpop: boolean;
  /** auth.mtls is configured. */
  readonly mtls: boolean;
}

export const SENDER_DESCRIPTIONS: Readonly<Record<SenderConstraintCode, string>> = {
  ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN: 'The access token is DPoP-bound and must be presented with the DPoP scheme',
  ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED: 'DPoP-bound access tokens are not accepted here',
  ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN: 'The access token is not DPoP-bound',
  ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED: 'Certificate-bound access tokens are not accepted here',
  ERR_AUTH_SENDER_CNF_UNSUPPORTED: 'The access token is bound by a confirmation method that cannot be checked',
  ERR_AUTH_SENDER_REQUIRED: 'A sender-constrained access token is required',
  ERR_AUTH_SENDER_CERT_MISSING: 'The access token is certificate-bound and no client certificate was presented',
  ERR_AUTH_SENDER_CERT_MALFORMED: 'The client certificate header cannot be read',
  ERR_AUTH_SENDER_CERT_MISMATCH: 'The access token is bound to another client certificate',
};

function refusal(code: SenderConstraintCode): SenderRefusal {
  return Object.freeze({ kind: 'refuse', code, description: SENDER_DESCRIPTIONS[code] });
}
const REFUSE = Object.fromEntries(
  (Object.keys(SENDER_DESCRIPTIONS) as SenderConstraintCode[]).map((c) => [c, refusal(c)]),
) as Readonly<Record<SenderConstraintCode, SenderRefusal>>;
const UNBOUND: BindingDecision = Object.freeze({ kind: 'unbound' });
const CHECKS: readonly BindingDecision[] = [false, true].flatMap((dpop) =>
  [false, true].map((mtls) => Object.freeze({ kind: 'check' as const, dpop, mtls })),
);

/**
 * The binding policy, after the access token is verified.
 * `required` is `require_sender_constrained` OR the route's `sender_constrained`,
 * computed once per route.
 */
export function bindingFor(
  scheme: AuthScheme,
  cnf: Confirmation | undefined,
  setup: SenderSetup,
  required: boolean,
): BindingDecision {
  if (cnf === undefined) {
    if (scheme === 'DPoP') return REFUSE.ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN;
    return required ? REFUSE.ERR_AUTH_SENDER_REQUIRED : UNBOUND;
  }
  if (cnf.unsupported) return REFUSE.ERR_AUTH_SENDER_CNF_UNSUPPORTED;
  const dpop = cnf.jkt !== undefined;
  if (dpop) {
    if (!setup.dpop) return REFUSE.ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED;
    if (scheme !== 'DPoP') return REFUSE.ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN;
  } else if (scheme === 'DPoP') {
    // An mTLS-only token sent as DPoP is still not DPoP-bound.
    return REFUSE.ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN;
  }
  const mtls = cnf.x5tS256 !== undefined;
  if (mtls && !setup.mtls) return REFUSE.ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED;
  return CHECKS[(dpop ? 2 : 0) + (mtls ? 1 : 0)]!;
}

export interface SenderChallenges {
  /** `WWW-Authenticate` for a failed DPoP proof; undefined when DPoP is not configured (no proof is ever checked). */
  readonly proof: string | undefined;
  /**
   * `WWW-Authenticate` for a binding refusal (SenderRefusal, or a certificate
   * mismatch); undefined means the usual `Bearer error="invalid_token"` challenge.
   */
  readonly binding: string | undefined;
}

/**
 * The two challenges, built once per config. `algs` lists the allowed proof
 * algorithms (RFC 9449 §7.1) so a client knows what to sign with.
 */
export function senderChallenges(dpopAlgorithms: readonly string[] | undefined): SenderChallenges {
  if (dpopAlgorithms === undefined) return Object.freeze({ proof: undefined, binding: undefined });
  const algs = `algs="${dpopAlgorithms.join(' ')}"`;
  return Object.freeze({ proof: `DPoP error="invalid_dpop_proof", ${algs}`, binding: `DPoP ${algs}` });
}

/**
 * Every value of the header `lowerName` (lower case) in Node's flat rawHeaders, in
 * order: the DPoP check needs to see a second proof, and `req.headers` would have
 * joined or dropped it.
 */
export function headerValues(rawHeaders: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) out.push(rawHeaders[i + 1]!);
  }
  return out;
}
