/**
 * scopegate explain: the trace content for each step, and that the outcome is
 * exactly what an independently built decide() returns (and sendDeny writes).
 */
import t, { type Test } from 'tap';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import type { TokenVerifier, VerifiedToken } from '../../../src/auth/types.js';
import type { Config } from '../../../src/config/schema.js';
import { explainRequest } from '../../../src/explain/explain.js';
import { formatExplanation } from '../../../src/explain/format.js';
import type { Explanation } from '../../../src/explain/types.js';
import { run as runExplainArgv, runExplain } from '../../../src/commands/explain.js';
import { createDecider } from '../../../src/policy/decide.js';
import type { Decision, Deny } from '../../../src/policy/decision.js';
import { buildChallenge } from '../../../src/respond/deny.js';
import { testConfig } from '../../helpers/config.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { claims, nowS, signToken } from '../../helpers/tokens.js';

const ISSUER = 'https://idp.explain.test/';
const AUD = 'https://api.example.com';
const ROUTES = [
  'GET /orgs/:org/projects: projects:read',
  'DELETE /orgs/:org/projects: { all_of: [projects:write, projects:admin] }',
  'GET /orgs/admin/projects/x: admin',
  'GET /orgs/*: { any_of: [orgs:read, admin] }',
  'GET /orgs/admin/settings: admin',
  'GET /static/*: { auth: none }',
  'HEAD /h: admin',
  'GET /h: orgs:read',
  'GET /shadowed: { scope: secret, mode: shadow }',
];
const UNREACHABLE_JWKS = 'http://127.0.0.1:9/jwks.json';

const exact = testConfig({ issuer: ISSUER, jwksUri: UNREACHABLE_JWKS, routes: ROUTES });
const hier = testConfig({ issuer: ISSUER, jwksUri: UNREACHABLE_JWKS, routes: ROUTES, scopeMatching: 'hierarchical' });

/** The decider the server would build, with a stand-in verifier granting `scopes`. */
function stub(scopes: readonly string[]): TokenVerifier {
  const token: VerifiedToken = {
    issuer: 'x',
    subject: 's',
    clientId: undefined,
    expiresAt: nowS() + 60,
    scopes,
    scopeSet: new Set(scopes),
    scopeHeader: scopes.join(' '),
    keyId: 'k',
    issuedAt: undefined,
  };
  return { verify: () => ({ ok: true, token }), ready: () => true, start: async () => {}, close: async () => {}, issuerStates: () => [], cacheStats: () => ({ hits: 0, misses: 0, size: 0 }) };
}

async function reference(config: Config, method: string, target: string, scopes?: readonly string[]): Promise<Decision> {
  const headers = scopes === undefined ? [] : ['Authorization', 'Bearer some.opaque.token'];
  return createDecider(config, stub(scopes ?? [])).decide(method, target, headers);
}

/** explain's outcome must be decide()'s: same allow/deny, status, reason, code, route, path, query. */
async function explainAndCompare(t: Test, config: Config, method: string, target: string, scopes?: readonly string[]): Promise<Explanation> {
  const e = await explainRequest(config, { method, target, ...(scopes === undefined ? {} : { scopes }) });
  const d = await reference(config, method, target, scopes);
  t.equal(e.decision?.allow, d.allow, `${method} ${target}: allow`);
  if (!d.allow && e.decision !== undefined && !e.decision.allow) {
    t.same(e.decision, d, 'the deny is decide()’s');
    t.equal(e.outcome.allow, false);
    if (!e.outcome.allow) {
      t.equal(e.outcome.response.status, d.status);
      const challenge = buildChallenge(d, config.auth.realm);
      const www = e.outcome.response.headers.find(([k]) => k === 'www-authenticate')?.[1];
      t.equal(www, challenge, 'WWW-Authenticate is buildChallenge()’s');
    }
  } else if (d.allow && e.decision?.allow === true) {
    t.same([e.decision.route, e.decision.path, e.decision.query, e.decision.paramValues, e.decision.wouldDeny], [d.route, d.path, d.query, d.paramValues, d.wouldDeny]);
  }
  t.same(e.problems, [], 'no disagreement between the trace and the real code');
  if (e.route !== undefined) t.ok(e.route.matcher.agrees, 'compiled matcher agrees');
  return e;
}

