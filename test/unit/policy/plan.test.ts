/**
 * plan(): the checks before decide() (metadata document, Host, header count) and
 * that every other request gets exactly decide()'s decision.
 */
import t from 'tap';
import type { TokenVerifier, VerifiedToken } from '../../../src/auth/types.js';
import { createDecider } from '../../../src/policy/decide.js';
import { createPlanner, type RequestHead } from '../../../src/policy/plan.js';
import { INVALID_HOST, MISSING_HOST, TOO_MANY_HEADERS } from '../../../src/policy/denials.js';
import { testConfig } from '../../helpers/config.js';
import { nowS } from '../../helpers/tokens.js';

const ROUTES = ['GET /orgs: org:read', 'GET /pub/*: { auth: none }', 'GET /me: { auth: token, respond: token_info }'];
const RESOURCE = 'resource:\n  identifier: https://api.example.com/v1\n';
const config = testConfig({ issuer: 'https://idp.test/', jwksUri: 'http://127.0.0.1:9/jwks', routes: ROUTES, extra: RESOURCE });
const plain = testConfig({ issuer: 'https://idp.test/', jwksUri: 'http://127.0.0.1:9/jwks', routes: ROUTES });

/** A verifier that grants `org:read` to any token: plan() is under test here, not verification. */
function granting(): TokenVerifier {
  const token: VerifiedToken = { issuer: 'x', subject: 's', clientId: undefined, expiresAt: nowS() + 60, scopes: ['org:read'], scopeSet: new Set(['org:read']), scopeHeader: 'org:read', keyId: 'k', issuedAt: undefined };
  return { verify: () => ({ ok: true, token }), ready: () => true, start: async () => {}, close: async () => {}, issuerStates: () => [], cacheStats: () => ({ hits: 0, misses: 0, size: 0 }) };
}

function head(method: string, url: string, extra: readonly string[] = [], version: [number, number] = [1, 1]): RequestHead {
  const rawHeaders = version[1] === 1 ? ['Host', 'api.test', ...extra] : [...extra];
  return { method, url, rawHeaders, headers: version[1] === 1 ? { host: 'api.test' } : {}, httpVersionMajor: version[0], httpVersionMinor: version[1] };
}

t.test('the metadata document is planned before anything else', async (t) => {
  const planner = createPlanner(config, granting());
  const path = '/.well-known/oauth-protected-resource/v1';
  for (const method of ['GET', 'HEAD']) {
    const a = await planner.plan(head(method, `${path}?x=1`));
    t.match(a, { kind: 'discovery', route: path }, `${method} with a query`);
  }
  const noHost = await planner.plan({ method: 'GET', url: path, rawHeaders: [], headers: {}, httpVersionMajor: 1, httpVersionMinor: 1 });
  t.equal(noHost.kind, 'discovery', 'public: no Host needed (as before plan() existed)');
  t.equal((await planner.plan(head('POST', path))).kind, 'deny', 'POST is routed like any request');
  t.equal((await planner.plan(head('GET', `${path}x`))).kind, 'deny', 'a longer path is not the document');
  t.equal(createPlanner(plain, granting()).discovery, undefined, 'no resource section, no document');
  t.equal((await createPlanner(plain, granting()).plan(head('GET', path))).kind, 'deny');
});

t.test('HTTP/1.1 without Host is a 400; HTTP/1.0 needs none', async (t) => {
  const planner = createPlanner(config, granting());
  const missing = await planner.plan({ ...head('GET', '/pub/x'), rawHeaders: [], headers: {} });
  t.equal(missing, MISSING_HOST, 'the shared frozen deny');
  t.match(missing, { kind: 'deny', status: 400, code: 'ERR_REQUEST_MISSING_HOST', description: 'an HTTP/1.1 request needs a Host header' });
  t.match(await planner.plan(head('GET', '/pub/x', [], [1, 0])), { kind: 'forward', route: '/pub/*' });
});

t.test('a Host that is not uri-host[:port] is a 400, on HTTP/1.0 too', async (t) => {
  const planner = createPlanner(config, granting());
  for (const version of [[1, 1], [1, 0]] as const) {
    const bad = await planner.plan({ ...head('GET', '/pub/x', [], [version[0], version[1]]), rawHeaders: ['Host', 'a/b'], headers: { host: 'a/b' } });
    t.equal(bad, INVALID_HOST, 'the shared frozen deny');
    t.match(bad, { kind: 'deny', status: 400, code: 'ERR_REQUEST_INVALID_HOST' });
  }
  t.match(await planner.plan({ ...head('GET', '/pub/x'), rawHeaders: ['Host', '[::1]:80'], headers: { host: '[::1]:80' } }), { kind: 'forward' });
});

t.test('more header lines than limits.max_header_count is a 431', async (t) => {
  const planner = createPlanner(config, granting(), { maxHeaderCount: 3 });
  t.match(await planner.plan(head('GET', '/pub/x', ['a', '1', 'b', '2'])), { kind: 'forward' }, 'Host + 2 = 3 lines: at the limit');
  const over = await planner.plan(head('GET', '/pub/x', ['a', '1', 'b', '2', 'c', '3']));
  t.equal(over, TOO_MANY_HEADERS);
  t.match(over, { status: 431, code: 'ERR_REQUEST_TOO_MANY_HEADERS' });
  const defaults = createPlanner(config, granting());
  const many = Array.from({ length: config.limits.maxHeaderCount }, (_, i) => [`x-${i}`, 'v']).flat();
  t.equal(await defaults.plan(head('GET', '/pub/x', many)), TOO_MANY_HEADERS, 'default: the config limit');
});

t.test('every other request gets decide()’s decision, kind included', async (t) => {
  const verifier = granting();
  const planner = createPlanner(config, verifier);
  const decider = createDecider(config, verifier);
  const bearer = ['Authorization', 'Bearer a.b.c'];
  const cases: [string, string, string[], string][] = [
    ['GET', '/orgs', bearer, 'forward'],
    ['GET', '/orgs', [], 'deny'],
    ['GET', '/me', bearer, 'token_info'],
    ['DELETE', '/orgs', bearer, 'deny'],
    ['GET', '/nowhere', bearer, 'deny'],
    ['GET', '/a/../../b', bearer, 'deny'],
    ['GET', '/orgs?access_token=x', [], 'deny'],
    ['GET', '/pub/x', [], 'forward'],
  ];
  for (const [method, target, extra, kind] of cases) {
    const planned = await planner.plan(head(method, target, extra));
    const decided = await decider.decide(method, target, ['Host', 'api.test', ...extra]);
    t.equal(planned.kind, kind, `${method} ${target}: ${kind}`);
    t.same(planned, decided, `${method} ${target}: decide()'s decision`);
  }
});
