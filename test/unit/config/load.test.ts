import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { loadConfigFile, loadConfigText, readConfigFile } from '../../../src/config/load.js';
import { DEFAULTS, HTTP_METHODS, type Config } from '../../../src/config/schema.js';
import { ConfigError, formatConfigIssue } from '../../../src/errors.js';

const fixtures = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const bundled = fileURLToPath(new URL('../../../config/scopegate.yaml', import.meta.url));

const BASE = `upstream:
  url: http://127.0.0.1:3000
auth:
  issuers:
    - issuer: https://idp.example.com/
      jwks_uri: https://idp.example.com/.well-known/jwks.json
      audiences: [https://api.example.com]
`;

/** BASE plus extra top-level YAML and a routes block. */
function yaml(extra: string, routes = '  GET /a: a:read\n'): string {
  return `${BASE}${extra}routes:\n${routes}`;
}

function load(text: string): Config {
  const { config, issues } = loadConfigText(text, 'test.yaml');
  if (config === undefined) throw new Error(`expected a config, got:\n${issues.map(formatConfigIssue).join('\n')}`);
  return config;
}

function errors(text: string): string[] {
  const { config, issues } = loadConfigText(text, 'test.yaml');
  if (config !== undefined) throw new Error('expected the config to be rejected');
  return issues.filter((i) => i.severity === 'error').map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
}

t.test('the bundled config/scopegate.yaml loads with zero issues', async (t) => {
  const result = readConfigFile(bundled);
  t.same(result.issues.map(formatConfigIssue), []);
  const config = result.config;
  if (config === undefined) return t.fail('no config');
  t.same(config.listen, { host: '127.0.0.1', port: 8080 });
  t.same(config.adminListen, { host: '127.0.0.1', port: 9090 });
  t.equal(config.upstream?.url, 'http://127.0.0.1:3000');
  t.same(config.auth.issuers, [
    {
      issuer: 'http://127.0.0.1:8788/',
      jwksUri: 'http://127.0.0.1:8788/.well-known/jwks.json',
      audiences: ['https://api.example.com'],
      algorithms: ['RS256', 'ES256'],
      readiness: 'required',
      clientIds: [],
      requireClaims: {},
    },
  ]);
  t.same(config.identityHeaders, { subject: 'x-auth-subject', scopes: 'x-auth-scopes' });
  t.same(
    config.routes.map((r) => [r.methods.join(','), r.path, r.requirement]),
    [
      ['GET', '/api/health', { kind: 'none' }],
      ['GET', '/api/oauth-client/me', { kind: 'token' }],
      ['GET', '/api/oauth-client/organizations', { kind: 'all_of', scopes: ['org:read'] }],
      ['GET', '/api/oauth-client/organizations/:orgId/projects', { kind: 'all_of', scopes: ['projects:read'] }],
      ['GET', '/api/oauth-client/organizations/:orgSlug/projects/:projectSlug/models', { kind: 'all_of', scopes: ['content:read'] }],
      ['POST', '/api/oauth-client/v1/projects', { kind: 'all_of', scopes: ['projects:write'] }],
      ['GET', '/api/oauth-client/v1/projects/:projectId', { kind: 'all_of', scopes: ['projects:read'] }],
      ['POST', '/api/oauth-client/v1/projects/:projectId/languages', { kind: 'all_of', scopes: ['projects:write'] }],
    ],
  );
});

t.test('omitted options take DEFAULTS', async (t) => {
  const config = load(readFileSync(join(fixtures, 'valid/minimal.yaml'), 'utf8'));
  t.same(config.listen, DEFAULTS.listen);
  t.same(config.adminListen, DEFAULTS.adminListen);
  t.same(config.upstream, { url: 'http://127.0.0.1:3000', ...DEFAULTS.upstream });
  const { issuers, introspection, ...auth } = config.auth;
  const { algorithms, introspection: _introspectionDefaults, dpop, ...authDefaults } = DEFAULTS.auth;
  t.same(auth, authDefaults);
  t.equal(introspection, undefined, 'no introspection unless configured');
  t.equal(auth.dpop, undefined, 'auth.dpop is off unless written; its defaults apply inside a written section');
  t.same(dpop, { algorithms: ['ES256', 'EdDSA', 'RS256'], maxAgeS: 60 });
  t.same(issuers[0]?.algorithms, algorithms);
  t.same(config.identityHeaders, {});
  t.equal(config.unmatched, 'deny');
  t.same(config.limits, DEFAULTS.limits);
  t.same(config.routes[0], {
    key: 'GET /a',
    methods: ['GET'],
    anyMethod: false,
    path: '/a',
    requirement: { kind: 'all_of', scopes: ['a:read'] },
    position: { file: 'test.yaml', line: 10, col: 3 },
  });
});

