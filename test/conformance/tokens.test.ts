/**
 * Runs the token conformance table through decide() and through plan() (the
 * dispatch the listener and explain call) with keys served by a real JWKS
 * server on 127.0.0.1 — no network mocks. See tokens.cases.ts.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { createDecider } from '../../src/policy/decide.js';
import type { Decision } from '../../src/policy/decision.js';
import { createPlanner, type Action } from '../../src/policy/plan.js';
import { testConfig } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { listen } from '../helpers/listen.js';
import { TOKEN_CASES, type TokenWorld } from './tokens.cases.js';

const ROUTES = [
  'GET /orgs: org:read',
  'GET /me: { auth: token }',
  'GET /reports/:id: { any_of: [reports:read, admin] }',
  'DELETE /projects/:id: { all_of: [projects:write, projects:admin] }',
  'GET /h: a:b:c',
  'GET /h2: a:b',
  'GET /h3: a:bc',
];

/** One implementation under test: a dispatch over (method, target, rawHeaders). */
type Dispatch = (method: string, target: string, rawHeaders: readonly string[]) => Promise<Decision | Action>;

for (const through of ['decide()', 'plan()'] as const) t.test(`token conformance through ${through}`, async (t) => {
  const rsa = generateKey('rsa');
  const rsaPss = generateKey('rsa', { alg: 'PS256' });
  const p256 = generateKey('p256');
  const ed = generateKey('ed25519');
  const p384 = generateKey('p384');
  const attacker = generateKey('rsa');
  const jwks = await startJwksServer({ keys: [rsa, rsaPss, p256, ed, p384].map((k) => jwkOf(k)) });
  let trapHits = 0;
  const trap = await listen(
    createServer((_req, res) => {
      trapHits++;
      res.end('{}');
    }),
  );
  t.teardown(async () => {
    await jwks.close();
    await trap.close();
  });

  const issuer = 'https://idp.test/';
  const make = (scopeMatching: 'exact' | 'hierarchical') => {
    const config = testConfig({ issuer, jwksUri: jwks.jwksUri, scopeMatching, routes: ROUTES, authExtra: '  token_cache_size: 0' });
    const verifier = createTokenVerifier(config.auth);
    const decider = createDecider(config, verifier);
    const planner = createPlanner(config, verifier);
    const dispatch: Dispatch =
      through === 'decide()'
        ? async (method, target, rawHeaders) => decider.decide(method, target, rawHeaders)
        : async (method, target, rawHeaders) => planner.plan({ method, url: target, rawHeaders, headers: { host: 'api.test' }, httpVersionMajor: 1, httpVersionMinor: 1 });
    return { verifier, dispatch };
  };
  const exact = make('exact');
  const hierarchical = make('hierarchical');
  await Promise.all([exact.verifier.start(), hierarchical.verifier.start()]);
  t.teardown(() => Promise.all([exact.verifier.close(), hierarchical.verifier.close()]));
  t.ok(exact.verifier.ready(), 'keys loaded from the live JWKS server');

  const world: TokenWorld = { iss: issuer, aud: 'https://api.example.com', rsa, rsaPss, p256, ed, p384, attacker, trap: trap.url };
  t.ok(TOKEN_CASES.length >= 50, `${TOKEN_CASES.length} cases`);

  for (const c of TOKEN_CASES) {
    const { dispatch } = c.hierarchical === true ? hierarchical : exact;
    const raw: string[] = ['Host', 'api.test'];
    for (const [name, value] of c.headers(world)) raw.push(name, value);
    const action = await dispatch(c.method ?? 'GET', (c.path ?? '/orgs') + (c.query ?? ''), raw);
    if (action.kind === 'discovery' || action.kind === 'preflight' || action.kind === 'upgrade') {
      t.fail(c.name, { expected: c.expect, got: action.kind });
      continue;
    }
    const decision: Decision = action;
    const e = c.expect;
    if ('allow' in e) {
      if (!decision.allow) {
        t.fail(c.name, { expected: 'allow', got: { status: decision.status, reason: decision.reason, code: decision.code, description: decision.description } });
        continue;
      }
      if (e.scopes !== undefined) t.same(decision.token?.scopes, e.scopes, `${c.name}: granted scopes`);
      else t.pass(c.name);
    } else if (decision.allow) {
      t.fail(c.name, { expected: e, got: 'allow' });
    } else {
      const got = { status: decision.status, reason: decision.reason, ...(e.code === undefined ? {} : { code: decision.code }) };
      t.same(got, e, c.name);
    }
  }
  t.equal(trapHits, 0, 'jku / x5u targets never contacted');
});
