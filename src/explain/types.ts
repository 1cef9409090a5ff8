/**
 * The value `scopegate explain` computes: one request's decision, step by step,
 * in the order plan() takes them (docs/architecture.md, Request path). formatExplanation() turns it
 * into the text the CLI prints; tests assert on the value directly.
 */
import type { ConditionOutcome } from '../policy/conditions.js';
import type { Decision, Deny } from '../policy/decision.js';
import type { DpopStep } from './dpop.js';

export interface ExplainInput {
  readonly method: string;
  /** The raw request target, exactly as a client would send it (path and query). */
  readonly target: string;
  /** A compact JWS, verified for real against the issuer's JWKS. */
  readonly token?: string;
  /** A hypothetical valid token carrying these scopes (nothing about it is verified). */
  readonly scopes?: readonly string[];
  /** With requestMethod: the request is a CORS preflight from this Origin. */
  readonly origin?: string;
  /** Access-Control-Request-Method of a preflight. */
  readonly requestMethod?: string;
  /** A DPoP proof: the token goes as `Authorization: DPoP` with this proof in a `DPoP` header. */
  readonly dpop?: string;
}

/** Step 1. */
export type CanonicalStep =
  | { readonly ok: true; readonly raw: string; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly raw: string; readonly code: string; readonly message: string };

/** How a route serves the request method: listed (or `*`), HEAD through its GET, or not at all. */
export type MethodFit = 'exact' | 'head_fallback' | 'no';

/** A route whose template matches the canonical path (whatever its methods). */
export interface RouteCandidate {
  readonly key: string;
  readonly template: string;
  readonly methods: readonly string[];
  readonly fit: MethodFit;
  readonly winner: boolean;
  /** Why it is (not) the winner, e.g. `at segment 2 ("acme"): :org beats *`. */
  readonly why: string;
}

/** A route that does not match the path but that an operator may expect to: a branch the matcher tried and left. */
export interface RouteMiss {
  readonly key: string;
  readonly template: string;
  readonly why: string;
}

export type RouteResult =
  | {
      readonly kind: 'found';
      readonly key: string;
      readonly template: string;
      readonly methods: readonly string[];
      readonly params: readonly (readonly [name: string, value: string])[];
      readonly headFallback: boolean;
    }
  | { readonly kind: 'no_route' }
  | { readonly kind: 'method_not_allowed'; readonly template: string; readonly allow: readonly string[] };

/** Step 2. */
export interface RouteStep {
  readonly method: string;
  readonly path: string;
  /** Every route matching the path, most specific first (the winner among them). */
  readonly candidates: readonly RouteCandidate[];
  /**
   * found: more specific branches tried before the winner that dead-ended (backtracking);
   * no_route: the routes that came closest.
   */
  readonly misses: readonly RouteMiss[];
  /** Misses not listed (to keep the output short). */
  readonly moreMisses: number;
  readonly result: RouteResult;
  /** What the compiled matcher (the one the server uses) returned, and whether it agrees with this trace. */
  readonly matcher: { readonly agrees: boolean; readonly summary: string };
}

export interface RequiredScopeTrace {
  readonly scope: string;
  /** Named by the route's own requirement. */
  readonly route: boolean;
  /** Required on every token route by the scope catalogue (`required: true`). */
  readonly catalogue: boolean;
  /** Granted scopes that would satisfy it under the matching mode (satisfyingScopes). */
  readonly satisfiedBy: readonly string[];
  /** Deprecated catalogue scopes accepted in its place (replaced_by names it). */
  readonly aliases: readonly string[];
  /** Of those (and the aliases), the ones the token carries (undefined when there is no token to look at). */
  readonly granted: readonly string[] | undefined;
}

/** Step 3: only when a route was found. */
export interface RequirementStep {
  readonly route: string;
  readonly text: string;
  readonly kind: string;
  readonly needsToken: boolean;
  readonly matching: string;
  /** Report-only route: a policy deny is forwarded anyway. */
  readonly shadow: boolean;
  /** scopegate answers this route itself (e.g. token_info). */
  readonly respond: string | undefined;
  readonly scopes: readonly RequiredScopeTrace[];
  /** The compiled requirement's verdict on the token's scopes, when there are some to judge. */
  readonly satisfied: boolean | undefined;
  /** The route's `where:` conditions, each with its outcome on this request (policy/conditions.ts); empty when none. */
  readonly conditions: readonly ConditionOutcome[];
}