t.test('every option is read (snake_case → camelCase)', async (t) => {
  const config = load(readFileSync(join(fixtures, 'valid/full.yaml'), 'utf8'));
  t.same(config.listen, { host: '0.0.0.0', port: 8443 });
  t.same(config.adminListen, { host: '127.0.0.1', port: 9100 });
  t.same(config.upstream, {
    url: 'https://api.internal.example:8443',
    timeoutMs: 60000,
    connectTimeoutMs: 2000,
    connections: 64,
    keepAliveTimeoutMs: 3000,
  });
  t.same(config.auth.issuers[0]?.algorithms, ['ES256', 'EdDSA', 'PS512']);
  t.equal(config.auth.issuers[0]?.readiness, 'optional');
  t.equal(config.auth.issuers[1]?.readiness, 'required', 'readiness defaults to required');
  t.same(config.logging, { level: 'warn', access: false, bufferBytes: 1048576, fields: ['client_id', 'sub', 'jti'] });
  t.same(config.auth.issuers[1]?.algorithms, ['RS256'], 'per-issuer default');
  t.equal(config.auth.clockSkewS, 0);
  t.same(config.auth.scopeClaims, ['scp']);
  t.equal(config.auth.scopeMatching, 'hierarchical');
  t.same(config.auth.jwks, { maxAgeS: 3600, cooldownS: 30, timeoutMs: 2000, maxBytes: 65536 });
  t.equal(config.auth.maxTokenBytes, 4096);
  t.equal(config.auth.tokenCacheSize, 0);
  t.equal(config.auth.realm, 'My API');
  t.same(config.identityHeaders, { subject: 'x-user', scopes: 'x-user-scopes' }, 'header names are lower-cased');
  t.same(config.limits, {
    maxHeaderBytes: 32768,
    maxHeaderCount: 50,
    maxPathBytes: 4096,
    maxPathSegments: 32,
    headersTimeoutMs: 5000,
    requestTimeoutMs: 0,
    keepAliveTimeoutMs: 1000,
    drainTimeoutMs: 0,
    maxConnections: 2048,
  });
  const star = config.routes.find((r) => r.key === '* /admin/*');
  t.same(star?.methods, HTTP_METHODS);
  t.equal(star?.anyMethod, true);
  t.same(config.routes.find((r) => r.key === 'GET,POST /reports/:id')?.methods, ['GET', 'POST']);
  const spaced = config.routes.find((r) => r.key.startsWith('PUT'));
  t.equal(spaced?.path, '/spaced/key', 'several spaces between METHODS and PATH');
  t.same(spaced?.requirement, { kind: 'all_of', scopes: ['https://scopes.example.com/write'] });
});

