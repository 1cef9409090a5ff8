/**
 * Object-level conditions (README, "Object-level conditions"; OWASP API1:2023): a
 * route's `where:` entries compiled once at load into a predicate over the verified
 * token and the matched route parameters. The decoded parameter must equal the claim
 * when it is a string, or be one of its elements when it is an array of strings; an
 * absent claim, or one of any other type, does not hold. Every entry must hold.
 *
 * The claims are those the verifier kept on the token (VerifiedToken.claims, named by
 * conditionClaims below): a token without them, an introspected one included, holds
 * no condition (fail closed).
 */
import { claimLabel, readClaim, topLevelClaim } from '../auth/claim-ref.js';
import type { VerifiedToken } from '../auth/types.js';
import type { RouteCondition, RouteConfig } from '../config/schema.js';

/** One condition's outcome, as `explain` shows it. */
export interface ConditionOutcome {
  readonly param: string;
  /** The claim as written (`org_id`, `realm_access.roles`). */
  readonly claim: string;
  /** The decoded parameter, or undefined when the route matched without it (or it does not decode). */
  readonly value: string | undefined;
  readonly holds: boolean;
  /** Why it does (not) hold, in a few words. */
  readonly why: string;
}

export interface RouteConditions {
  readonly conditions: readonly RouteCondition[];
  /** True when every condition holds for this token and these route parameters. */
  holds(token: VerifiedToken, names: readonly string[], values: readonly string[]): boolean;
  /** Every condition's outcome, for `explain` (the same evaluation as holds). */
  trace(token: VerifiedToken | undefined, names: readonly string[], values: readonly string[]): readonly ConditionOutcome[];
}

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The decoded route parameter; undefined when absent or not decodable (the canonicalizer already refuses bad UTF-8). */
function paramValue(param: string, names: readonly string[], values: readonly string[]): string | undefined {
  const i = names.indexOf(param);
  const raw = i === -1 ? undefined : values[i];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function evaluate(c: RouteCondition, token: VerifiedToken | undefined, names: readonly string[], values: readonly string[]): ConditionOutcome {
  const claim = claimLabel(c.claim);
  const value = paramValue(c.param, names, values);
  const outcome = (holds: boolean, why: string): ConditionOutcome => ({ param: c.param, claim, value, holds, why });
  if (value === undefined) return outcome(false, 'the parameter is missing');
  if (token === undefined) return outcome(false, 'no verified token');
  const claimed = readClaim(token.claims ?? NO_CLAIMS, c.claim);
  if (typeof claimed === 'string') return claimed === value ? outcome(true, 'equals the claim') : outcome(false, 'differs from the claim');
  if (Array.isArray(claimed) && claimed.every((v) => typeof v === 'string')) {
    return claimed.includes(value) ? outcome(true, 'is an element of the claim') : outcome(false, 'is not an element of the claim');
  }
  return outcome(false, claimed === undefined ? 'the token has no such claim' : 'the claim is neither a string nor an array of strings');
}

function compile(conditions: readonly RouteCondition[]): RouteConditions {
  return Object.freeze({
    conditions,
    holds(token: VerifiedToken, names: readonly string[], values: readonly string[]): boolean {
      for (const c of conditions) if (!evaluate(c, token, names, values).holds) return false;
      return true;
    },
    trace: (token: VerifiedToken | undefined, names: readonly string[], values: readonly string[]) => conditions.map((c) => evaluate(c, token, names, values)),
  });
}

/** A route's conditions, compiled; undefined when it has none (the common case pays nothing). */
export function compileConditions(where: readonly RouteCondition[] | undefined): RouteConditions | undefined {
  return where === undefined || where.length === 0 ? undefined : compile(where);
}

/** A trailing-slash twin (policy/twins.ts) must satisfy both routes' conditions. */
export function bothConditions(a: RouteConditions | undefined, b: RouteConditions | undefined): RouteConditions | undefined {
  if (a === undefined || b === undefined || a === b) return a ?? b;
  return compile([...a.conditions, ...b.conditions]);
}

/** The top-level claims the routes' conditions read: what the verifier keeps on each token. */
export function conditionClaims(routes: readonly RouteConfig[]): readonly string[] {
  const names = new Set<string>();
  for (const route of routes) for (const c of route.where ?? []) names.add(topLevelClaim(c.claim));
  return Object.freeze([...names]);
}
