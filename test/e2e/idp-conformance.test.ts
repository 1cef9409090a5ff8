/**
 * Tokens from real identity providers, end to end (README, "Identity providers"): for
 * each IdP the README's own config (config/examples/idp/*.yaml, with only jwks_uri and
 * the upstream pointed at loopback servers) in front of a real upstream, and tokens
 * minted exactly as that IdP issues them (idp-cases.ts).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, type Reply } from '../helpers/http.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey } from '../helpers/keys.js';
import { CLI, startSidecar } from '../helpers/sidecar.js';
import { signRaw, type Json } from '../helpers/tokens.js';
import { startUpstream } from '../helpers/upstream.js';
import { idpRows, rfc9068Claims, type Minted } from './idp-cases.js';

const EXAMPLES = new URL('../../config/examples/idp/', import.meta.url);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('every IdP row: allowed, lacking, negative twins', async (t) => {
  const rsa = generateKey('rsa', { kid: 'idp-rsa' });
  const ec = generateKey('p256', { kid: 'idp-ec' });
  // Refused at import (RSA below 2048 bits): a token it signed must find no key.
  const weak = generateKey('rsa', { kid: 'weak-1024', rsaBits: 1024 });
  const jwks = await startJwksServer({ keys: [rsa.jwk, ec.jwk, weak.jwk] });
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    await jwks.close();
  });

  for (const keyKind of ['rsa', 'p256'] as const) {
    const key = keyKind === 'rsa' ? rsa : ec;
    for (const row of idpRows(key).filter((r) => r.keyKind === keyKind)) {
      await t.test(row.file, async (t) => {
        const text = readFileSync(new URL(`${row.file}.yaml`, EXAMPLES), 'utf8');
        t.ok(README.includes(text), 'the README shows this config verbatim');
        const yaml = text.replace(/jwks_uri: \S+/g, `jwks_uri: ${jwks.url}/${row.file}`).replace('url: http://127.0.0.1:3000', `url: ${upstream.url}`);
        const fetchesBefore = jwks.requests;
        const sidecar = await startSidecar(`${yaml}listen: 0\nadmin_listen: 0\n`);
        t.teardown(() => sidecar.stop());
        const get = (m: Minted): Promise<Reply> => {
          const signer = m.key === 'weak' ? weak : key;
          const token = signRaw(m.header as Json, m.payload as Json, signer.privateKey, String(m.header.alg));
          return send(sidecar.url, m.path ?? row.path, { headers: { authorization: `Bearer ${token}` } });
        };

        for (const [i, m] of row.allowed.entries()) {
          const before = upstream.count;
          const res = await get(m);
          t.equal(res.status, 200, `${m.name}: ${res.body}`);
          t.equal(upstream.count, before + 1, `${m.name}: forwarded`);
          const seen = upstream.requests[upstream.requests.length - 1];
          if (i === 0) {
            t.equal(seen?.headers['x-auth-subject'], row.subject, 'subject header');
            t.match(seen?.headers['x-auth-scopes'] ?? '', row.scopes, 'scopes header');
          }
        }
        // Issuers that share a jwks_uri share one key store: one fetch for all of them.
        const uris = new Set([...text.matchAll(/jwks_uri: (\S+)/g)].map((m) => m[1]));
        t.equal(jwks.requests - fetchesBefore, uris.size, `one JWKS fetch per distinct jwks_uri (${uris.size})`);
        const before = upstream.count;
        const lacking = await get(row.lacking);
        t.equal(lacking.status, 403, `${row.lacking.name}: ${lacking.body}`);
        t.equal(lacking.json().error, row.lackingError);
        for (const twin of row.twins) {
          const res = await get(twin);
          t.equal(res.status, 401, `${twin.name}: ${res.body}`);
          t.match(res.headers['www-authenticate'], /^Bearer .*error="invalid_token"/, twin.name);
        }
        t.equal(upstream.count, before, 'no refused token reached the upstream');
      });
    }
  }
});

t.test('where: conditions on the RFC 9068 example', async (t) => {
  const ec = generateKey('p256', { kid: 'where-ec' });
  const jwks = await startJwksServer({ keys: [ec.jwk] });
  const upstream = await startUpstream();
  const text = readFileSync(new URL('rfc9068.yaml', EXAMPLES), 'utf8');
  const yaml = text.replace(/jwks_uri: \S+/g, `jwks_uri: ${jwks.jwksUri}`).replace('url: http://127.0.0.1:3000', `url: ${upstream.url}`);
  const sidecar = await startSidecar(`${yaml}listen: 0\nadmin_listen: 0\n`);
  t.teardown(async () => {
    await sidecar.stop();
    await upstream.close();
    await jwks.close();
  });
  const get = (path: string, extra: Json = {}): Promise<Reply> => {
    const token = signRaw({ typ: 'at+jwt', alg: 'ES256', kid: ec.kid }, rfc9068Claims(extra), ec.privateKey, 'ES256');
    return send(sidecar.url, path, { headers: { authorization: `Bearer ${token}` } });
  };
  const allowed = async (path: string, extra: Json = {}): Promise<void> => {
    const before = upstream.count;
    const res = await get(path, extra);
    t.equal(res.status, 200, `${path}: ${res.body}`);
    t.equal(upstream.count, before + 1);
  };
  const mismatch = async (path: string, extra: Json = {}): Promise<void> => {
    const before = upstream.count;
    const res = await get(path, extra);
    t.equal(res.status, 403, `${path}: ${res.body}`);
    t.same(res.json(), { error: 'access_denied', error_description: 'the token does not grant access to this object' });
    t.equal(res.headers['www-authenticate'], 'Bearer realm="scopegate"', 'no error code: more scope would not help');
    t.equal(upstream.count, before, 'not forwarded');
  };
  await allowed('/orgs/acme/projects');
  await mismatch('/orgs/globex/projects');
  await allowed('/orgs/acme%20corp/projects', { org_id: 'acme corp' });
  await mismatch('/orgs/acme%20corp/projects', { org_id: 'acme%20corp' });
  await allowed('/users/alice/profile');
  await mismatch('/users/bob/profile');
  await allowed('/teams/green/docs');
  await mismatch('/teams/red/docs');
  await mismatch('/teams/blue/docs', { ext: { teams: 'blue green' } });
  await mismatch('/orgs/acme/projects', { org_id: ['acme', 1] });
  const noScope = await get('/orgs/globex/projects', { scope: 'orders:read' });
  t.equal(noScope.status, 403);
  t.equal(noScope.json().error, 'insufficient_scope', 'the scope check comes first');
  const lines = await sidecar.waitForLogs('request', 11);
  t.ok(lines.some((l) => l['reason'] === 'claim_mismatch' && l['code'] === 'ERR_AUTH_CLAIM_MISMATCH'), 'decision reason claim_mismatch');
});

t.test('check: conditions and issuers refused with their positions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-idp-'));
  const check = (name: string, yaml: string): { status: number | null; out: string } => {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    const r = spawnSync(process.execPath, [CLI, 'check', '--config', file], { encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const head = 'upstream:\n  url: http://127.0.0.1:3000\nauth:\n  issuers:\n';
  const where = check('where.yaml', `${head}    - issuer: https://as.example.com/\n      jwks_uri: https://as.example.com/jwks\n      audiences: [api]\nroutes:\n  GET /orgs/:orgId: { scope: a, where: { org: { claim: org_id } } }\n`);
  t.equal(where.status, 1);
  t.match(where.out, /where\.yaml:9:42: routes\."GET \/orgs\/:orgId"\.where\.org: names no parameter of this route: its parameters are :orgId/);
  const neither = check('neither.yaml', `${head}    - issuer: https://as.example.com/\n      jwks_uri: https://as.example.com/jwks\nroutes:\n  GET /a: a\n`);
  t.equal(neither.status, 1);
  t.match(neither.out, /neither\.yaml:5:7: auth\.issuers\[0\]: needs audiences or client_ids \(or both\)/);
  const tid = check('tid.yaml', `${head}    - issuer: https://login.microsoftonline.com/{tid}/v2.0\n      jwks_uri: https://login.microsoftonline.com/common/discovery/v2.0/keys\n      audiences: [api]\nroutes:\n  GET /a: a\n`);
  t.equal(tid.status, 1);
  t.match(tid.out, /tid\.yaml:5:7: auth\.issuers\[0\]: missing required key "tenants"/);
});