t.test('listen addresses', async (t) => {
  const ok: Array<[string, { host: string; port: number }]> = [
    ['8080', { host: '127.0.0.1', port: 8080 }],
    ['0', { host: '127.0.0.1', port: 0 }],
    ['"65535"', { host: '127.0.0.1', port: 65535 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['"[::]:8080"', { host: '::', port: 8080 }],
    ['"[fe80::1]:9"', { host: 'fe80::1', port: 9 }],
  ];
  for (const [text, want] of ok) t.same(load(yaml(`listen: ${text}\n`)).listen, want, text);
  const bad = ['65536', '-1', '80.5', 'true', 'localhost', '"localhost:"', '":80"', '"[::1]"', '"[zz]:80"', '"::1:80"', 'host:080', 'a_b:80', '[8080]', '{ port: 80 }'];
  for (const text of bad) {
    const errs = errors(yaml(`listen: ${text}\n`));
    t.equal(errs.length, 1, text);
    t.match(errs[0], /^8:9 listen: must be host:port, \[ipv6\]:port or a port number/, text);
  }
});

t.test('upstream url must be an http(s) origin', async (t) => {
  t.equal(load(yaml('').replace('http://127.0.0.1:3000', 'https://Example.COM:443/')).upstream?.url, 'https://example.com');
  const cases: Array<[string, RegExp]> = [
    ['http://a/b', /must be an origin without a path/],
    ['http://a/?x=1', /must not contain a query/],
    ['http://u:p@a', /must not contain credentials/],
    ['http://a#f', /must not contain a fragment/],
    ['ftp://a', /must be an http:\/\/ or https:\/\/ URL/],
    ['not a url', /must be an http:\/\/ or https:\/\/ URL/],
    ['"http://a:99999"', /must be an http:\/\/ or https:\/\/ URL/],
  ];
  for (const [url, re] of cases) {
    const errs = errors(yaml('').replace('http://127.0.0.1:3000', url));
    t.equal(errs.length, 1, url);
    t.match(errs[0], /^2:8 upstream\.url: /, url);
    t.match(errs[0], re, url);
  }
});

t.test('integers: type, integral, range', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['"5000"', /must be an integer, got string "5000"/],
    ['5000.5', /must be an integer, got 5000.5/],
    ['5e3', /must be an integer, got 5e3/],
    ['true', /must be an integer, got boolean true/],
    ['', /must be an integer, got nothing/],
    ['[1]', /must be an integer, got a list/],
    ['0', /must be between 1 and 600000, got 0/],
    ['-1', /must be between 1 and 600000, got -1/],
    ['600001', /must be between 1 and 600000, got 600001/],
  ];
  for (const [v, re] of cases) {
    const errs = errors(yaml('').replace('  url: http://127.0.0.1:3000\n', `  url: http://127.0.0.1:3000\n  connect_timeout_ms: ${v}\n`));
    t.equal(errs.length, 1, v);
    t.match(errs[0], /^3:\d+ upstream\.connect_timeout_ms: /, v);
    t.match(errs[0], re, v);
  }
  t.equal(load(yaml('limits:\n  request_timeout_ms: 0\n')).limits.requestTimeoutMs, 0, '0 = none where documented');
  t.equal(load(yaml('auth_extra: 1\n'.replace('auth_extra: 1\n', ''))).auth.tokenCacheSize, DEFAULTS.auth.tokenCacheSize);
});

t.test('algorithms: asymmetric allow-list only, each refusal says why', async (t) => {
  const withAlgs = (algs: string) => yaml('').replace('audiences: [https://api.example.com]\n', `audiences: [https://api.example.com]\n      algorithms: ${algs}\n`);
  t.same(load(withAlgs('[RS256, PS256, ES384, EdDSA]')).auth.issuers[0]?.algorithms, ['RS256', 'PS256', 'ES384', 'EdDSA']);
  t.match(errors(withAlgs('[none]')), [/algorithm "none" is never accepted: an unsigned token proves nothing/]);
  t.match(errors(withAlgs('[NONE]')), [/algorithm "none" is never accepted/]);
  for (const hs of ['HS256', 'HS384', 'HS512', 'hs256']) {
    t.match(errors(withAlgs(`[${hs}]`)), [new RegExp(`${hs} is a symmetric \\(shared-secret\\) algorithm: .*JWKS`)], hs);
  }
  t.match(errors(withAlgs('[rs256]')), [/must be one of RS256, .*, got string "rs256"/]);
  t.match(errors(withAlgs('[RS256, RS256]')), [/algorithms\[1\]: duplicate "RS256"/]);
  t.match(errors(withAlgs('[]')), [/algorithms: must not be empty/]);
  t.match(errors(withAlgs('RS256')), [/algorithms: must be a list, got string "RS256"/]);
});

t.test('issuers: required fields, unique, jwks_uri http(s)', async (t) => {
  t.match(errors(yaml('').replace('      jwks_uri: https://idp.example.com/.well-known/jwks.json\n', '')), [/^5:7 auth\.issuers\[0\]: missing required key "jwks_uri"/]);
  t.match(errors(yaml('').replace('issuer: https://idp.example.com/', 'issuer: ""')), [/^5:15 auth\.issuers\[0\]\.issuer: must not be empty/]);
  t.match(errors(yaml('').replace('[https://api.example.com]', '[""]')), [/audiences\[0\]: must not be empty/]);
  t.match(errors(yaml('').replace('  issuers:\n', '  issuers: []\n  x:\n')), [/^4:12 auth\.issuers: must not be empty/, /^5:3 auth\.x: unknown key "x"/]);
  const warned = loadConfigText(yaml('').replace('https://idp.example.com/.well-known', 'http://idp.example.com/.well-known'), 't.yaml');
  t.ok(warned.config, 'plain http to a remote JWKS is a warning, not an error');
  t.match(warned.issues, [{ severity: 'warning', line: 6, col: 17, path: 'auth.issuers[0].jwks_uri' }]);
  const local = loadConfigText(yaml('').replace('https://idp.example.com/.well-known', 'http://localhost:1/.well-known'), 't.yaml');
  t.same(local.issues, [], 'no warning for loopback');
});

