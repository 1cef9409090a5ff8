/**
 * `scopegate explain`: why one request would be allowed or denied, step by
 * step (canonical path → route match → requirement → token → outcome), ending
 * with the exact response the client would get.
 *
 * Nothing here decides: the outcome is what the server's own plan() returns
 * for the request, and every response shown is written by the server's own
 * answer(). The route trace (explain/routes.ts) is an independent walk over
 * the templates, checked against the compiled matcher; the other steps are read
 * off the action (explain/steps.ts). Any disagreement is printed as a bug.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { TokenVerifier, VerifiedToken, VerifyResult } from '../auth/types.js';
import { createAuthVerifier } from '../auth/introspect-verifier.js';
import { conditionClaims } from '../policy/conditions.js';
import type { Config } from '../config/schema.js';
import { PathError, TokenError } from '../errors.js';
import { compilePolicies } from '../policy/decide.js';
import type { Decision } from '../policy/decision.js';
import { createPlanner, type Action, type DiscoveryAction, type RequestHead } from '../policy/plan.js';
import { createAnswers, type SelfAnswered } from '../respond/answer.js';
import { canonicalizeTarget } from '../routes/normalize.js';
import { dpopStep } from './dpop.js';
import { explainPreflight } from './preflight.js';
import { traceRoute } from './routes.js';
import { checkConditions, checkConsistency, conditionsStep, denyStep, describeResult, detailsOf, identityHeaders, mismatchView, notReadBecause, requirementStep } from './steps.js';
import type { CanonicalStep, Explanation, ExplainInput, Outcome, ResponseView, RouteStep, TokenStep } from './types.js';

/** The bearer value the dispatch sees for `--scopes`: any b64token does, the stand-in verifier never reads it. */
const HYPOTHETICAL_BEARER = 'scopegate-explain.hypothetical.token';
/** The `sub` of a hypothetical token: shown as is in the identity header it would fill. */
const HYPOTHETICAL_SUBJECT = '<sub of the token>';
/** Seconds a hypothetical token is valid for (only its display depends on it). */
const HYPOTHETICAL_LIFETIME_S = 3600;
/** The Host of the explained request: any valid one, since no decision depends on its value. */
const EXPLAIN_HOST = 'localhost';

/** A TokenVerifier whose every token is valid with these scopes: `--scopes` mode. */
function hypotheticalVerifier(scopes: readonly string[]): TokenVerifier {
  const unique = [...new Set(scopes)];
  const token: VerifiedToken = Object.freeze({
    issuer: '(hypothetical)',
    subject: HYPOTHETICAL_SUBJECT,
    clientId: undefined,
    expiresAt: Math.floor(Date.now() / 1000) + HYPOTHETICAL_LIFETIME_S,
    scopes: Object.freeze(unique),
    scopeSet: new Set(unique),
    scopeHeader: unique.join(' '),
    keyId: '(none)',
    issuedAt: undefined,
  });
  const result: VerifyResult = Object.freeze({ ok: true, token });
  return {
    verify: () => result,
    ready: () => true,
    start: async () => {},
    close: async () => {},
    issuerStates: () => [],
    cacheStats: () => ({ hits: 0, misses: 0, size: 0 }),
  };
}

/** Wraps a verifier to remember the last result the dispatch asked it for. */
function recording(base: TokenVerifier): { verifier: TokenVerifier; seen: () => VerifyResult | undefined } {
  let seen: VerifyResult | undefined;
  const verifier: TokenVerifier = {
    ...base,
    verify(token: string) {
      const r = base.verify(token);
      if (r instanceof Promise) return r.then((x) => (seen = x));
      seen = r;
      return r;
    },
  };
  return { verifier, seen: () => seen };
}

/**
 * What the server's own response code writes, captured from a stand-in
 * ServerResponse: the status, the headers in the order written, the body.
 */