t.test('static beats :param beats *, with backtracking', async (t) => {
  const e = await explainAndCompare(t, exact, 'GET', '/orgs/./admin/%70rojects?q=1', ['projects:read']);
  t.match(e.canonical, { ok: true, path: '/orgs/admin/projects', query: '?q=1' });
  const r = e.route!;
  t.same(
    r.candidates.map((c) => [c.template, c.methods.join(','), c.winner]),
    [
      ['/orgs/:org/projects', 'GET', true],
      ['/orgs/:org/projects', 'DELETE', false],
      ['/orgs/*', 'GET', false],
    ],
    'every route matching the path, most specific first',
  );
  t.equal(r.candidates[1]!.why, 'matches the path but does not serve GET');
  t.equal(r.candidates[2]!.why, 'at segment 2 ("admin"): :org beats *');
  t.same(r.misses.map((m) => m.template).sort(), ['/orgs/admin/projects/x', '/orgs/admin/settings']);
  t.match(r.misses.find((m) => m.template === '/orgs/admin/settings')!.why, /static "admin" beats :org at segment 2.*segment 3 is "projects", not "settings": backtracked/);
  t.match(r.result, { kind: 'found', template: '/orgs/:org/projects', params: [['org', 'admin']], headFallback: false });
  t.equal(e.outcome.allow, true);

  const s = await explainAndCompare(t, exact, 'GET', '/orgs/admin/settings', ['admin']);
  t.equal(s.route!.candidates[0]!.template, '/orgs/admin/settings');
  t.equal(s.route!.candidates[1]!.why, 'at segment 2 ("admin"): static "admin" beats *');

  const w = await explainAndCompare(t, exact, 'GET', '/orgs/acme', ['orgs:read']);
  t.match(w.route!.result, { kind: 'found', template: '/orgs/*', params: [['*', 'acme']] });
  t.ok(w.route!.misses.some((m) => /:org beats \* at segment 2/.test(m.why)), 'the :org branch was tried first');
});

t.test('404 lists the closest routes; 405 names the Allow list', async (t) => {
  const nf = await explainAndCompare(t, exact, 'GET', '/orgs');
  t.same(nf.route!.result, { kind: 'no_route' });
  t.same(nf.route!.candidates, []);
  t.ok(nf.route!.misses.some((m) => m.template === '/orgs/*' && /"\*" needs one more segment/.test(m.why)));
  t.equal(nf.outcome.allow === false && nf.outcome.response.statusLine, 'HTTP/1.1 404 Not Found');
  t.equal(nf.token.kind, 'none');
  t.match(nf.token.note, /no route matches/);

  const na = await explainAndCompare(t, exact, 'POST', '/orgs/acme/projects');
  t.same(na.route!.result, { kind: 'method_not_allowed', template: '/orgs/:org/projects', allow: ['DELETE', 'GET', 'HEAD'] });
  t.ok(na.route!.candidates.every((c) => c.why === 'matches the path but does not serve POST'));
  if (na.outcome.allow) throw new Error('expected deny');
  t.same(na.outcome.response.headers.find(([k]) => k === 'allow'), ['allow', 'DELETE, GET, HEAD']);
  t.match(formatExplanation(na), /405: POST is not served on \/orgs\/:org\/projects; Allow: DELETE, GET, HEAD/);
});

t.test('HEAD: GET fallback, and an explicit HEAD route beats it', async (t) => {
  const e = await explainAndCompare(t, exact, 'HEAD', '/orgs/acme/projects', ['projects:read']);
  t.match(e.route!.result, { kind: 'found', template: '/orgs/:org/projects', headFallback: true });
  t.match(e.route!.candidates[0]!.why, /HEAD→GET fallback/);
  const h = await explainAndCompare(t, exact, 'HEAD', '/h', ['admin']);
  t.match(h.route!.result, { kind: 'found', key: 'HEAD /h', headFallback: false });
  t.match(h.route!.candidates[1], { template: '/h', winner: false, why: /same shape; HEAD listed explicitly/ });
  const missing = await explainAndCompare(t, exact, 'HEAD', '/h');
  if (missing.outcome.allow) throw new Error('expected deny');
  t.equal(missing.outcome.response.bodySent, false, 'HEAD: no body on the wire');
  t.match(formatExplanation(missing), /body not sent for HEAD/);
});

