/**
 * `scopegate explain --config F METHOD PATH [--token JWT | --scopes "a b"]`:
 * why one request would be allowed or denied, step by step, in decide()'s
 * order (DESIGN.md §1): canonical path → route match → requirement → token →
 * outcome, ending with the exact response the client would get.
 *
 * Nothing about the outcome is re-implemented: it is what the real decider
 * returns (createDecider over the real compiled policies), and a deny is
 * rendered by the server's own sendDeny. The route trace is an independent
 * walk over the parsed templates, checked against the compiled matcher; any
 * disagreement is printed as a bug.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import type { TokenVerifier, VerifiedToken, VerifyResult } from './auth/types.js';
import { createTokenVerifier } from './auth/verify.js';
import { readConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { formatConfigIssue, PathError } from './errors.js';
import { compilePolicies, createDecider, type RoutePolicy } from './policy/decide.js';
import type { Decision, Deny } from './policy/decision.js';
import { catalogueRules, satisfyingScopes } from './policy/scopes.js';
import { createHeaderPolicy } from './proxy/headers.js';
import { sendDeny } from './proxy/respond.js';
import { canonicalizeTarget } from './routes/normalize.js';
import { createDiscovery, createTokenInfo, isDiscoveryRequest, sendDiscovery } from './builtin.js';
import { traceRoute } from './explain/routes.js';
import { formatExplanation } from './explain/format.js';
import type {
  CanonicalStep,
  Explanation,
  ExplainInput,
  Outcome,
  RequirementStep,
  ResponseView,
  RouteStep,
  TokenDetails,
  TokenStep,
} from './explain/types.js';

export type * from './explain/types.js';
export { formatExplanation } from './explain/format.js';

/** The bearer value decide() sees for `--scopes`: any b64token does, the stand-in verifier never reads it. */
const HYPOTHETICAL_BEARER = 'scopegate-explain.hypothetical.token';
/** The `sub` of a hypothetical token: shown as is in the identity header it would fill. */
const HYPOTHETICAL_SUBJECT = '<sub of the token>';
/** Seconds a hypothetical token is valid for (only its display depends on it). */
const HYPOTHETICAL_LIFETIME_S = 3600;

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
    // No request: sendDeny only reads it to decide on `Connection: close` for an unread upload.
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
  // Built-in responders are told about HEAD and send no body then; show the body GET would get.
  write(sink as unknown as ServerResponse);
  return {
    status,
    statusLine: `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd(),
    headers: Object.entries(written).map(([k, v]) => [k, String(v)] as const),
    body,
    bodySent: method !== 'HEAD',
  };
}

/** Which step of decide() refused the request, from the deny it returned. */
function denyStep(deny: Deny): string {
  if (deny.code.startsWith('ERR_PATH_')) return '1. canonical path';
  switch (deny.reason) {
    case 'no_route':
    case 'method_not_allowed':
      return '2. route match';
    case 'insufficient_scope':
      return '3. requirement (scope check)';
    case 'missing_token':
    case 'invalid_token':
    case 'keys_unavailable':
      return '4. token';
    case 'bad_request':
      break;
  }
  if (deny.code === 'ERR_AUTH_TOKEN_IN_QUERY') return '2. route match (an access_token query parameter is refused before the token is read)';
  if (deny.code === 'ERR_AUTH_DUPLICATE_AUTHORIZATION') return '4. token';
  return 'request framing';
}

function detailsOf(token: VerifiedToken): TokenDetails {
  return {
    issuer: token.issuer,
    subject: token.subject,
    clientId: token.clientId,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    scopes: token.scopes,
  };
}

function requirementStep(config: Config, policy: RoutePolicy, granted: ReadonlySet<string> | undefined, problems: string[]): RequirementStep {
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
  };
}

function identityHeaders(config: Config, token: VerifiedToken | undefined): [string, string][] {
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

/** Why decide() did not read the token, or undefined when it did. */
function notReadBecause(canonical: CanonicalStep, route: RouteStep | undefined, policy: RoutePolicy | undefined, decision: Decision): string | undefined {
  if (!canonical.ok) return 'the path is refused (step 1) before any token is read';
  if (route === undefined || route.result.kind === 'no_route') return 'no route matches (step 2): refused before any token is read';
  if (route.result.kind === 'method_not_allowed') return 'the method is not allowed (step 2): refused before any token is read';
  if (policy !== undefined && !policy.requirement.needsToken) return 'the route is public ({ auth: none }): no token is read at all';
  const deny = decision.allow ? decision.wouldDeny : decision;
  if (deny?.code === 'ERR_AUTH_TOKEN_IN_QUERY') return 'the access_token query parameter is refused before the header is read';
  return undefined;
}

/**
 * Explain one request against a loaded config. With `token`, the token is
 * verified for real (this may fetch the issuer's JWKS, bounded by
 * auth.jwks.timeout_ms); with `scopes`, a hypothetical valid token carries them.
 */
export async function explainRequest(config: Config, input: ExplainInput): Promise<Explanation> {
  if (input.token !== undefined && input.scopes !== undefined) throw new TypeError('explainRequest: pass token or scopes, not both');
  const { method, target } = input;
  const problems: string[] = [];
  const compiled = compilePolicies(config);
  const realm = config.auth.realm;
  const discovery = createDiscovery(config);
  const summary = { file: config.source.file, hash: config.source.hash, mode: config.mode, upstream: config.upstream.url };
  const deny = (d: Deny): ResponseView => capture((res) => sendDeny(res, d, realm, discovery?.url), method);

  // Step 1, with the limits the server applies.
  const canon = canonicalizeTarget(target, { maxTargetBytes: config.limits.maxPathBytes, maxSegments: config.limits.maxPathSegments });
  const canonical: CanonicalStep =
    canon instanceof PathError ? { ok: false, raw: target, code: canon.code, message: canon.message } : { ok: true, raw: target, path: canon.path, query: canon.query };

  // The server answers its RFC 9728 metadata document before deciding anything (server.ts onRequest).
  if (discovery !== undefined && (method === 'GET' || method === 'HEAD') && isDiscoveryRequest(discovery, target)) {
    return {
      method,
      target,
      config: summary,
      canonical,
      preempted: `${discovery.path} is the protected-resource metadata (RFC 9728): answered by scopegate before routing, no token read`,
      route: undefined,
      requirement: undefined,
      token:
        input.scopes !== undefined
          ? { kind: 'hypothetical', scopes: [...new Set(input.scopes)], read: false, note: 'the metadata document is public', jwks: [] }
          : { kind: input.token !== undefined ? 'not_checked' : 'none', read: false, note: 'the metadata document is public', jwks: [] },
      outcome: {
        allow: true,
        method,
        path: canonical.ok ? canonical.path : target,
        query: canonical.ok ? canonical.query : '',
        route: discovery.path,
        identityHeaders: [],
        wouldDeny: undefined,
        deprecatedScopes: [],
        answered: { by: 'scopegate: protected-resource metadata (RFC 9728)', response: capture((res) => sendDiscovery(res, discovery, method === 'HEAD'), method) },
      },
      decision: undefined,
      problems,
    };
  }

  // Step 2.
  const route = canonical.ok ? traceRoute(compiled, method, canonical.path) : undefined;
  if (route !== undefined && !route.matcher.agrees) {
    problems.push(`route match: this trace says ${describeResult(route)} but the compiled matcher returned ${route.matcher.summary}`);
  }
  const found = route?.result.kind === 'found' ? route.result : undefined;
  const policy = found === undefined ? undefined : compiled.policies.find((p) => p.key === found.key);

  // Step 4's verifier: the real one (JWKS over the network) or the hypothetical one, recording what decide() asks it.
  const jwks: string[] = [];
  const base: TokenVerifier =
    input.scopes !== undefined
      ? hypotheticalVerifier(input.scopes)
      : createTokenVerifier(config.auth, {
          onJwksFetch: (issuer, result, detail) => jwks.push(`${issuer}: ${result}${detail === undefined ? '' : ` (${detail})`}`),
        });
  let seen: VerifyResult | undefined;
  const recording: TokenVerifier = {
    ...base,
    verify(token: string) {
      const r = base.verify(token);
      if (r instanceof Promise) {
        return r.then((x) => {
          seen = x;
          return x;
        });
      }
      seen = r;
      return r;
    },
  };

  try {
    const bearer = input.token ?? (input.scopes !== undefined ? HYPOTHETICAL_BEARER : undefined);
    const rawHeaders = bearer === undefined ? [] : ['Authorization', `Bearer ${bearer}`];
    const decision = await createDecider(config, recording, compiled).decide(method, target, rawHeaders);
    const decidedWith = seen;

    // decide() stops early on a refused path, no route or a public route; the token is still worth reporting.
    if (input.token !== undefined && seen === undefined) seen = await base.verify(input.token);
    const why = notReadBecause(canonical, route, policy, decision);
    const read = why === undefined && (decidedWith !== undefined || input.token === undefined);
    let token: TokenStep;
    let granted: VerifiedToken | undefined;
    if (input.scopes !== undefined) {
      granted = seen?.ok === true ? seen.token : undefined;
      token = { kind: 'hypothetical', scopes: granted?.scopes ?? [...new Set(input.scopes)], read, note: why, jwks };
    } else if (input.token === undefined) {
      token = { kind: 'none', read: why === undefined, note: why, jwks };
    } else if (seen !== undefined && seen.ok) {
      granted = seen.token;
      token = { kind: 'valid', token: detailsOf(seen.token), read, note: why, jwks };
    } else if (seen !== undefined) {
      token = { kind: 'invalid', code: seen.error.code, message: seen.error.message, read, note: why, jwks };
    } else {
      // Only when decide() refused the Authorization header itself (e.g. not "Bearer <token>").
      const d = decision.allow ? decision.wouldDeny : decision;
      token = { kind: 'invalid', code: d?.code ?? 'unknown', message: d?.description ?? '', read, note: why, jwks };
    }

    // Step 3.
    const requirement = policy === undefined ? undefined : requirementStep(config, policy, granted?.scopeSet, problems);

    // Step 5: the decision, as the server acts on it (server.ts finish()).
    let outcome: Outcome;
    if (decision.allow) {
      const wd = decision.wouldDeny;
      const answersItself = decision.respond === 'token_info' && decision.token !== undefined;
      const info = createTokenInfo(config);
      outcome = {
        allow: true,
        method,
        path: decision.path,
        query: decision.query,
        route: decision.route,
        identityHeaders: answersItself ? [] : identityHeaders(config, decision.token),
        wouldDeny: wd === undefined ? undefined : { deny: wd, response: deny(wd) },
        deprecatedScopes: decision.deprecatedScopes ?? [],
        answered:
          answersItself && decision.token !== undefined
            ? { by: `scopegate: ${decision.respond ?? ''} (never forwarded)`, response: capture((res) => info.send(res, decision.token as VerifiedToken, method === 'HEAD'), method) }
            : undefined,
      };
    } else {
      outcome = { allow: false, deny: decision, step: denyStep(decision), response: deny(decision) };
    }
    checkConsistency(route, decision, problems);

    return { method, target, config: summary, canonical, preempted: undefined, route, requirement, token, outcome, decision, problems };
  } finally {
    await base.close();
  }
}

function describeResult(route: RouteStep): string {
  const r = route.result;
  return r.kind === 'found' ? `found ${r.template} (route ${JSON.stringify(r.key)})` : r.kind === 'no_route' ? 'no route (404)' : `405 on ${r.template}, Allow: ${r.allow.join(', ')}`;
}

/** The trace and the decision must tell one story. */
function checkConsistency(route: RouteStep | undefined, decision: Decision, problems: string[]): void {
  if (route === undefined) return;
  const deny = decision.allow ? decision.wouldDeny : decision;
  const r = route.result;
  if (r.kind === 'found') {
    const template = decision.route;
    if (deny?.reason === 'no_route' || deny?.reason === 'method_not_allowed' || template !== r.template) {
      problems.push(`decision: decide() answered for route ${template ?? '(none)'} (${deny?.reason ?? 'allowed'}) but the trace found ${r.template}`);
    }
  } else {
    const expected = r.kind === 'no_route' ? 'no_route' : 'method_not_allowed';
    if (deny?.reason !== expected) problems.push(`decision: the trace says ${expected} but decide() returned ${deny?.reason ?? 'allowed'}`);
  }
}

// ---------------------------------------------------------------------------
// Command line

export const EXPLAIN_USAGE = `Usage:
  scopegate explain [--config FILE] METHOD PATH [--token JWT | --scopes "a b"]

Explain how scopegate would decide one request, step by step: the canonical
path, every route matching it and why the winner wins, the scope requirement,
the token, and the exact response the client would get (or what would be
forwarded). Nothing is sent to the upstream.

  METHOD PATH      the request line, e.g. GET '/orgs/acme/projects?page=2'
                   (PATH is the raw request target; quote it in the shell)
  --token JWT      a real access token, verified as the server would: this
                   fetches the issuer's JWKS over the network (bounded by
                   auth.jwks.timeout_ms, default 5000 ms). "Bearer " in front
                   is accepted. --token - reads the token from stdin, which
                   keeps it out of your shell history and the process list.
  --scopes "a b"   a hypothetical valid token granting these scopes (space-
                   separated); its signature, issuer, audience and expiry are
                   NOT checked in this mode
  neither          the request carries no Authorization header
  --config FILE    defaults to $SCOPEGATE_CONFIG, else config/scopegate.yaml