function capture(write: (res: ServerResponse) => void, method: string): ResponseView {
  let status = 0;
  let written: Record<string, string | number> = {};
  let body = '';
  const sink = {
    headersSent: false,
    destroyed: false,
    // No request: the deny writer only reads it to decide on `Connection: close` for an unread upload.
    req: undefined,
    writeHead(s: number, headers: Record<string, string | number>) {
      status = s;
      written = headers;
      return sink;
    },
    end(chunk?: string) {
      if (chunk !== undefined) body = chunk;
      return sink;
    },
  };
  write(sink as unknown as ServerResponse);
  return {
    status,
    statusLine: `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd(),
    headers: Object.entries(written).map(([k, v]) => [k, String(v)] as const),
    body,
    bodySent: method !== 'HEAD',
  };
}

/** The request a client would send: HTTP/1.1 with a Host, and the bearer token when there is one. */
function requestHead(method: string, target: string, bearer: string | undefined, input: ExplainInput): RequestHead {
  const scheme = input.dpop === undefined ? 'Bearer' : 'DPoP';
  const rawHeaders = ['Host', EXPLAIN_HOST, ...(bearer === undefined ? [] : ['Authorization', `${scheme} ${bearer}`])];
  if (input.dpop !== undefined) rawHeaders.push('DPoP', input.dpop);
  const { origin, requestMethod } = input;
  if (origin !== undefined) rawHeaders.push('Origin', origin);
  if (requestMethod !== undefined) rawHeaders.push('Access-Control-Request-Method', requestMethod);
  const headers = { host: EXPLAIN_HOST, origin, 'access-control-request-method': requestMethod };
  return { method, url: target, rawHeaders, headers, httpVersionMajor: 1, httpVersionMinor: 1 };
}

type Summary = Explanation['config'];

/** The metadata document is answered before routing: nothing past step 1 applies. */
function explainDiscovery(input: ExplainInput, summary: Summary, canonical: CanonicalStep, action: DiscoveryAction, response: ResponseView): Explanation {
  const { method, target } = input;
  const note = 'the metadata document is public';
  return {
    method,
    target,
    config: summary,
    canonical,
    preempted: `${action.discovery.path} is the protected-resource metadata (RFC 9728): answered by scopegate before routing, no token read`,
    route: undefined,
    requirement: undefined,
    token:
      input.scopes !== undefined
        ? { kind: 'hypothetical', scopes: [...new Set(input.scopes)], read: false, note, jwks: [] }
        : { kind: input.token !== undefined ? 'not_checked' : 'none', read: false, note, jwks: [] },
    outcome: {
      allow: true,
      method,
      path: canonical.ok ? canonical.path : target,
      query: canonical.ok ? canonical.query : '',
      route: action.route,
      identityHeaders: [],
      wouldDeny: undefined,
      deprecatedScopes: [],
      answered: { by: 'scopegate: protected-resource metadata (RFC 9728)', response },
    },
    decision: undefined,
    problems: [],
  };
}

/** Step 4 as reported: what the token was, and whether the dispatch read it. */
function tokenStep(input: ExplainInput, seen: VerifyResult | undefined, read: boolean, why: string | undefined, decision: Decision, jwks: readonly string[]): TokenStep {
  if (input.scopes !== undefined) {
    const granted = seen?.ok === true ? seen.token : undefined;
    return { kind: 'hypothetical', scopes: granted?.scopes ?? [...new Set(input.scopes)], read, note: why, jwks };
  }
  if (input.token === undefined) return { kind: 'none', read: why === undefined, note: why, jwks };
  if (seen !== undefined && seen.ok) return { kind: 'valid', token: detailsOf(seen.token), read, note: why, jwks };
  if (seen !== undefined) {
    const mismatch = seen.error instanceof TokenError && seen.error.mismatch !== undefined ? { mismatch: mismatchView(seen.error.mismatch) } : {};
    return { kind: 'invalid', code: seen.error.code, message: seen.error.message, ...mismatch, read, note: why, jwks };
  }
  // Only when the dispatch refused the Authorization header itself (e.g. not "Bearer <token>").
  const d = decision.allow ? decision.wouldDeny : decision;
  return { kind: 'invalid', code: d?.code ?? 'unknown', message: d?.description ?? '', read, note: why, jwks };
}

/** Step 5: the action, as the server acts on it. */
function outcomeOf(config: Config, method: string, decision: Decision, respond: (action: SelfAnswered) => ResponseView): Outcome {
  if (decision.kind === 'deny') return { allow: false, deny: decision, step: denyStep(decision), response: respond(decision) };
  const wd = decision.wouldDeny;
  const answersItself = decision.kind === 'token_info';
  return {
    allow: true,
    method,
    path: decision.path,
    query: decision.query,
    route: decision.route,
    identityHeaders: answersItself ? [] : identityHeaders(config, decision.token),
    wouldDeny: wd === undefined ? undefined : { deny: wd, response: respond(wd) },
    deprecatedScopes: decision.deprecatedScopes ?? [],
    answered: answersItself ? { by: `scopegate: ${decision.kind} (never forwarded)`, response: respond(decision) } : undefined,
  };
}

/**
 * Explain one request against a loaded config. With `token`, the token is
 * verified for real (this may fetch the issuer's JWKS, bounded by
 * auth.jwks.timeout_ms); with `scopes`, a hypothetical valid token carries them.
 */
/** What explain says is forwarded to in an authz-only config: the proxy in front forwards, not scopegate. */
const NO_UPSTREAM = 'the proxy in front (authz_listen only: scopegate forwards nothing)';

export async function explainRequest(config: Config, input: ExplainInput): Promise<Explanation> {
  if (input.token !== undefined && input.scopes !== undefined) throw new TypeError('explainRequest: pass token or scopes, not both');
  const { method, target } = input;
  const problems: string[] = [];
  const summary: Summary = { file: config.source.file, hash: config.source.hash, mode: config.mode, upstream: config.upstream?.url ?? NO_UPSTREAM };

  // Step 1, with the limits the server applies: shown whatever the outcome.
  const canon = canonicalizeTarget(target, { maxTargetBytes: config.limits.maxPathBytes, maxSegments: config.limits.maxPathSegments });
  const canonical: CanonicalStep =
    canon instanceof PathError ? { ok: false, raw: target, code: canon.code, message: canon.message } : { ok: true, raw: target, path: canon.path, query: canon.query };

  // The verifier: the real one (JWKS over the network) or the hypothetical one, recording what the dispatch asks it.
  const jwks: string[] = [];
  const base: TokenVerifier =
    input.scopes !== undefined
      ? hypotheticalVerifier(input.scopes)
      : createAuthVerifier(config.auth, { onJwksFetch: (issuer, result, detail) => jwks.push(`${issuer}: ${result}${detail === undefined ? '' : ` (${detail})`}`) }, undefined, conditionClaims(config.routes));
  const record = recording(base);
  try {
    const compiled = compilePolicies(config);
    const planner = createPlanner(config, record.verifier, { compiled });
    const answers = createAnswers(config, planner.discovery);
    const respond = (action: SelfAnswered): ResponseView => capture((res) => answers.answer(res, action, method === 'HEAD'), method);
    const bearer = input.token ?? (input.scopes !== undefined ? HYPOTHETICAL_BEARER : undefined);
    const action: Action = await planner.plan(requestHead(method, target, bearer, input));
    if (action.kind === 'discovery') return explainDiscovery(input, summary, canonical, action, respond(action));
    const { origin, requestMethod } = input;
    if (planner.cors !== undefined && method === 'OPTIONS' && origin !== undefined && requestMethod !== undefined) {
      if (action.kind === 'preflight' || action.kind === 'deny') return explainPreflight({ ...input, origin, requestMethod }, summary, canonical, action, planner.cors, respond);
    }
    // Neither can happen here: a preflight needs Origin and Access-Control-Request-Method, an upgrade an Upgrade header explain never sends.
    if (action.kind === 'preflight' || action.kind === 'upgrade') throw new Error(`explain: unexpected ${action.kind} action`);
    const decidedWith = record.seen();

    // Step 2: the independent trace, checked against the compiled matcher.
    const route: RouteStep | undefined = canonical.ok ? traceRoute(compiled, method, canonical.path) : undefined;
    if (route !== undefined && !route.matcher.agrees) {
      problems.push(`route match: this trace says ${describeResult(route)} but the compiled matcher returned ${route.matcher.summary}`);
    }
    const found = route?.result.kind === 'found' ? route.result : undefined;
    const policy = found === undefined ? undefined : compiled.policies.find((p) => p.key === found.key);

    // The dispatch stops early on a refused path, no route or a public route; the token is still worth reporting.
    const seen = input.token !== undefined && decidedWith === undefined ? await base.verify(input.token) : decidedWith;
    const why = notReadBecause(canonical, route, policy, action);
    const read = why === undefined && (decidedWith !== undefined || input.token === undefined);
    const token = tokenStep(input, seen, read, why, action, jwks);
    const granted = seen?.ok === true ? seen.token : undefined;

    // Step 3.
    const requirement = policy === undefined || found === undefined ? undefined : requirementStep(config, policy, granted?.scopeSet, problems, conditionsStep(policy, granted, found.params));
    const outcome = outcomeOf(config, method, action, respond);
    checkConsistency(route, action, problems);
    const dpop = input.dpop === undefined ? undefined : dpopStep(input.dpop, action, read, config.auth.dpop !== undefined);
    checkConditions(requirement, action, problems);
    return { method, target, config: summary, canonical, preempted: undefined, route, requirement, token, outcome, decision: action, problems, dpop };
  } finally {
    await base.close();
  }
}