t.test('path errors stop at step 1 with the PathError code', async (t) => {
  for (const [target, code] of [
    ['/../etc/passwd', 'ERR_PATH_TRAVERSAL'],
    ['/orgs/a%2Fb/projects', 'ERR_PATH_ENCODED_SEPARATOR'],
    ['/orgs//x', 'ERR_PATH_EMPTY_SEGMENT'],
    ['http://evil/orgs', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ] as const) {
    const e = await explainAndCompare(t, exact, 'GET', target, ['admin']);
    t.match(e.canonical, { ok: false, code });
    t.equal(e.route, undefined);
    t.equal(e.requirement, undefined);
    t.match(e.outcome, { allow: false, step: '1. canonical path', deny: { status: 400, code } });
    t.match(formatExplanation(e), new RegExp(`refused +400 ${code}`));
  }
});

t.test('exact vs hierarchical scope matching', async (t) => {
  const ex = await explainAndCompare(t, exact, 'GET', '/orgs/acme/projects', ['projects']);
  t.same(ex.requirement!.scopes, [{ scope: 'projects:read', route: true, catalogue: false, satisfiedBy: ['projects:read'], aliases: [], granted: [] }]);
  t.equal(ex.requirement!.satisfied, false);
  if (ex.outcome.allow) throw new Error('expected deny');
  t.same(ex.outcome.response.headers.find(([k]) => k === 'www-authenticate'), [
    'www-authenticate',
    'Bearer realm="scopegate", error="insufficient_scope", error_description="the token needs the scope: projects:read", scope="projects:read"',
  ]);
  t.equal(ex.outcome.response.body, '{"error":"insufficient_scope","error_description":"the token needs the scope: projects:read","scope":"projects:read"}');

  const hi = await explainAndCompare(t, hier, 'GET', '/orgs/acme/projects', ['projects']);
  t.same(hi.requirement!.scopes[0]!.satisfiedBy, ['projects', 'projects:read']);
  t.same(hi.requirement!.scopes[0]!.granted, ['projects']);
  t.equal(hi.requirement!.satisfied, true);
  t.equal(hi.outcome.allow, true);
  // Longer never satisfies shorter.
  const longer = await explainAndCompare(t, hier, 'GET', '/orgs/acme/projects', ['projects:read:all']);
  t.equal(longer.outcome.allow, false);
});

t.test('any_of and all_of', async (t) => {
  const any = await explainAndCompare(t, exact, 'GET', '/orgs/acme', ['admin']);
  t.equal(any.requirement!.kind, 'any_of');
  t.same(any.requirement!.scopes.map((s) => [s.scope, s.granted]), [['orgs:read', []], ['admin', ['admin']]]);
  t.equal(any.outcome.allow, true);

  const all = await explainAndCompare(t, hier, 'DELETE', '/orgs/acme/projects', ['projects:write']);
  t.equal(all.requirement!.text, 'all of: projects:write, projects:admin');
  t.same(all.requirement!.scopes.map((s) => [s.scope, s.granted]), [['projects:write', ['projects:write']], ['projects:admin', []]]);
  if (all.outcome.allow) throw new Error('expected deny');
  t.match(all.outcome, { step: '3. requirement (scope check)', deny: { status: 403, requiredScopes: ['projects:write', 'projects:admin'] } });
  const text = formatExplanation(all);
  t.match(text, /projects:admin +route +projects, projects:admin +✗ missing/);
  t.match(text, /www-authenticate: Bearer realm="scopegate", error="insufficient_scope", error_description="the token needs the scopes: projects:write projects:admin", scope="projects:write projects:admin"/);
});

t.test('missing token, public route, query token, shadow mode', async (t) => {
  const missing = await explainAndCompare(t, exact, 'GET', '/orgs/acme/projects');
  t.match(missing.token, { kind: 'none', read: true });
  if (missing.outcome.allow) throw new Error('expected deny');
  t.match(missing.outcome, { step: '4. token', deny: { status: 401, reason: 'missing_token' } });
  t.same(missing.outcome.response.headers.find(([k]) => k === 'www-authenticate'), ['www-authenticate', 'Bearer realm="scopegate"']);

  const pub = await explainAndCompare(t, exact, 'GET', '/static/a/b.css', ['x']);
  t.match(pub.token, { kind: 'hypothetical', read: false, note: /public/ });
  t.match(pub.outcome, { allow: true, path: '/static/a/b.css', identityHeaders: [] });

  const q = await explainAndCompare(t, exact, 'GET', '/static/a?access_token=abc');
  t.match(q.outcome, { allow: false, deny: { status: 400, code: 'ERR_AUTH_TOKEN_IN_QUERY' } });

  const sh = await explainAndCompare(t, exact, 'GET', '/shadowed', ['other']);
  t.equal(sh.requirement!.shadow, true);
  t.match(sh.outcome, { allow: true, wouldDeny: { deny: { status: 403, reason: 'insufficient_scope' }, response: { status: 403 } } });
  t.match(formatExplanation(sh), /FORWARDED \(shadow mode\)[\s\S]*would deny: 403 insufficient_scope/);
});

t.test('identity headers on allow are the header policy’s', async (t) => {
  const e = await explainRequest(exact, { method: 'GET', target: '/orgs/acme/projects', scopes: ['projects:read', 'extra'] });
  t.match(e.outcome, { allow: true, identityHeaders: [['x-auth-subject', '<sub of the token>'], ['x-auth-scopes', 'projects:read extra']] });
  const text = formatExplanation(e);
  t.match(text, /NOT checked in this mode/);
  t.match(text, /^ +GET \/orgs\/acme\/projects$/m);
  t.match(text, /^ +x-auth-scopes: projects:read extra$/m);
  t.match(text, /exit 0 \(allowed\)/);
});

t.test('a scope catalogue: required scopes and deprecated aliases', async (t) => {
  const extra = `scopes:\n  person:read: { description: Read people }\n  user:read:people: { deprecated: true, replaced_by: person:read }\n  api:access: { required: true }\n  admin: {}\n`;
  const config = testConfig({ issuer: ISSUER, jwksUri: UNREACHABLE_JWKS, extra, routes: ['GET /v1/people: { any_of: [person:read, admin] }'] });
  const alias = await explainAndCompare(t, config, 'GET', '/v1/people', ['user:read:people', 'api:access']);
  t.match(alias.requirement!.scopes, [
    { scope: 'person:read', route: true, catalogue: false, aliases: ['user:read:people'], granted: ['user:read:people'] },
    { scope: 'admin', route: true, granted: [] },
    { scope: 'api:access', route: false, catalogue: true, granted: ['api:access'] },
  ]);
  t.match(alias.outcome, { allow: true, deprecatedScopes: ['user:read:people'] });
  const noRequired = await explainAndCompare(t, config, 'GET', '/v1/people', ['person:read']);
  t.equal(noRequired.outcome.allow, false, 'the catalogue-required scope is missing');
  t.equal(noRequired.requirement!.satisfied, false);
});

t.test('a real token: verified, expired, insufficient, keys unavailable', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const config = testConfig({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ROUTES });
  const now = nowS();
  const good = signToken(key, claims(ISSUER, AUD, { scope: 'projects:read', sub: 'alice', client_id: 'cli', iat: now, exp: now + 300 }));

  const ok = await explainRequest(config, { method: 'GET', target: '/orgs/acme/projects', token: good });
  t.match(ok.token, { kind: 'valid', read: true, token: { issuer: ISSUER, subject: 'alice', clientId: 'cli', expiresAt: now + 300, scopes: ['projects:read'] } });
  t.ok(ok.token.jwks.some((j) => j.includes('success')), 'the JWKS was fetched');
  t.match(ok.outcome, { allow: true, identityHeaders: [['x-auth-subject', 'alice'], ['x-auth-scopes', 'projects:read']] });
  t.match(formatExplanation(ok, { nowS: now }), /expires +\S+ \(in 5m 0s\)/);

  const verifier = createTokenVerifier(config.auth);
  t.teardown(() => verifier.close());
  const real = async (target: string, token: string): Promise<Deny> => {
    const d = await createDecider(config, verifier).decide('GET', target, ['Authorization', `Bearer ${token}`]);
    if (d.allow) throw new Error('expected deny');
    return d;
  };

  const expired = signToken(key, claims(ISSUER, AUD, { iat: now - 600, exp: now - 300 }));
  const ex = await explainRequest(config, { method: 'GET', target: '/orgs/acme/projects', token: expired });
  t.match(ex.token, { kind: 'invalid', code: 'ERR_AUTH_TOKEN_EXPIRED' });
  t.same(ex.decision, await real('/orgs/acme/projects', expired));
  t.match(ex.outcome, { allow: false, deny: { status: 401, reason: 'invalid_token' } });

  const insufficient = signToken(key, claims(ISSUER, AUD, { scope: 'orgs:read' }));
  const ins = await explainRequest(config, { method: 'GET', target: '/orgs/acme/projects', token: insufficient });
  t.same(ins.decision, await real('/orgs/acme/projects', insufficient));
  t.equal(ins.requirement!.satisfied, false);

  // A token on a 404 is still verified and reported, marked as not read.
  const unread = await explainRequest(config, { method: 'GET', target: '/nowhere', token: good });
  t.match(unread.token, { kind: 'valid', read: false, note: /no route/ });

  const down = testConfig({ issuer: ISSUER, jwksUri: UNREACHABLE_JWKS, routes: ROUTES });
  const ku = await explainRequest(down, { method: 'GET', target: '/orgs/acme/projects', token: good });
  t.match(ku.token, { kind: 'invalid', code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
  t.ok(ku.token.jwks.some((j) => j.includes('failure')), 'the failed JWKS fetch is reported');
  if (ku.outcome.allow) throw new Error('expected deny');
  t.same(ku.outcome.response.headers.find(([k]) => k === 'retry-after'), ['retry-after', '1'], 'Retry-After is the configured jwks.cooldown_s (1 s in test configs)');
});

t.test('runExplain: exit codes and usage errors', async (t) => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  };
  const config = 'config/scopegate.yaml';
  let c = io();
  t.equal(await runExplain({ ...c, config, positionals: ['get', '/api/health'] }), 0, 'public route, method upper-cased');
  t.match(c.out.join(''), /scopegate explain {2}GET \/api\/health/);
  c = io();
  t.equal(await runExplain({ ...c, config, positionals: ['GET', '/api/oauth-client/organizations'], scopes: 'projects:read' }), 1);
  t.match(c.out.join(''), /www-authenticate: Bearer realm="scopegate", error="insufficient_scope"/);
  c = io();
  t.equal(await runExplain({ ...c, config, positionals: ['GET'] }), 2);
  t.match(c.err.join(''), /METHOD and PATH are required \(usage error, exit 2\)/);
  c = io();
  t.equal(await runExplain({ ...c, config, positionals: ['GET', '/x'], token: 'a.b.c', scopes: 'x' }), 2);
  t.match(c.err.join(''), /mutually exclusive/);
  c = io();
  t.equal(await runExplainArgv(['GET', '/x', '--bogus'], c), 2);
  c = io();
  t.equal(await runExplain({ ...c, config: 'nope.yaml', positionals: ['GET', '/x'] }), 2);
  t.match(c.err.join(''), /nope\.yaml: file not found/);
  c = io();
  t.equal(await runExplainArgv(['--help'], c), 0);
  t.match(c.out.join(''), /JWKS over the network[\s\S]*timeout_ms/);
  // --token - reads stdin; "Bearer " in front is accepted.
  c = io();
  t.equal(await runExplain({ ...c, config, positionals: ['GET', '/api/health'], token: '-', readStdin: () => 'Bearer abc.def.ghi\n' }), 0);
  t.match(c.out.join(''), /4\. Token: /);
});
