/**
 * What `scopegate explain` says about each step, read off what plan() returned:
 * which step refused the request, why the token was (not) read, the per-scope
 * trace of the requirement, the identity headers a forward would carry. None
 * of this decides anything; where a trace could disagree with the real code it
 * is checked against it, and a disagreement is reported as a problem.
 */
import type { VerifiedToken } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import type { ClaimMismatch } from '../errors.js';
import type { ConditionOutcome } from '../policy/conditions.js';
import type { RoutePolicy } from '../policy/decide.js';
import type { Decision, Deny } from '../policy/decision.js';
import { catalogueRules, satisfyingScopes } from '../policy/scopes.js';
import { createHeaderPolicy } from '../proxy/headers.js';
import { trailingSlashOnly } from '../telemetry/diagnosis.js';
import type { CanonicalStep, MismatchView, RequirementStep, RouteStep, TokenDetails } from './types.js';

/** Which step of the dispatch refused the request, from the deny it returned. */
export function denyStep(deny: Deny): string {
  if (deny.code.startsWith('ERR_PATH_')) return '1. canonical path';
  switch (deny.reason) {
    case 'no_route':
    case 'method_not_allowed':
      return '2. route match';
    case 'insufficient_scope':
      return '3. requirement (scope check)';
    case 'claim_mismatch':
      return '3. requirement (where conditions)';
    case 'missing_token':
    case 'invalid_token':
    case 'keys_unavailable':
      return '4. token';
    case 'invalid_dpop_proof':
      return '4. token (DPoP proof)';
    case 'bad_request':
      break;
  }
  if (deny.code === 'ERR_AUTH_TOKEN_IN_QUERY') return '2. route match (an access_token query parameter is refused before the token is read)';
  if (deny.code === 'ERR_AUTH_DUPLICATE_AUTHORIZATION') return '4. token';
  return 'request framing';
}

/** The verifier's issuer or audience refusal, shown with the same trailing-slash diagnosis as the access log. */
export function mismatchView(m: ClaimMismatch): MismatchView {
  return {
    claim: m.claim,
    presented: m.presented === undefined ? '(absent)' : JSON.stringify(m.presented),
    expected: m.expected.map((e) => JSON.stringify(e)),
    trailingSlashOnly: trailingSlashOnly(m.presented, m.expected),
  };
}

export function detailsOf(token: VerifiedToken): TokenDetails {
  return {
    issuer: token.issuer,
    subject: token.subject,
    clientId: token.clientId,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    scopes: token.scopes,
  };
}

/** The route's conditions on this request: the token (undefined: none verified) and the matched parameters. */
export function conditionsStep(policy: RoutePolicy, token: VerifiedToken | undefined, params: readonly (readonly [string, string])[]): readonly ConditionOutcome[] {
  return policy.conditions?.trace(token, params.map((p) => p[0]), params.map((p) => p[1])) ?? [];
}

export function requirementStep(config: Config, policy: RoutePolicy, granted: ReadonlySet<string> | undefined, problems: string[], conditions: readonly ConditionOutcome[] = []): RequirementStep {
  const matching = config.auth.scopeMatching;
  const req = policy.requirement;
  const rules = catalogueRules(config.catalogue);
  const written = config.routes.find((r) => r.key === policy.key)?.requirement;
  const own = written !== undefined && (written.kind === 'all_of' || written.kind === 'any_of') ? written.scopes : [];
  const scopes = req.scopes.map((scope) => {
    const satisfiedBy = satisfyingScopes(scope, matching);
    const aliases = rules.aliases.get(scope) ?? [];
    const accepted = [...satisfiedBy, ...aliases];
    return {
      scope,
      route: own.includes(scope),
      catalogue: rules.required.includes(scope),
      satisfiedBy,
      aliases,
      granted: granted === undefined ? undefined : accepted.filter((s) => granted.has(s)),
    };
  });
  let satisfied: boolean | undefined;
  if (granted !== undefined && req.needsToken) {
    // The verdict is the compiled requirement's; the per-scope trace is checked against it.
    satisfied = req.satisfiedBy(granted);
    const has = (s: (typeof scopes)[number]): boolean => (s.granted?.length ?? 0) > 0;
    const ownScopes = scopes.filter((s) => s.route);
    const ownOk = ownScopes.length === 0 || (req.kind === 'any_of' ? ownScopes.some(has) : ownScopes.every(has));
    const traced = ownOk && scopes.filter((s) => s.catalogue).every(has);
    if (traced !== satisfied) {
      problems.push(
        `requirement: the per-scope trace says ${traced ? 'satisfied' : 'not satisfied'} but the compiled requirement says ${satisfied ? 'satisfied' : 'not satisfied'}`,
      );
    }
  }
  return {
    route: policy.template,
    text: req.text,
    kind: req.kind,
    needsToken: req.needsToken,
    matching,
    shadow: policy.shadow,
    respond: policy.respond,
    scopes,
    satisfied,
    conditions,
  };
}

