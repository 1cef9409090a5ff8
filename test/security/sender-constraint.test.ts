/**
 * Sender-constrained tokens against the real sidecar (README, Sender-constrained
 * tokens): DPoP proofs minted by jose (RFC 9449) and certificate-bound tokens behind
 * Envoy, Istio and nginx (RFC 8705). Every refusal is a 401 with the exact challenge,
 * and the upstream sees nothing of it.
 */
import { appendFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { makeCertificate, nginxEscape } from '../helpers/certs.js';
import { hmacProof, mintProof, PROOF_ALGS, proofKey, unsignedProof, type ProofKey } from '../helpers/dpop.js';
import { nowS } from '../helpers/tokens.js';
import { req, startWorld, type Probe, type World } from './fixture.js';

const ORIGIN = 'http://scopegate.test';
const ALGS = 'algs="ES256 EdDSA RS256"';
const PROOF_CHALLENGE = `DPoP error="invalid_dpop_proof", ${ALGS}`;
const BINDING_CHALLENGE = `DPoP ${ALGS}`;
const ITEM = '/api/items/1';

function send(w: World, method: string, target: string, lines: readonly string[]): Promise<Probe> {
  return w.probe(req(method, target, lines, ''));
}

/** A 401 with exactly this challenge and error, and nothing forwarded. */
function refused(t: Test, p: Probe, challenge: string, error: string, name: string): void {
  t.equal(p.first?.status, 401, `${name}: 401`);
  t.equal(p.first?.headers['www-authenticate'], challenge, `${name}: challenge`);
  t.equal(p.first?.json?.error, error, `${name}: error`);
  t.equal(p.delta.length, 0, `${name}: upstream count unchanged`);
}

t.test('DPoP (RFC 9449) against the real sidecar', async (t) => {
  const w = await startWorld({
    authExtra: `  dpop:\n    origins: [${ORIGIN}]\n    max_age_s: 60\n`,
    routes: ['GET /api/items/:id: items:read', 'POST /api/items: items:write', 'GET /api/plain: { scope: items:read, sender_constrained: true }'],
  });
  t.teardown(() => w.close());
  const keys = new Map<string, ProofKey>();
  for (const alg of PROOF_ALGS) keys.set(alg, await proofKey(alg));
  const es = keys.get('ES256')!;
  const bound = (key: ProofKey, scope = 'items:read items:write') => w.token(scope, { cnf: { jkt: key.jkt } });

  t.test('ES256, EdDSA and RS256 proofs are accepted; the proof and binding never reach the upstream as identity', async (t) => {
    for (const [alg, key] of keys) {
      const token = bound(key);
      const proof = await mintProof(key, { htm: 'GET', htu: `${ORIGIN}${ITEM}`, token });
      const p = await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`, `DPoP: ${proof}`]);
      t.equal(p.first?.status, 200, `${alg} accepted`);
      t.equal(p.delta.length, 1, `${alg} forwarded once`);
    }
    // htu normalization: default port and host case are ignored (RFC 3986 §6.2.2).
    const token = bound(es);
    const proof = await mintProof(es, { htm: 'POST', htu: 'HTTP://ScopeGate.test:80/api/items', token });
    const p = await send(w, 'POST', '/api/items', [`Authorization: DPoP ${token}`, `DPoP: ${proof}`, 'Content-Length: 0']);
    t.equal(p.first?.status, 200, 'normalized htu accepted');
  });

  t.test('each refusal: 401, the exact challenge, nothing forwarded', async (t) => {
    const token = bound(es);
    const htu = `${ORIGIN}${ITEM}`;
    const other = await proofKey('ES256');
    const dpop = (proof: string) => [`Authorization: DPoP ${token}`, `DPoP: ${proof}`];
    const proofCases: Array<[string, Promise<readonly string[]>]> = [
      ['no proof', Promise.resolve([`Authorization: DPoP ${token}`])],
      ['two proofs', Promise.all([mintProof(es, { htm: 'GET', htu, token }), mintProof(es, { htm: 'GET', htu, token })]).then(([a, b]) => [...dpop(a), `DPoP: ${b}`])],
      ['wrong typ', mintProof(es, { htm: 'GET', htu, token }, { typ: 'JWT' }).then(dpop)],
      ['alg none', unsignedProof(es, { htm: 'GET', htu, token }).then(dpop)],
      ['HS256', hmacProof(es, { htm: 'GET', htu, token }, new Uint8Array(32).fill(7)).then(dpop)],
      ['private jwk', mintProof(es, { htm: 'GET', htu, token }, { jwk: es.privateJwk }).then(dpop)],
      ['foreign signature', mintProof(es, { htm: 'GET', htu, token }, {}, other).then(dpop)],
      ['htm mismatch', mintProof(es, { htm: 'POST', htu, token }).then(dpop)],
      ['htu mismatch', mintProof(es, { htm: 'GET', htu: `${ORIGIN}/api/items/2`, token }).then(dpop)],
      ['htu foreign origin', mintProof(es, { htm: 'GET', htu: `https://evil.example${ITEM}`, token }).then(dpop)],
      ['htu with a query', mintProof(es, { htm: 'GET', htu: `${htu}?x=1`, token }).then(dpop)],
      ['stale iat', mintProof(es, { htm: 'GET', htu, token, iat: nowS() - 600 }).then(dpop)],
      ['future iat', mintProof(es, { htm: 'GET', htu, token, iat: nowS() + 600 }).then(dpop)],
      ['missing jti', mintProof(es, { htm: 'GET', htu, token, jti: undefined }).then(dpop)],
      ['missing ath', mintProof(es, { htm: 'GET', htu, token, ath: undefined }).then(dpop)],
      ['wrong ath', mintProof(es, { htm: 'GET', htu, token, ath: 'A'.repeat(43) }).then(dpop)],
      ['thumbprint is not cnf.jkt', mintProof(other, { htm: 'GET', htu, token }).then(dpop)],
    ];
    for (const [name, lines] of proofCases) refused(t, await send(w, 'GET', ITEM, await lines), PROOF_CHALLENGE, 'invalid_dpop_proof', name);

    const replayed = await mintProof(es, { htm: 'GET', htu, token });
    t.equal((await send(w, 'GET', ITEM, dpop(replayed))).first?.status, 200, 'first use of a proof');
    refused(t, await send(w, 'GET', ITEM, dpop(replayed)), PROOF_CHALLENGE, 'invalid_dpop_proof', 'replayed jti');

    refused(t, await send(w, 'GET', ITEM, [`Authorization: Bearer ${token}`]), BINDING_CHALLENGE, 'invalid_token', 'bound token with Bearer');
    const plain = w.token('items:read');
    const plainProof = await mintProof(es, { htm: 'GET', htu, token: plain });
    refused(t, await send(w, 'GET', ITEM, [`Authorization: DPoP ${plain}`, `DPoP: ${plainProof}`]), BINDING_CHALLENGE, 'invalid_token', 'unbound token with DPoP');
    refused(t, await send(w, 'GET', '/api/plain', [`Authorization: Bearer ${plain}`]), BINDING_CHALLENGE, 'invalid_token', 'plain token on a sender_constrained route');
  });

  t.test('positive control: a plain Bearer token still works where no binding is required', async (t) => {
    const p = await send(w, 'GET', ITEM, [`Authorization: Bearer ${w.token('items:read')}`]);
    t.equal(p.first?.status, 200);
    t.equal(p.delta.length, 1);
  });

  t.test('a binding failure is 401 even when the scope would also fail (never 403)', async (t) => {
    const token = bound(es, 'other:scope');
    refused(t, await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`]), PROOF_CHALLENGE, 'invalid_dpop_proof', 'no proof, wrong scope');
  });

  t.test('the replay cache is a gauge and survives a config reload', async (t) => {
    const token = bound(es);
    const proof = await mintProof(es, { htm: 'GET', htu: `${ORIGIN}${ITEM}`, token });
    t.equal((await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`, `DPoP: ${proof}`])).first?.status, 200, 'first use');
    const metrics = await (await fetch(`${w.sidecar.adminUrl}/metrics`)).text();
    const entries = Number(/^scopegate_dpop_replay_cache_entries (\d+)$/m.exec(metrics)?.[1]);
    t.ok(entries >= 1, `scopegate_dpop_replay_cache_entries ${entries}`);
    t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="invalid_dpop_proof",listener="proxy"\} [1-9]/, 'proof refusals are counted');
    appendFileSync(w.sidecar.configFile, '  GET /api/extra: { auth: none }\n');
    await w.sidecar.waitForLog('config reloaded', 5000);
    refused(t, await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`, `DPoP: ${proof}`]), PROOF_CHALLENGE, 'invalid_dpop_proof', 'replayed after a reload');
  });

  t.test('the verified-token cache never saves the proof check', async (t) => {
    const token = bound(es);
    const ok = await mintProof(es, { htm: 'GET', htu: `${ORIGIN}${ITEM}`, token });
    t.equal((await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`, `DPoP: ${ok}`])).first?.status, 200, 'valid DPoP request (token now cached)');
    refused(t, await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`]), PROOF_CHALLENGE, 'invalid_dpop_proof', 'same token, no proof');
    const otherPath = await mintProof(es, { htm: 'GET', htu: `${ORIGIN}/api/items/9`, token });
    refused(t, await send(w, 'GET', ITEM, [`Authorization: DPoP ${token}`, `DPoP: ${otherPath}`]), PROOF_CHALLENGE, 'invalid_dpop_proof', "same token, another path's proof");
  });
});

const client = makeCertificate('client');
const stranger = makeCertificate('stranger');

async function mtlsWorld(t: Test, header: string, format: 'xfcc' | 'pem'): Promise<World> {
  const w = await startWorld({ authExtra: `  mtls:\n    cert_header: ${header}\n    cert_header_format: ${format}\n`, routes: ['GET /api/items/:id: items:read'] });
  t.teardown(() => w.close());
  return w;
}

t.test('certificate-bound tokens (RFC 8705) behind Envoy, Istio and nginx', async (t) => {
  const xfcc = await mtlsWorld(t, 'x-forwarded-client-cert', 'xfcc');
  const pem = await mtlsWorld(t, 'x-ssl-client-cert', 'pem');
  const envoy = (c: { hex: string }) => `x-forwarded-client-cert: By=spiffe://cluster.local/ns/a/sa/api;Hash=${c.hex}`;
  const istio = (c: { hex: string }) =>
    `x-forwarded-client-cert: By=spiffe://cluster.local/ns/x/sa/edge;Hash=${'0'.repeat(64)},By=spiffe://cluster.local/ns/a/sa/api;Hash=${c.hex};Subject="CN=client,O=Example";URI=spiffe://cluster.local/ns/b/sa/client`;
  const nginx = (c: { pem: string }) => `x-ssl-client-cert: ${nginxEscape(c.pem)}`;
  const cases: Array<[string, World, (c: { hex: string; pem: string }) => string, string]> = [
    ['Envoy XFCC (hex Hash)', xfcc, envoy, 'x-forwarded-client-cert'],
    ['Istio multi-element, multi-field XFCC', xfcc, istio, 'x-forwarded-client-cert'],
    ['nginx URL-encoded PEM', pem, nginx, 'x-ssl-client-cert'],
  ];
  for (const [name, w, line, headerName] of cases) {
    const token = w.token('items:read', { cnf: { 'x5t#S256': client.x5t } });
    const auth = `Authorization: Bearer ${token}`;
    const ok = await send(w, 'GET', ITEM, [auth, line(client)]);
    t.equal(ok.first?.status, 200, `${name}: the bound certificate is accepted`);
    t.equal(ok.delta.length, 1, `${name}: forwarded`);
    t.equal(ok.delta[0]?.headers[headerName], undefined, `${name}: the certificate header never reaches the upstream`);
    refused(t, await send(w, 'GET', ITEM, [auth, line(stranger)]), `Bearer realm="scopegate", error="invalid_token", error_description="The access token is bound to another client certificate"`, 'invalid_token', `${name}: another certificate`);
    refused(t, await send(w, 'GET', ITEM, [auth]), `Bearer realm="scopegate", error="invalid_token", error_description="The access token is certificate-bound and no client certificate was presented"`, 'invalid_token', `${name}: no certificate`);
  }
  // A plain token still passes, and a client-sent certificate header is stripped on it too.
  const plain = await send(xfcc, 'GET', ITEM, [`Authorization: Bearer ${xfcc.token('items:read')}`, envoy(stranger)]);
  t.equal(plain.first?.status, 200);
  t.equal(plain.delta[0]?.headers['x-forwarded-client-cert'], undefined, 'stripped on every forward');
});
