/**
 * The sender-constraint step of decide(): after the access token verified and before
 * the scope check, so a binding failure is a 401 and never a 403 (README,
 * Sender-constrained tokens). The glue between the parts: sender-constraint.ts decides
 * which binding applies, mtls.ts checks a certificate, dpop.ts checks a proof.
 *
 * The verified-token cache keeps the token's `cnf`; the proof and the certificate are
 * checked here on every request, never cached (a proof is single use and names one
 * method and URI).
 */
import { createDpopVerifier, type DpopVerifier } from '../auth/dpop.js';
import { checkCertificateBinding } from '../auth/mtls.js';
import type { ReplayCache } from '../auth/replay-cache.js';
import { bindingFor, headerValues, SENDER_DESCRIPTIONS, senderChallenges, type AuthScheme, type SenderSetup } from '../auth/sender-constraint.js';
import type { VerifiedToken } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import type { DenyCode } from '../errors.js';
import type { Deny } from './decision.js';
import { deny } from './denials.js';

/**
 * Entries of the DPoP `jti` replay cache. A proof stays max_age_s + clock_skew_s
 * (90 s by default), so 100,000 entries admit ~1,100 fresh proofs a second per
 * process before new proofs are refused (fail closed, never forgetting a live one);
 * each entry is a ~80-character key, ~20 MB at the bound.
 */
export const DPOP_REPLAY_CACHE_ENTRIES = 100_000;

/** What the step reads of the request beyond the token. */
export interface SenderRequest {
  readonly scheme: AuthScheme;
  /** The access token as presented (the proof's `ath` covers it). */
  readonly accessToken: string;
  readonly method: string;
  /** The canonical path: the one matched and forwarded, and the one `htu` must name. */
  readonly path: string;
  readonly rawHeaders: readonly string[];
}

export interface SenderGate {
  /** undefined: the binding holds, or the token needs none. A Promise only when a DPoP proof is checked. */
  check(request: SenderRequest, token: VerifiedToken, route: string, required: boolean): Deny | undefined | Promise<Deny | undefined>;
  /** The DPoP verifier when auth.dpop is configured: its replay cache is the gauge, and the next generation's. */
  readonly dpop: DpopVerifier | undefined;
}

/** `replayCache`: the previous generation's, so a reload does not forget the proofs already seen. */
export function createSenderGate(config: Config, replayCache?: ReplayCache): SenderGate {
  const { dpop: dpopConfig, mtls } = config.auth;
  const setup: SenderSetup = Object.freeze({ dpop: dpopConfig !== undefined, mtls: mtls !== undefined });
  const dpop =
    dpopConfig === undefined
      ? undefined
      : createDpopVerifier({
          origins: dpopConfig.origins,
          algorithms: dpopConfig.algorithms,
          maxAgeS: dpopConfig.maxAgeS,
          clockSkewS: config.auth.clockSkewS,
          replayCacheSize: DPOP_REPLAY_CACHE_ENTRIES,
          ...(replayCache === undefined ? {} : { replayCache }),
        });
  const challenges = senderChallenges(dpopConfig?.algorithms);
  const certHeader = mtls?.certHeader.toLowerCase();

  function refuse(code: DenyCode, route: string, description: string, wwwAuthenticate: string | undefined): Deny {
    return deny(code, route, wwwAuthenticate === undefined ? { description } : { description, wwwAuthenticate });
  }

  function check(request: SenderRequest, token: VerifiedToken, route: string, required: boolean): Deny | undefined | Promise<Deny | undefined> {
    const cnf = token.cnf;
    const binding = bindingFor(request.scheme, cnf, setup, required);
    if (binding.kind === 'unbound') return undefined;
    if (binding.kind === 'refuse') return refuse(binding.code, route, binding.description, challenges.binding);
    if (binding.mtls) {
      // bindingFor refuses a certificate-bound token when auth.mtls is not configured; checked again to fail closed.
      if (certHeader === undefined || mtls === undefined || cnf?.x5tS256 === undefined) return refuse('ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED', route, SENDER_DESCRIPTIONS.ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED, challenges.binding);
      const cert = checkCertificateBinding(headerValues(request.rawHeaders, certHeader), mtls.certHeaderFormat, cnf.x5tS256);
      if (!cert.ok) return refuse(cert.code, route, cert.description, challenges.binding);
    }
    if (!binding.dpop) return undefined;
    if (dpop === undefined || cnf?.jkt === undefined) return refuse('ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED', route, SENDER_DESCRIPTIONS.ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED, challenges.binding);
    const proofs = headerValues(request.rawHeaders, 'dpop');
    return dpop.verify({ proofs, method: request.method, path: request.path, accessToken: request.accessToken, jkt: cnf.jkt }).then((result) =>
      result.ok ? undefined : refuse(result.code, route, result.description, challenges.proof),
    );
  }

  return { check, dpop };
}