export function identityHeaders(config: Config, token: VerifiedToken | undefined): [string, string][] {
  const names = new Set([config.identityHeaders.subject, config.identityHeaders.scopes].filter((n): n is string => n !== undefined).map((n) => n.toLowerCase()));
  if (names.size === 0) return [];
  // The header policy the server uses, on an empty client request: only what scopegate itself sets survives the filter.
  const flat = createHeaderPolicy(config.identityHeaders).buildUpstreamHeaders([], { token, clientIp: undefined, proto: 'http' });
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (names.has(name.toLowerCase())) out.push([name, flat[i + 1] as string]);
  }
  return out;
}

/** Why the dispatch did not read the token, or undefined when it did. */
export function notReadBecause(canonical: CanonicalStep, route: RouteStep | undefined, policy: RoutePolicy | undefined, decision: Decision): string | undefined {
  if (!canonical.ok) return 'the path is refused (step 1) before any token is read';
  if (route === undefined || route.result.kind === 'no_route') return 'no route matches (step 2): refused before any token is read';
  if (route.result.kind === 'method_not_allowed') return 'the method is not allowed (step 2): refused before any token is read';
  if (policy !== undefined && !policy.requirement.needsToken) return 'the route is public ({ auth: none }): no token is read at all';
  const deny = decision.allow ? decision.wouldDeny : decision;
  if (deny?.code === 'ERR_AUTH_TOKEN_IN_QUERY') return 'the access_token query parameter is refused before the header is read';
  return undefined;
}

export function describeResult(route: RouteStep): string {
  const r = route.result;
  return r.kind === 'found' ? `found ${r.template} (route ${JSON.stringify(r.key)})` : r.kind === 'no_route' ? 'no route (404)' : `405 on ${r.template}, Allow: ${r.allow.join(', ')}`;
}

/** The conditions' trace and plan()'s verdict on them must agree. */
export function checkConditions(step: RequirementStep | undefined, decision: Decision, problems: string[]): void {
  if (step === undefined || step.conditions.length === 0) return;
  const deny = decision.allow ? decision.wouldDeny : decision;
  const traced = step.conditions.every((c) => c.holds);
  if (deny?.reason === 'claim_mismatch' && traced) problems.push('where: plan() refused with claim_mismatch but every condition holds in the trace');
  if (deny === undefined && !traced) problems.push('where: plan() allowed the request but a condition does not hold in the trace');
}

/** The trace and the decision must tell one story. */
export function checkConsistency(route: RouteStep | undefined, decision: Decision, problems: string[]): void {
  if (route === undefined) return;
  const deny = decision.allow ? decision.wouldDeny : decision;
  const r = route.result;
  if (r.kind === 'found') {
    const template = decision.route;
    if (deny?.reason === 'no_route' || deny?.reason === 'method_not_allowed' || template !== r.template) {
      problems.push(`decision: plan() answered for route ${template ?? '(none)'} (${deny?.reason ?? 'allowed'}) but the trace found ${r.template}`);
    }
  } else {
    const expected = r.kind === 'no_route' ? 'no_route' : 'method_not_allowed';
    if (deny?.reason !== expected) problems.push(`decision: the trace says ${expected} but plan() returned ${deny?.reason ?? 'allowed'}`);
  }
}