export interface TokenDetails {
  readonly issuer: string;
  readonly subject: string | undefined;
  readonly clientId: string | undefined;
  readonly expiresAt: number;
  readonly issuedAt: number | undefined;
  readonly scopes: readonly string[];
}

/**
 * An issuer or audience refusal as explain shows it: what the token presented and what the
 * config expected (the operator runs explain on their own token, so nothing is withheld).
 */
export interface MismatchView {
  readonly claim: 'iss' | 'aud';
  /** The presented value as JSON (a string, a list of strings), or `(absent)`. */
  readonly presented: string;
  /** Each expected value as JSON. */
  readonly expected: readonly string[];
  /** The values differ only by a trailing slash (the access log says the same). */
  readonly trailingSlashOnly: boolean;
}

/** Step 4. */
export type TokenStep = (
  | { readonly kind: 'none' }
  /** A token was given but nothing on this request reads it (the RFC 9728 metadata document). */
  | { readonly kind: 'not_checked' }
  | { readonly kind: 'hypothetical'; readonly scopes: readonly string[] }
  | { readonly kind: 'valid'; readonly token: TokenDetails }
  | { readonly kind: 'invalid'; readonly code: string; readonly message: string; readonly mismatch?: MismatchView }
) & {
  /** Whether the dispatch got as far as reading the token, and if not why. */
  readonly read: boolean;
  readonly note: string | undefined;
  /** JWKS fetches made while verifying (issuer: result detail). */
  readonly jwks: readonly string[];
};

/** The response scopegate itself writes for a deny, as answer() writes it. */
export interface ResponseView {
  readonly status: number;
  readonly statusLine: string;
  /** In the order written, names as on the wire. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly body: string;
  /** False for HEAD: Node sends the headers only. */
  readonly bodySent: boolean;
}

export type Outcome =
  | {
      readonly allow: true;
      readonly method: string;
      readonly path: string;
      readonly query: string;
      readonly route: string;
      /** Identity headers scopegate sets on the forwarded request (config.identity_headers). */
      readonly identityHeaders: readonly (readonly [name: string, value: string])[];
      /** Shadow mode: what enforce mode would have answered instead. */
      readonly wouldDeny: { readonly deny: Deny; readonly response: ResponseView } | undefined;
      /** Deprecated scopes the token was accepted with (scopegate_deprecated_scope_use_total counts them). */
      readonly deprecatedScopes: readonly string[];
      /** Not forwarded: scopegate answers itself (token info, RFC 9728 metadata), with this response. */
      readonly answered: { readonly by: string; readonly response: ResponseView } | undefined;
    }
  | {
      readonly allow: false;
      readonly deny: Deny;
      /** Which step refused the request, in words. */
      readonly step: string;
      readonly response: ResponseView;
    };

export interface Explanation {
  readonly method: string;
  readonly target: string;
  readonly config: { readonly file: string; readonly hash: string; readonly mode: string; readonly upstream: string };
  readonly canonical: CanonicalStep;
  /** Set when the server answers the request before deciding anything (the RFC 9728 metadata document). */
  readonly preempted: string | undefined;
  /** Undefined when the path was refused (step 1) or the request was preempted. */
  readonly route: RouteStep | undefined;
  /** Undefined unless a route was found. */
  readonly requirement: RequirementStep | undefined;
  readonly token: TokenStep;
  readonly outcome: Outcome;
  /**
   * What plan() returned: the outcome is built from it, not re-derived.
   * Undefined only for the RFC 9728 metadata document, which the server answers before deciding.
   */
  readonly decision: Decision | undefined;
  /** Disagreements between this trace and the real code paths: each one is a bug (in explain or in scopegate). */
  readonly problems: readonly string[];
  /** With a DPoP proof (`--dpop`): each proof check and its outcome. */
  readonly dpop?: DpopStep | undefined;
}