Exit codes: 0 the request would be forwarded (allowed, or forwarded in shadow
mode), 1 denied, 2 usage error or unusable config.
`;

export interface ExplainIo {
  readonly stdout?: { write(s: string): unknown };
  readonly stderr?: { write(s: string): unknown };
  /** Read for `--token -`; default process.stdin. */
  readonly readStdin?: () => string;
}

export interface ExplainOptions extends ExplainIo {
  /** Config file; undefined: $SCOPEGATE_CONFIG, else config/scopegate.yaml (as every other command). */
  readonly config?: string | undefined;
  /** The positionals after `explain`: [METHOD, PATH]. */
  readonly positionals: readonly string[];
  readonly token?: string | undefined;
  readonly scopes?: string | undefined;
  readonly help?: boolean | undefined;
}

const DEFAULT_CONFIG_PATH = 'config/scopegate.yaml';

function usageError(err: { write(s: string): unknown }, message: string): number {
  err.write(`scopegate explain: ${message} (usage error, exit 2)\n\n${EXPLAIN_USAGE}`);
  return 2;
}

/** `scopegate explain` with its options already parsed (cli.ts). Resolves with the exit code: 0 allowed, 1 denied, 2 usage. */
export async function runExplain(options: ExplainOptions): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const err = options.stderr ?? process.stderr;
  if (options.help === true) {
    out.write(EXPLAIN_USAGE);
    return 0;
  }
  const [rawMethod, target, ...extra] = options.positionals;
  if (rawMethod === undefined || target === undefined) return usageError(err, 'METHOD and PATH are required');
  if (extra.length > 0) return usageError(err, `unexpected argument: ${extra[0]}`);
  if (options.token !== undefined && options.scopes !== undefined) return usageError(err, '--token and --scopes are mutually exclusive');
  if (!/^[A-Za-z]+$/.test(rawMethod)) return usageError(err, `not an HTTP method: ${JSON.stringify(rawMethod)}`);
  // Methods are case-sensitive on the wire; typing `get` for GET is the common slip, so it is upper-cased here.
  const method = rawMethod.toUpperCase();

  let token = options.token;
  if (token === '-') token = (options.readStdin ?? (() => readFileSync(0, 'utf8')))();
  if (token !== undefined) {
    token = token.trim();
    if (/^bearer /i.test(token)) token = token.slice(7).trim();
    if (token === '') return usageError(err, '--token is empty');
  }
  const scopes = options.scopes === undefined ? undefined : options.scopes.split(/\s+/).filter((s) => s !== '');

  const fromEnv = process.env['SCOPEGATE_CONFIG'];
  const file = options.config ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_CONFIG_PATH : fromEnv);
  const { config, issues } = readConfigFile(file);
  for (const issue of issues) err.write(`${formatConfigIssue(issue)}\n`);
  if (config === undefined) {
    err.write(`${file}: invalid, not loaded (exit 2: nothing to explain against)\n`);
    return 2;
  }

  const explanation = await explainRequest(config, { method, target, ...(token !== undefined ? { token } : {}), ...(scopes !== undefined ? { scopes } : {}) });
  out.write(formatExplanation(explanation, { color: 'isTTY' in out && out.isTTY === true }));
  for (const p of explanation.problems) err.write(`scopegate explain: BUG: ${p}\n`);
  return explanation.outcome.allow ? 0 : 1;
}

/** `scopegate explain ARGS…` from raw argv (everything after the word `explain`). */
export async function runExplainArgv(argv: readonly string[], io: ExplainIo = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        token: { type: 'string' },
        scopes: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError(io.stderr ?? process.stderr, (error as Error).message);
  }
  const { values, positionals } = parsed;
  return runExplain({ ...io, config: values.config, positionals, token: values.token, scopes: values.scopes, help: values.help });
}