t.test('scope_claims, scope_matching, realm, identity headers', async (t) => {
  t.match(errors(yaml('').replace('auth:\n', 'auth:\n  scope_claims: []\n')), [/scope_claims: must not be empty/]);
  t.match(errors(yaml('').replace('auth:\n', 'auth:\n  scope_claims: [scp, scp]\n')), [/scope_claims\[1\]: duplicate "scp"/]);
  t.match(errors(yaml('').replace('auth:\n', 'auth:\n  scope_matching: prefix\n')), [/scope_matching: must be one of exact, hierarchical/]);
  t.match(errors(yaml('').replace('auth:\n', 'auth:\n  realm: \'a"b\'\n')), [/realm: must be printable ASCII without "/]);
  for (const name of ['host', 'Content-Length', 'transfer-encoding', 'connection', 'authorization', 'X-Forwarded-For', 'x_forwarded_host', 'keep-alive']) {
    t.match(errors(yaml(`identity_headers:\n  subject: ${name}\n`)), [new RegExp(`^9:12 identity_headers\\.subject: "${name}" is a reserved header`)], name);
  }
  t.match(errors(yaml('identity_headers:\n  subject: "x auth"\n')), [/"x auth" is not a valid header name/]);
  t.match(errors(yaml('identity_headers:\n  subject: x-id\n  scopes: X_ID\n')), [/^10:11 identity_headers\.scopes: must differ from identity_headers\.subject/]);
  t.same(load(yaml('identity_headers:\n  scopes: X-Scopes\n')).identityHeaders, { scopes: 'x-scopes' });
});

t.test('route keys', async (t) => {
  const one = (key: string) => load(yaml('', `  ${key}: a\n`)).routes[0];
  t.same(one('GET,POST,DELETE /x')?.methods, ['GET', 'POST', 'DELETE']);
  t.same(one('"* /x"')?.methods, HTTP_METHODS);
  t.equal(one('"* /x"')?.anyMethod, true);
  t.equal(one('GET,POST /x')?.anyMethod, false);
  t.equal(one('GET /x')?.key, 'GET /x');
  const bad: Array<[string, RegExp[]]> = [
    ['FETCH /x', [/^9:3 routes\."FETCH \/x": unknown method FETCH$/]],
    ['Get /x', [/unknown method Get \(methods are upper-case: GET\)/]],
    ['GET,FETCH,PUT /x', [/unknown method FETCH/]],
    ['GET,,PUT /x', [/empty method in method list/]],
    ['"GET,* /x"', [/\* stands for every method/]],
    ['GET,PUT,GET /x', [/duplicate method GET/]],
    ['GET', [/route key must be "METHODS PATH"/]],
    ['"GET\t/x"', [/route key must be "METHODS PATH"/]],
    ['GET /x /y', [/route key must be "METHODS PATH"/]],
    ['"/x"', [/route key must be "METHODS PATH"/]],
    ['FETCH,get /x', [/unknown method FETCH/, /unknown method get/]],
  ];
  for (const [key, res] of bad) t.match(errors(yaml('', `  ${key}: a\n`)), res, key);
  // The template's own message (from routes/template.ts) is reported at the key.
  const tmpl = errors(yaml('', '  GET x: a\n'));
  t.equal(tmpl.length, 1);
  t.match(tmpl[0], /^9:3 routes\."GET x": \S/);
  t.match(errors(yaml('', '  3: a\n')), [/^9:3 routes: keys must be strings, got number 3/]);
});

t.test('route conflicts name the earlier route; different depths do not conflict', async (t) => {
  const errs = errors(yaml('', '  GET /a/:x: a\n  POST /a/:y: a\n  GET,PUT /a/:z: a\n'));
  t.same(errs, ['11:3 routes."GET,PUT /a/:z": cannot be told apart from "GET /a/:x" (line 9): same path shape, both serve GET']);
  t.ok(load(yaml('', '  GET /o/:orgId/p: a\n  GET /o/:orgSlug/p/:p/m: a\n  GET /o/:id: a\n')));
  t.ok(load(yaml('', '  GET /a/:x: a\n  POST /a/:y: a\n')), 'same shape, disjoint methods');
  t.match(errors(yaml('', '  GET /a: a\n  GET  /a: b\n')), [/^10:3 routes\."GET  \/a": cannot be told apart from "GET \/a" \(line 9\)/], 'same route spelt with two spaces');
});

t.test('route requirements', async (t) => {
  const req = (v: string) => load(yaml('', `  GET /x: ${v}\n`)).routes[0]?.requirement;
  t.same(req('projects:read'), { kind: 'all_of', scopes: ['projects:read'] });
  t.same(req('"https://x.example/scope!#$%&\'()*+,-./:;<=>?@[]^_`{|}~"'), { kind: 'all_of', scopes: ["https://x.example/scope!#$%&'()*+,-./:;<=>?@[]^_`{|}~"] });
  t.same(req('{ auth: token }'), { kind: 'token' });
  t.same(req('{ auth: none }'), { kind: 'none' });
  t.same(req('{ any_of: [a, b] }'), { kind: 'any_of', scopes: ['a', 'b'] });
  t.same(req('{ all_of: [a, b] }'), { kind: 'all_of', scopes: ['a', 'b'] });
  t.same(req('\n    all_of:\n      - a\n'), { kind: 'all_of', scopes: ['a'] });
  t.same(req('{ scope: projects:read }'), { kind: 'all_of', scopes: ['projects:read'] }, 'mapping form of a bare scope');
  const route = (v: string) => load(yaml('', `  GET /x: ${v}\n`)).routes[0];
  t.equal(route('{ scope: a, mode: shadow }')?.mode, 'shadow');
  t.equal(route('{ auth: token, mode: enforce }')?.mode, 'enforce');
  t.equal(route('a')?.mode, undefined, 'no mode: inherits the global one');
  const bad: Array<[string, RegExp[]]> = [
    ['', [/^9:11 routes\."GET \/x": must be a scope string, .* got nothing/]],
    ['{}', [/^9:11 routes\."GET \/x": missing requirement/]],
    ['[a]', [/must be a scope string, .*; got a list/]],
    ['123', [/must be a scope string, .*; got number 123/]],
    ['true', [/got boolean true/]],
    ['"a\\"b"', [/"a\\"b" is not a valid scope/]],
    ['"a\\\\b"', [/is not a valid scope/]],
    ['"é"', [/is not a valid scope/]],
    ['""', [/"" is not a valid scope/]],
    ['{ auth: required }', [/^9:19 routes\."GET \/x"\.auth: must be one of token, none, got string "required"/]],
    ['{ any_of: a }', [/any_of: must be a list, got string "a"/]],
    ['{ any_of: [a, a] }', [/any_of\[1\]: duplicate "a"/]],
    ['{ all_of: [a, "b c"] }', [/all_of\[1\]: "b c" is not a valid scope/]],
    ['{ all_of: [a], any_of: [b] }', [/^9:26 routes\."GET \/x"\.any_of: cannot be combined with all_of/]],
    ['{ allof: [a] }', [/^9:13 routes\."GET \/x"\.allof: unknown key "allof" \(did you mean all_of\?\)/]],
    ['{ scope: "a b" }', [/scope: "a b" is not a valid scope/]],
    ['{ scope: a, any_of: [b] }', [/any_of: cannot be combined with scope/]],
    ['{ auth: token, mode: x }', [/mode: must be one of enforce, shadow, got string "x"/]],
    ['{ mode: shadow }', [/missing requirement/]],
  ];
  for (const [v, res] of bad) t.match(errors(yaml('', `  GET /x: ${v}\n`)), res, v);
});

t.test('top level', async (t) => {
  t.match(errors(''), [/^1:1 : config is empty/]);
  t.match(errors('# just a comment\n'), [/config is empty/]);
  t.match(errors('just a string'), [/^1:1 : must be a mapping, got string "just a string"/]);
  t.match(errors('routes:\n  GET /a: a\n'), [/missing required key "upstream"/, /missing required key "auth"/]);
  t.match(errors(BASE), [/^1:1 : missing required key "routes"/]);
  t.match(errors(yaml('', '')), [/^8:8 routes: must be a mapping, got nothing/]);
  t.match(errors(yaml('version: "1"\n')), [/version: must be an integer, got string "1"/]);
  t.ok(load(yaml('version: 1\n')));
  t.match(errors(yaml('upstream:\n  url: http://a\n')), [/^8:1 upstream: duplicate key/]);
  t.match(errors('a: b\n---\nc: d\n'), [/^2:1 : YAML: Source contains multiple documents/]);
  t.match(errors(yaml('x: &a 1\ny: *a\n')), [/^8:1 x: unknown key "x"/, /^9:1 y: unknown key "y"/], 'unknown keys are reported even when their values are aliases');
});

t.test('five mistakes: exactly five errors, each at its line and column, in file order', async (t) => {
  const file = join(fixtures, 'five-mistakes.yaml');
  const { config, issues } = readConfigFile(file);
  t.equal(config, undefined);
  t.same(
    issues.map((i) => [i.line, i.col, i.path]),
    [
      [4, 8, 'upstream.url'],
      [5, 15, 'upstream.timeout_ms'],
      [11, 27, 'auth.issuers[0].algorithms[1]'],
      [12, 19, 'auth.scope_matching'],
      [14, 3, 'routes."FETCH /x"'],
    ],
  );
  t.equal(formatConfigIssue(issues[4]!), `${file}:14:3: routes."FETCH /x": unknown method FETCH`);
  const thrown = t.throws(() => loadConfigFile(file));
  t.type(thrown, ConfigError);
  if (thrown instanceof ConfigError) {
    t.equal(thrown.code, 'ERR_CONFIG_INVALID');
    t.equal(thrown.issues.length, 5, 'the exception carries every error, not the first');
    t.equal(thrown.message.split('\n').length, 5);
  }
});

t.test('files: source, hash, unreadable, not UTF-8', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-config-'));
  const file = join(dir, 'c.yaml');
  const text = yaml('');
  writeFileSync(file, text);
  const config = loadConfigFile(file);
  t.ok(isAbsolute(config.source.file));
  t.equal(config.source.file, file);
  t.equal(config.source.hash, createHash('sha256').update(readFileSync(file)).digest('hex'));
  t.equal(loadConfigText(text, file).config?.source.hash, config.source.hash, 'text and file hash agree');
  t.equal(loadConfigText(text, 'rel.yaml').config?.source.file, join(process.cwd(), 'rel.yaml'));

  const missing = readConfigFile(join(dir, 'nope.yaml'));
  t.equal(missing.config, undefined);
  t.match(missing.issues, [{ line: 0, col: 0, path: '', severity: 'error', message: 'file not found' }]);
  t.throws(() => loadConfigFile(join(dir, 'nope.yaml')), ConfigError);
  t.match(readConfigFile(dir).issues, [{ line: 0, message: 'is a directory' }]);

  const latin1 = join(dir, 'latin1.yaml');
  writeFileSync(latin1, Buffer.concat([Buffer.from(text), Buffer.from([0xe9, 0x0a])]));
  t.match(readConfigFile(latin1).issues, [{ line: 0, message: 'file is not valid UTF-8' }]);
});

t.test('the Config is deeply frozen', async (t) => {
  const config = load(readFileSync(join(fixtures, 'valid/full.yaml'), 'utf8'));
  const seen: unknown[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    seen.push(v);
    for (const child of Object.values(v)) walk(child);
  };
  walk(config);
  t.ok(seen.length > 30);
  t.ok(seen.every((o) => Object.isFrozen(o)), 'every object and array is frozen');
  t.throws(() => {
    (config.routes as Config['routes'][number][]).push(config.routes[0]!);
  });
  t.throws(() => {
    (config.auth.issuers[0]!.audiences as string[])[0] = 'x';
  });
});

t.test('loadConfigText never throws, whatever the input', async (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      loadConfigText(s, 'fuzz.yaml');
    }),
    { numRuns: 300 },
  );
  const base = yaml('identity_headers:\n  subject: x-s\n', '  GET /a/:id: { any_of: [a, b] }\n');
  fc.assert(
    fc.property(fc.nat({ max: base.length }), fc.string({ maxLength: 8 }), (at, junk) => {
      const { config, issues } = loadConfigText(base.slice(0, at) + junk + base.slice(at), 'fuzz.yaml');
      // Rejected configs always say why, with a position inside the file.
      if (config === undefined) {
        if (!issues.some((i) => i.severity === 'error')) throw new Error('rejected without an error');
        for (const i of issues) if (i.line < 1 || i.col < 1) throw new Error(`bad position ${formatConfigIssue(i)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass('no throw');
});
