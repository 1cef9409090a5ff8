/**
 * `scopegate explain … --token T --dpop PROOF`: each DPoP proof check (RFC 9449 §4.3)
 * and its outcome. Nothing is checked here: the proof went through the server's own
 * plan() and DPoP verifier (auth/dpop.ts), whose refusal code says which check failed;
 * the checks run in DPOP_CHECKS order, so the ones before it passed and the ones after
 * it were not reached. The proof's header and claims are decoded for display only.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DPOP_CHECKS, type DpopErrorCode } from '../auth/dpop.js';
import type { Decision } from '../policy/decision.js';

/** The checks as an operator reads them, each with the refusal codes it owns, in the order they run. */
export const DPOP_CHECK_STEPS: readonly { readonly check: string; readonly codes: readonly DpopErrorCode[] }[] = [
  { check: 'exactly one DPoP header', codes: ['ERR_AUTH_DPOP_PROOF_MISSING', 'ERR_AUTH_DPOP_PROOF_DUPLICATE'] },
  { check: 'a well-formed JWT', codes: ['ERR_AUTH_DPOP_PROOF_MALFORMED'] },
  { check: 'typ is dpop+jwt', codes: ['ERR_AUTH_DPOP_TYP'] },
  { check: 'alg is one of auth.dpop.algorithms', codes: ['ERR_AUTH_DPOP_ALG'] },
  { check: 'jwk is a public asymmetric key', codes: ['ERR_AUTH_DPOP_JWK'] },
  { check: 'signature by that jwk', codes: ['ERR_AUTH_DPOP_SIGNATURE'] },
  { check: 'jti, htm, htu and iat present', codes: ['ERR_AUTH_DPOP_CLAIM_INVALID'] },
  { check: 'htm is the request method', codes: ['ERR_AUTH_DPOP_HTM'] },
  { check: 'htu has no query or fragment', codes: ['ERR_AUTH_DPOP_HTU_QUERY'] },
  { check: 'htu is an auth.dpop origin + the request path', codes: ['ERR_AUTH_DPOP_HTU'] },
  { check: 'iat within max_age_s + clock_skew_s', codes: ['ERR_AUTH_DPOP_IAT_STALE', 'ERR_AUTH_DPOP_IAT_FUTURE'] },
  { check: 'ath is the access token hash', codes: ['ERR_AUTH_DPOP_ATH_MISSING', 'ERR_AUTH_DPOP_ATH'] },
  { check: 'jwk thumbprint is the token cnf.jkt', codes: ['ERR_AUTH_DPOP_JKT'] },
  { check: 'jti not seen before (replay cache)', codes: ['ERR_AUTH_DPOP_REPLAY', 'ERR_AUTH_DPOP_REPLAY_CACHE_FULL'] },
];

export type DpopCheckOutcome = 'passed' | 'failed' | 'not_reached';

export interface DpopCheckLine {
  readonly check: string;
  readonly outcome: DpopCheckOutcome;
  /** For the failed check: the refusal code and its description. */
  readonly detail?: string;
}

export interface DpopStep {
  /** The proof's header and claims as sent (decoded, not verified); undefined when it does not decode. */
  readonly proof: { readonly header: Record<string, unknown>; readonly claims: Record<string, unknown> } | undefined;
  /** Every check with its outcome; empty when the proof was not checked. */
  readonly checks: readonly DpopCheckLine[];
  /** Why the proof was not checked, when it was not. */
  readonly notChecked: string | undefined;
}

const DPOP_CODES: ReadonlySet<string> = new Set(DPOP_CHECKS);

function decoded(proof: string): DpopStep['proof'] {
  try {
    return { header: { ...decodeProtectedHeader(proof) }, claims: { ...decodeJwt(proof) } };
  } catch {
    return undefined;
  }
}

function lines(failed: { readonly code: string; readonly description: string } | undefined): DpopCheckLine[] {
  const at = failed === undefined ? DPOP_CHECK_STEPS.length : DPOP_CHECK_STEPS.findIndex((s) => (s.codes as readonly string[]).includes(failed.code));
  return DPOP_CHECK_STEPS.map((s, i) => {
    if (i < at) return { check: s.check, outcome: 'passed' };
    if (i > at || failed === undefined) return { check: s.check, outcome: 'not_reached' };
    return { check: s.check, outcome: 'failed', detail: `${failed.code}: ${failed.description}` };
  });
}

/**
 * The proof step, read off plan()'s decision. `tokenRead`: the dispatch got as far as
 * the token (a public route, a refused path or no route never reach the proof).
 */
export function dpopStep(proof: string, decision: Decision | undefined, tokenRead: boolean, dpopConfigured: boolean): DpopStep {
  const shown = decoded(proof);
  const notChecked = (why: string): DpopStep => ({ proof: shown, checks: [], notChecked: why });
  if (!dpopConfigured) return notChecked('auth.dpop is not configured: DPoP-bound tokens are refused before any proof is read');
  if (decision === undefined || !tokenRead) return notChecked('the request is decided before its token is read');
  // In shadow mode a failed proof is the deny the request would have got.
  const deny = decision.allow ? decision.wouldDeny : decision;
  if (deny === undefined || deny.reason === 'insufficient_scope') return { proof: shown, checks: lines(undefined), notChecked: undefined };
  if (DPOP_CODES.has(deny.code)) return { proof: shown, checks: lines({ code: deny.code, description: deny.description }), notChecked: undefined };
  return notChecked(`the request was refused before the proof (${deny.code})`);
}

/** The step as printed under the token: the decoded proof, then one line per check. */
export function formatDpopStep(step: DpopStep, indent: string, paint: { readonly green: (s: string) => string; readonly red: (s: string) => string }): string[] {
  const out: string[] = [];
  if (step.proof === undefined) out.push(`${indent}proof            does not decode as a JWT`);
  else {
    const { header, claims } = step.proof;
    const jwk = header.jwk as Record<string, unknown> | undefined;
    out.push(`${indent}proof header     typ=${String(header.typ)} alg=${String(header.alg)} jwk=${jwk === undefined ? '(none)' : `${String(jwk.kty)}${jwk.crv === undefined ? '' : ` ${String(jwk.crv)}`}`}`);
    out.push(`${indent}proof claims     htm=${String(claims.htm)} htu=${String(claims.htu)} iat=${String(claims.iat)} jti=${String(claims.jti)}${claims.ath === undefined ? ' (no ath)' : ''}`);
  }
  if (step.notChecked !== undefined) {
    out.push(`${indent}not checked: ${step.notChecked}`);
    return out;
  }
  const width = Math.max(...step.checks.map((c) => c.check.length));
  for (const c of step.checks) {
    const mark = c.outcome === 'passed' ? paint.green('✓ passed') : c.outcome === 'failed' ? paint.red(`✗ failed  ${c.detail ?? ''}`) : '- not reached';
    out.push(`${indent}${c.check.padEnd(width)}  ${mark}`);
  }
  return out;
}
