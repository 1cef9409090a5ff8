/**
 * `explain --token T --dpop PROOF`: each proof check and its outcome, read off the
 * server's own plan() with real jose-minted proofs and a real JWKS.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DPOP_CHECKS } from '../../../src/auth/dpop.js';
import { run as runExplainArgv } from '../../../src/commands/explain.js';
import { DPOP_CHECK_STEPS } from '../../../src/explain/dpop.js';
import { explainRequest } from '../../../src/explain/explain.js';
import { formatExplanation } from '../../../src/explain/format.js';
import { testConfig, testConfigYaml } from '../../helpers/config.js';
import { mintProof, proofKey } from '../../helpers/dpop.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { claims, signToken } from '../../helpers/tokens.js';

const ISSUER = 'https://idp.explain-dpop.test/';
const AUD = 'https://api.example.com';
const ORIGIN = 'https://api.example.com';

t.test('the check steps cover every DPoP refusal code, in the order the verifier runs them', async (t) => {
  t.same(DPOP_CHECK_STEPS.flatMap((s) => s.codes), DPOP_CHECKS);
});

t.test('explain --dpop shows each proof check and its outcome', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const config = testConfig({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ['GET /orgs/:org: org:read', 'GET /admin: admin'], authExtra: `  dpop:\n    origins: [${ORIGIN}]\n` });
  const es = await proofKey('ES256');
  const token = signToken(key, claims(ISSUER, AUD, { scope: 'org:read', cnf: { jkt: es.jkt } }));
  const explain = (proof: string, target = '/orgs/acme') => explainRequest(config, { method: 'GET', target, token, dpop: proof });
  const outcomes = (e: Awaited<ReturnType<typeof explain>>) => e.dpop?.checks.map((c) => c.outcome);

  const good = await explain(await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/orgs/acme`, token }));
  t.equal(good.outcome.allow, true, 'a valid proof: allowed');
  t.same(outcomes(good), DPOP_CHECK_STEPS.map(() => 'passed'), 'every check passed');
  t.match(good.dpop?.proof, { header: { typ: 'dpop+jwt', alg: 'ES256' }, claims: { htm: 'GET', htu: `${ORIGIN}/orgs/acme` } });

  const wrongPath = await explain(await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/orgs/other`, token }));
  t.match(wrongPath.outcome, { allow: false, deny: { status: 401, reason: 'invalid_dpop_proof', code: 'ERR_AUTH_DPOP_HTU' } });
  const htuAt = DPOP_CHECK_STEPS.findIndex((s) => s.codes.includes('ERR_AUTH_DPOP_HTU'));
  const checks = wrongPath.dpop?.checks ?? [];
  t.ok(checks.slice(0, htuAt).every((c) => c.outcome === 'passed'), 'the checks before htu passed');
  t.match(checks[htuAt], { outcome: 'failed', detail: /^ERR_AUTH_DPOP_HTU: / });
  t.ok(checks.slice(htuAt + 1).every((c) => c.outcome === 'not_reached'), 'the ones after were not reached');
  const text = formatExplanation(wrongPath);
  t.match(text, /DPoP proof \(--dpop\), checked in this order:/);
  t.match(text, /htu is an auth\.dpop origin \+ the request path +✗ failed {2}ERR_AUTH_DPOP_HTU/);
  t.match(text, /signature by that jwk +✓ passed/);
  t.match(text, /jti not seen before \(replay cache\) +- not reached/);

  const noAth = await explain(await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/orgs/acme`, token, ath: undefined }));
  t.match(noAth.dpop?.checks.find((c) => c.outcome === 'failed'), { check: 'ath is the access token hash', detail: /ERR_AUTH_DPOP_ATH_MISSING/ });

  const scopeDenied = await explain(await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/admin`, token }), '/admin');
  t.match(scopeDenied.outcome, { allow: false, deny: { status: 403 } });
  t.same(outcomes(scopeDenied), DPOP_CHECK_STEPS.map(() => 'passed'), 'a 403 comes after the proof: it passed');

  const unbound = signToken(key, claims(ISSUER, AUD, { scope: 'org:read' }));
  const refusedFirst = await explainRequest(config, { method: 'GET', target: '/orgs/acme', token: unbound, dpop: await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/orgs/acme`, token: unbound }) });
  t.same(refusedFirst.dpop?.checks, []);
  t.match(refusedFirst.dpop?.notChecked, /refused before the proof \(ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN\)/);
});

t.test('the --dpop option: needs --token; prints the checks; exit 1 on a failed proof, 0 on a good one', async (t) => {
  const lines = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  };
  const usage = lines();
  t.equal(await runExplainArgv(['--config', 'config/scopegate.yaml', 'GET', '/x', '--dpop', 'a.b.c'], usage), 2);
  t.match(usage.err.join(''), /--dpop needs --token/);

  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-explain-dpop-'));
  t.teardown(async () => {
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'scopegate.yaml');
  writeFileSync(file, testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ['GET /orgs/:org: org:read'], authExtra: `  dpop:\n    origins: [${ORIGIN}]\n` }));
  const es = await proofKey('EdDSA');
  const token = signToken(key, claims(ISSUER, AUD, { scope: 'org:read', cnf: { jkt: es.jkt } }));
  const ok = lines();
  t.equal(await runExplainArgv(['--config', file, 'GET', '/orgs/acme', '--token', token, '--dpop', await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/orgs/acme`, token })], ok), 0);
  t.match(ok.out.join(''), /jwk thumbprint is the token cnf\.jkt +✓ passed/);
  const bad = lines();
  t.equal(await runExplainArgv(['--config', file, 'GET', '/orgs/acme', '--token', token, '--dpop', await mintProof(es, { htm: 'POST', htu: `${ORIGIN}/orgs/acme`, token })], bad), 1);
  t.match(bad.out.join(''), /htm is the request method +✗ failed {2}ERR_AUTH_DPOP_HTM/);
  t.match(bad.out.join(''), /WWW-Authenticate: DPoP error="invalid_dpop_proof"/i);
});
