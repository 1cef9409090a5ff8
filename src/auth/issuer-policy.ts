/**
 * Which configured issuer a token comes from, and the per-issuer rules beyond the
 * signature and the registered claims (README, "Identity providers"):
 * - an issuer template with `{tid}` matches when `iss` equals it with `{tid}` replaced by
 *   the token's own `tid`, that `tid` is 1–64 characters of [A-Za-z0-9-], and `tenants`
 *   lists it (or is `[any]`);
 * - `client_ids`: `client_id`, else `azp`, must be one of them;
 * - `require_claims`: exact string equality on top-level claims;
 * - `typ`: the header's `typ` must be on the issuer's allow-list (typ.ts).
 * Every refusal is a TokenError (401 invalid_token), never an exception.
 */
import { ANY_TENANT, TENANT_ID, TENANT_PLACEHOLDER } from '../config/claims.js';
import type { IssuerConfig } from '../config/schema.js';
import type { TokenError } from '../errors.js';
import { tokenError } from './token-error.js';
import { createTypCheck, headerTyp } from './typ.js';

interface Template {
  readonly config: IssuerConfig;
  readonly prefix: string;
  readonly suffix: string;
  /** Undefined: `[any]`. */
  readonly tenants: ReadonlySet<string> | undefined;
}

export interface IssuerIndex {
  /** The configured issuer a token's (unverified) payload names, or undefined: no issuer of ours. */
  find(payload: Readonly<Record<string, unknown>>): IssuerConfig | undefined;
}

export function createIssuerIndex(issuers: readonly IssuerConfig[]): IssuerIndex {
  const exact = new Map<string, IssuerConfig>();
  const templates: Template[] = [];
  for (const config of issuers) {
    const at = config.issuer.indexOf(TENANT_PLACEHOLDER);
    if (at === -1) {
      exact.set(config.issuer, config);
      continue;
    }
    const tenants = config.tenants ?? [];
    templates.push({
      config,
      prefix: config.issuer.slice(0, at),
      suffix: config.issuer.slice(at + TENANT_PLACEHOLDER.length),
      tenants: tenants.includes(ANY_TENANT) ? undefined : new Set(tenants),
    });
  }
  return {
    find(payload) {
      const iss = payload.iss;
      if (typeof iss !== 'string') return undefined;
      const literal = exact.get(iss);
      if (literal !== undefined || templates.length === 0) return literal;
      const tid = payload.tid;
      // The tid is spliced into an issuer string: only a plain identifier may be.
      if (typeof tid !== 'string' || !TENANT_ID.test(tid)) return undefined;
      for (const t of templates) {
        if (iss.length === t.prefix.length + tid.length + t.suffix.length && iss === t.prefix + tid + t.suffix && (t.tenants === undefined || t.tenants.has(tid))) {
          return t.config;
        }
      }
      return undefined;
    },
  };
}

type PolicyCheck = (token: string, payload: Readonly<Record<string, unknown>>) => TokenError | undefined;

/** Each issuer's checks, compiled once per (frozen) issuer config. */
const compiled = new WeakMap<IssuerConfig, PolicyCheck>();

/**
 * The issuer's own rules on a signature-verified token whose registered claims passed:
 * client_ids, require_claims, typ. Undefined when the token satisfies them all.
 */
export function checkIssuerPolicy(config: IssuerConfig, token: string, payload: Readonly<Record<string, unknown>>): TokenError | undefined {
  let check = compiled.get(config);
  if (check === undefined) {
    check = compileIssuerPolicy(config);
    compiled.set(config, check);
  }
  return check(token, payload);
}

function compileIssuerPolicy(config: IssuerConfig): PolicyCheck {
  const clientIds = config.clientIds.length === 0 ? undefined : new Set(config.clientIds);
  const required = Object.entries(config.requireClaims);
  const typOk = config.typ === undefined ? undefined : createTypCheck(config.typ);
  return (token, payload) => {
    if (clientIds !== undefined) {
      const client = Object.hasOwn(payload, 'client_id') ? payload.client_id : payload.azp;
      if (typeof client !== 'string' || !clientIds.has(client)) return tokenError('ERR_AUTH_TOKEN_AUDIENCE', 'The token was issued to a client this API does not accept');
    }
    for (const [claim, value] of required) {
      if (!Object.hasOwn(payload, claim) || payload[claim] !== value) return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', `The ${claim} claim must be ${JSON.stringify(value)}`);
    }
    if (typOk !== undefined && !typOk(headerTyp(token))) return tokenError('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token typ is not one this issuer is configured to accept');
    return undefined;
  };
}
