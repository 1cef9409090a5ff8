/**
 * `scopegate check --online` against real loopback IdPs: a JWKS and a metadata
 * document served over HTTP on 127.0.0.1 (README, `scopegate check --online`).
 * In-process through the command's run(), and once through the built CLI.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/commands/check.js';
import { testConfigYaml, type TestConfigOptions } from '../helpers/config.js';
import { startIdpServer, type IdpServer } from '../helpers/idp-server.js';
import { generateKey, jwksOf } from '../helpers/keys.js';
import { CLI } from '../helpers/sidecar.js';

const AUDIENCE = 'https://api.scopegate.test';
const ROUTES = ['GET /reports/:id: reports:read', 'POST /reports: reports:write', 'GET /health: { auth: none }'];
const OIDC = '/.well-known/openid-configuration';

interface Result {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const dir = mkdtempSync(join(tmpdir(), 'scopegate-check-online-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A config file for `o`; `edit` changes its YAML text (e.g. a shorter timeout). */
function configFile(o: Omit<TestConfigOptions, 'routes'> & { routes?: readonly string[] }, edit = (yaml: string): string => yaml): string {
  const file = join(dir, `c${++files}.yaml`);
  writeFileSync(file, edit(testConfigYaml({ audiences: [AUDIENCE], routes: ROUTES, ...o })));
  return file;
}

async function check(file: string, online = true): Promise<Result> {
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
  const code = await run([file, ...(online ? ['--online'] : [])], io);
  return { code, out, err };
}

async function idp(t: Test): Promise<IdpServer> {
  const server = await startIdpServer(jwksOf(generateKey('p256')));
  t.teardown(() => server.close());
  return server;
}

t.test('a consistent IdP: every finding ok, exit 0', async (t) => {
  const s = await idp(t);
  const issuer = `${s.url}/`;
  s.serve(OIDC, { issuer, jwks_uri: s.jwksUri, scopes_supported: ['openid', 'reports:read', 'reports:write'] });
  const r = await check(configFile({ issuer, jwksUri: s.jwksUri }));
  t.equal(r.code, 0, r.out + r.err);
  t.match(r.out, /^ok +http:\/\/127\.0\.0\.1:\d+\/: jwks http:\/\/127\.0\.0\.1:\d+\/jwks\.json: 1 keys$/m);
  t.match(r.out, /^ok +.*metadata .*\/\.well-known\/openid-configuration: issuer matches$/m);
  t.match(r.out, /all 2 required scope\(s\) in scopes_supported/);
  t.match(r.out, /online: 0 error\(s\), 0 warning\(s\)\n$/);
  t.same(s.paths.slice().sort(), ['/.well-known/openid-configuration', '/jwks.json'], 'one fetch each, the first metadata form answered');
});

t.test('offline check fetches nothing', async (t) => {
  const s = await idp(t);
  const r = await check(configFile({ issuer: `${s.url}/`, jwksUri: s.jwksUri }), false);
  t.equal(r.code, 0);
  t.notMatch(r.out, /online:|jwks/);
  t.same(s.paths, [], 'no request reached the IdP');
});

t.test('a metadata issuer off by a trailing slash is an error that says so', async (t) => {
  const s = await idp(t);
  s.serve(OIDC, { issuer: s.url, jwks_uri: s.jwksUri });
  const r = await check(configFile({ issuer: `${s.url}/`, jwksUri: s.jwksUri }));
  t.equal(r.code, 1);
  t.match(r.out, new RegExp(`^error +.*issuer "${s.url}" differs from the configured issuer "${s.url}/" only by a trailing slash`, 'm'));
  t.match(r.out, /no scopes_supported published/);
  t.match(r.out, /online: 1 error\(s\)/);
});

t.test('a metadata issuer that differs otherwise: an error without the trailing-slash note', async (t) => {
  const s = await idp(t);
  s.serve(OIDC, { issuer: 'https://other-idp.scopegate.test/', jwks_uri: s.jwksUri });
  const r = await check(configFile({ issuer: `${s.url}/`, jwksUri: s.jwksUri }));
  t.equal(r.code, 1);
  t.match(r.out, /issuer "https:\/\/other-idp\.scopegate\.test\/" differs from the configured issuer/);
  t.notMatch(r.out, /trailing slash/);
});

t.test('an issuer with a path: RFC 8414 §3.1 inserts the well-known part before the path', async (t) => {
  const s = await idp(t);
  const issuer = `${s.url}/tenants/acme`;
  s.serve('/.well-known/oauth-authorization-server/tenants/acme', { issuer, jwks_uri: s.jwksUri, scopes_supported: ['reports:read'] });
  const r = await check(configFile({ issuer, jwksUri: s.jwksUri }));
  t.equal(r.code, 0, 'a scope absent from scopes_supported is a warning');
  t.match(r.out, /metadata .*\/\.well-known\/oauth-authorization-server\/tenants\/acme: issuer matches/);
  t.match(r.out, /^warning +.*required scopes absent from scopes_supported: reports:write$/m);
  t.ok(s.paths.indexOf('/tenants/acme/.well-known/openid-configuration') < s.paths.indexOf('/.well-known/oauth-authorization-server/tenants/acme'), 'OIDC form tried first, then RFC 8414');
});

t.test('hierarchical matching: a listed parent scope covers a required child', async (t) => {
  const s = await idp(t);
  const issuer = `${s.url}/`;
  s.serve(OIDC, { issuer, jwks_uri: s.jwksUri, scopes_supported: ['reports'] });
  const r = await check(configFile({ issuer, jwksUri: s.jwksUri, scopeMatching: 'hierarchical' }));
  t.equal(r.code, 0);
  t.match(r.out, /all 2 required scope\(s\) in scopes_supported/);
});

t.test('an unreachable or unusable JWKS is an error; no metadata is only a note', async (t) => {
  const s = await idp(t);
  const gone = await check(configFile({ issuer: `${s.url}/`, jwksUri: `${s.url}/missing-jwks.json` }));
  t.equal(gone.code, 1);
  t.match(gone.out, /^error +.*jwks http:\/\/127\.0\.0\.1:\d+\/missing-jwks\.json: unreachable: HTTP 404$/m);
  t.match(gone.out, /^note +.*no metadata published at .*openid-configuration or .*oauth-authorization-server \(optional\)$/m);

  s.serve('/empty.json', { keys: [] });
  const empty = await check(configFile({ issuer: `${s.url}/`, jwksUri: `${s.url}/empty.json` }));
  t.equal(empty.code, 1);
  t.match(empty.out, /jwks .*empty\.json: reachable but not usable: no usable keys/);
});

t.test('timeouts bound every fetch: a hanging JWKS is an error, a hanging metadata endpoint a warning', async (t) => {
  const s = await idp(t);
  s.hang('/slow-jwks.json');
  s.hang(OIDC);
  const file = configFile({ issuer: `${s.url}/`, jwksUri: `${s.url}/slow-jwks.json` }, (y) => y.replace('timeout_ms: 2000', 'timeout_ms: 300'));
  const started = Date.now();
  const r = await check(file);
  t.ok(Date.now() - started < 3000, `done in ${Date.now() - started} ms`);
  t.equal(r.code, 1);
  t.match(r.out, /^error +.*slow-jwks\.json: unreachable: no complete answer within 300 ms$/m);
  t.match(r.out, /^warning +.*openid-configuration: could not be read: no complete answer within 300 ms$/m);
});

t.test('placeholder hosts: issuer and jwks_uri are errors and not fetched, an audience a warning', async (t) => {
  const r = await check(configFile({ issuer: 'https://idp.example.com/', jwksUri: 'https://keys.example.org/jwks.json', audiences: ['https://api.example.net'] }));
  t.equal(r.code, 1);
  t.match(r.out, /^error +https:\/\/idp\.example\.com\/: issuer host idp\.example\.com is a documentation placeholder/m);
  t.match(r.out, /^error +.*jwks_uri host keys\.example\.org is a documentation placeholder/m);
  t.match(r.out, /^warning +.*audience "https:\/\/api\.example\.net" names a documentation placeholder host/m);
  t.notMatch(r.out, /unreachable|\/\.well-known|keys$/m, 'nothing was fetched');
  t.match(r.out, /online: 2 error\(s\), 1 warning\(s\)/);
});

t.test('through the built CLI: the flag is accepted and the exit code is the findings', async (t) => {
  const s = await idp(t);
  s.serve(OIDC, { issuer: s.url, jwks_uri: s.jwksUri });
  const file = configFile({ issuer: `${s.url}/`, jwksUri: s.jwksUri });
  const child = spawn(process.execPath, [CLI, 'check', '--online', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 1, out);
  t.match(out, /only by a trailing slash/);
});
