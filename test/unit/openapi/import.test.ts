import t from 'tap';
import { parse } from 'yaml';
import { importOpenApi, OpenApiImportError, type ImportOptions } from '../../../src/openapi/import.js';

const NOW = new Date('2025-01-02T03:04:05Z');

const SCHEMES = {
  oauth: {
    type: 'oauth2',
    flows: {
      authorizationCode: {
        authorizationUrl: 'https://login.example.net/authorize',
        tokenUrl: 'https://login.example.net/token',
        scopes: { 'write:pets': 'modify pets in your account', 'read:pets': 'read your pets' },
      },
      clientCredentials: { tokenUrl: 'https://login.example.net/token', scopes: { admin: 'administer', 'read:pets': 'another description' } },
    },
  },
  key: { type: 'apiKey', in: 'header', name: 'X-Key' },
  oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://login.example.net/.well-known/openid-configuration' },
};

/** A JSON OpenAPI document: `doc` fields override the defaults. */
function spec(paths: Record<string, unknown>, doc: Record<string, unknown> = {}): string {
  return JSON.stringify({ openapi: '3.0.3', info: { title: 'Test API', version: '1.2.3' }, components: { securitySchemes: SCHEMES }, paths, ...doc });
}

const op = (security?: unknown, extra: Record<string, unknown> = {}) => ({ ...(security === undefined ? {} : { security }), responses: { '200': { description: 'OK' } }, ...extra });

interface Generated {
  routes: Record<string, unknown>;
  scopes: Record<string, { description: string }> | undefined;
  upstream: { url: string };
  warnings: string[];
  yaml: string;
}

function run(text: string, options: ImportOptions = {}): Generated {
  const r = importOpenApi(text, 'test.json', { now: NOW, ...options });
  const doc = parse(r.yaml) as { routes: Record<string, unknown>; scopes?: Record<string, { description: string }>; upstream: { url: string } };
  t.equal(Object.keys(doc.routes).length, r.routes, 'routes count matches the YAML');
  t.equal(Object.keys(doc.scopes ?? {}).length, r.scopes, 'scopes count matches the YAML');
  return { routes: doc.routes, scopes: doc.scopes, upstream: doc.upstream, warnings: r.warnings, yaml: r.yaml };
}

t.test('operation security overrides the document security; absent security inherits it', async (t) => {
  const g = run(spec({ '/pets': { get: op(), post: op([{ oauth: ['write:pets'] }]) } }, { security: [{ oauth: ['read:pets'] }] }));
  t.same(g.routes, { 'GET /pets': 'read:pets', 'POST /pets': 'write:pets' });
});

t.test('security: [] (operation or document) is public; an empty operation list overrides a global one', async (t) => {
  t.same(run(spec({ '/h': { get: op([]) } }, { security: [{ oauth: ['admin'] }] })).routes, { 'GET /h': { auth: 'none' } });
  t.same(run(spec({ '/h': { get: op() } }, { security: [] })).routes, { 'GET /h': { auth: 'none' } });
});

t.test('an alternative {} makes the operation public, and the YAML says so', async (t) => {
  const g = run(spec({ '/r': { get: op([{ oauth: ['read:pets'] }, {}]) } }));
  t.same(g.routes, { 'GET /r': { auth: 'none' } });
  t.match(g.yaml, /# public: the spec lists \{\} \(no requirement\) among its security alternatives\n {2}GET \/r: \{ auth: none \}/);
});

t.test('alternatives → any_of, scopes of one requirement → all_of', async (t) => {
  const g = run(spec({ '/p': { get: op([{ oauth: ['read:pets'] }, { oidc: ['admin'] }]), put: op([{ oauth: ['write:pets', 'read:pets'] }]) } }));
  t.same(g.routes, { 'GET /p': { any_of: ['read:pets', 'admin'] }, 'PUT /p': { all_of: ['write:pets', 'read:pets'] } });
});

t.test('(x AND y) OR z: the first alternative, a warning and a comment', async (t) => {
  const g = run(spec({ '/p': { delete: op([{ oauth: ['write:pets', 'read:pets'] }, { oauth: ['admin'] }]) } }));
  t.same(g.routes, { 'DELETE /p': { all_of: ['write:pets', 'read:pets'] } });
  t.match(g.warnings.join('\n'), /DELETE \/p: security \(write:pets AND read:pets\) OR admin cannot be expressed/);
  t.match(g.yaml, /# spec allows \(write:pets AND read:pets\) OR admin; only write:pets AND read:pets is enforced/);
});

t.test('non-OAuth schemes: any token and a warning that the scheme is not enforced', async (t) => {
  const g = run(spec({ '/inv': { get: op([{ key: [] }]) }, '/pet/{id}': { get: op([{ key: [] }, { oauth: ['read:pets'] }]) } }));
  t.same(g.routes, { 'GET /inv': { auth: 'token' }, 'GET /pet/:id': 'read:pets' });
  t.match(g.warnings.join('\n'), /key \(apiKey in header\) is not enforced.*GET \/inv/);
  t.match(g.warnings.join('\n'), /key \(apiKey in header\) is not honoured beside OAuth alternatives.*GET \/pet\/\{id\}/);
  t.same(run(spec({ '/t': { get: op([{ oauth: [] }]) } })).routes, { 'GET /t': { auth: 'token' } }, 'oauth2 with no scopes: any token');
});

t.test('undeclared security: any token by default (fail closed), public with undeclared: none', async (t) => {
  const g = run(spec({ '/x': { get: op(), post: op() } }));
  t.same(g.routes, { 'GET /x': { auth: 'token' }, 'POST /x': { auth: 'token' } });
  t.match(g.warnings.join('\n'), /no security declared.*GET \/x, POST \/x/);
  t.same(run(spec({ '/x': { get: op() } }), { undeclared: 'none' }).routes, { 'GET /x': { auth: 'none' } });
});

t.test('a parameter that is not a whole segment: the operation is skipped, named in a warning', async (t) => {
  const g = run(spec({ '/files/{name}.json': { get: op([]) }, '/files/{name}': { get: op([]) } }));
  t.same(Object.keys(g.routes), ['GET /files/:name']);
  t.match(g.warnings.join('\n'), /GET \/files\/\{name\}\.json: skipped: the path parameter in "\{name\}\.json" is not a whole segment/);
});

t.test('trace, path- and operation-level servers', async (t) => {
  const g = run(spec({ '/a': { servers: [{ url: 'https://x' }], trace: op([]), get: op([], { servers: [{ url: 'https://y' }] }) } }));
  t.same(g.routes, { 'GET /a': { auth: 'none' } });
  const w = g.warnings.join('\n');
  t.match(w, /TRACE \/a: skipped: scopegate has no TRACE method/);
  t.match(w, /path "\/a": its own "servers" override is ignored/);
  t.match(w, /GET \/a: its own "servers" override is ignored/);
});

t.test('conflicts: same method and shape keeps the first; other methods are fine', async (t) => {
  const g = run(spec({ '/users/{id}': { get: op([]), put: op([]) }, '/users/{name}': { get: op([]), post: op([]) } }));
  t.same(Object.keys(g.routes).sort(), ['GET /users/:id', 'POST /users/:name', 'PUT /users/:id']);
  t.match(g.warnings.join('\n'), /GET \/users\/\{name\}: skipped: scopegate cannot tell it apart from GET \/users\/\{id\}/);
});

t.test('a skipped operation does not block a later one of the same shape', async (t) => {
  const g = run(spec({ '/u/{a}': { get: op([{ nosuch: [] }]) }, '/u/{b}': { get: op([]) } }));
  t.same(g.routes, { 'GET /u/:b': { auth: 'none' } });
});

t.test('base path from servers[0], upstream from its origin; the option turns the base path off', async (t) => {
  const doc = { servers: [{ url: 'https://api.example.org/api/v1' }] };
  const g = run(spec({ '/pets': { get: op([]) } }, doc));
  t.same(g.routes, { 'GET /api/v1/pets': { auth: 'none' } });
  t.equal(g.upstream.url, 'https://api.example.org');
  t.same(run(spec({ '/pets': { get: op([]) } }, doc), { serverBasePath: false }).routes, { 'GET /pets': { auth: 'none' } });
  const rel = run(spec({ '/pets': { get: op([]) } }, { servers: [{ url: '/v3' }] }));
  t.same(rel.routes, { 'GET /v3/pets': { auth: 'none' } });
  t.equal(rel.upstream.url, 'http://127.0.0.1:3000');
  t.match(rel.yaml, /url: http:\/\/127\.0\.0\.1:3000 # placeholder: servers\[0\]\.url \/v3 has no http\(s\) origin/);
});

t.test('catalogue: every flow of every oauth2 scheme, with descriptions; undeclared route scopes added', async (t) => {
  const g = run(spec({ '/p': { get: op([{ oidc: ['openid'] }]), post: op([{ oauth: ['write:pets', 'nowhere'] }]) } }));
  t.same(g.scopes, {
    admin: { description: 'administer' },
    nowhere: { description: "(not declared in the spec's securitySchemes)" },
    openid: { description: "(not declared in the spec's securitySchemes)" },
    'read:pets': { description: 'read your pets' },
    'write:pets': { description: 'modify pets in your account' },
  });
  t.match(g.warnings.join('\n'), /scopes openid, nowhere required by routes but declared by no OAuth 2 flow/);
  t.match(g.yaml, /openIdConnectUrl|openid-configuration/, 'the OIDC discovery URL is in the auth comment');
});

t.test('an empty description gets a placeholder; a later non-empty one wins', async (t) => {
  const schemes = { o: { type: 'oauth2', flows: { implicit: { authorizationUrl: 'https://a', scopes: { a: '', b: '' } }, password: { tokenUrl: 'https://t', scopes: { a: 'Alpha' } } } } };
  const g = run(spec({ '/p': { get: op([{ o: ['a'] }]) } }, { components: { securitySchemes: schemes } }));
  t.same(g.scopes, { a: { description: 'Alpha' }, b: { description: '(no description in the spec)' } });
});

t.test('scope strings that need quoting round-trip; invalid ones are left out', async (t) => {
  const tricky = ['write:pets', '#hash', '-dash', 'a:b:c', 'https://www.googleapis.com/auth/drive', '*', 'yes', '123', '[x]', '{y}', '!bang', '%pct', '@at', '&amp'];
  const scopes = Object.fromEntries([...tricky, 'has space', ''].map((s) => [s, `desc ${s}`]));
  const schemes = { o: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://t', scopes } } } };
  const paths = Object.fromEntries(tricky.map((s, i) => [`/s${i}`, { get: op([{ o: [s] }]) }]));
  const g = run(spec(paths, { components: { securitySchemes: schemes } }));
  t.same(Object.keys(g.scopes ?? {}).sort(), [...tricky].sort());
  tricky.forEach((s, i) => t.equal(g.routes[`GET /s${i}`], s, `route scope ${s}`));
  t.match(g.warnings.join('\n'), /scope "has space" is not a valid OAuth scope/);
});

t.test('routes are sorted by path then method', async (t) => {
  const g = run(spec({ '/b': { delete: op([]), get: op([]) }, '/a': { post: op([]), get: op([]), head: op([]) } }));
  t.same(Object.keys(g.routes), ['GET /a', 'HEAD /a', 'POST /a', 'GET /b', 'DELETE /b']);
});

t.test('$ref: path items and security schemes inside the document are followed', async (t) => {
  const doc = {
    openapi: '3.1.0',
    info: { title: 'R', version: '1' },
    components: {
      securitySchemes: { o: { $ref: '#/components/x-schemes/real' } },
      'x-schemes': { real: SCHEMES.oauth },
      pathItems: { P: { get: op([{ o: ['admin'] }]) } },
    },
    paths: { '/p': { $ref: '#/components/pathItems/P' }, '/q': { $ref: 'other.yaml#/P' } },
  };
  const g = run(JSON.stringify(doc));
  t.same(g.routes, { 'GET /p': 'admin' });
  t.match(g.warnings.join('\n'), /path "\/q": external reference "other.yaml#\/P" is not followed/);
});

t.test('spec text cannot inject config through comments', async (t) => {
  const evil = 'Evil\nroutes:\n  "* /*": { auth: none }\r\n\u2028x';
  const doc = {
    openapi: '3.0.0',
    info: { title: evil, version: evil },
    servers: [{ url: '/v1' }],
    components: { securitySchemes: { [evil]: { type: 'oauth2', flows: { implicit: { authorizationUrl: evil, scopes: { a: evil } } } } } },
    paths: { '/p': { get: op([{ [evil]: ['a'] }], { operationId: evil }) }, [`/q/{x}.${evil}`]: { get: op([]) } },
  };
  const g = run(JSON.stringify(doc));
  t.same(g.routes, { 'GET /v1/p': 'a' });
  t.same(g.scopes, { a: { description: 'Evil routes:   "* /*": { auth: none } x' } }, 'the description is a plain string value');
  for (const line of g.yaml.split('\n')) t.notMatch(line, /^\s*"\* \/\*"/, 'no injected route line');
});

t.test('YAML input works as well as JSON', async (t) => {
  const yaml = `openapi: 3.1.0
info: { title: Y, version: '1' }
security: [ { oauth: [ 'read:pets' ] } ]
components:
  securitySchemes:
    oauth: { type: oauth2, flows: { implicit: { authorizationUrl: 'https://a', scopes: { 'read:pets': read } } } }
paths:
  /pets: { get: { responses: { '200': { description: OK } } } }
`;
  t.same(run(yaml).routes, { 'GET /pets': 'read:pets' });
});

t.test('the header names the source, title, version, date and every warning', async (t) => {
  const r = importOpenApi(spec({ '/a': { get: op([{ key: [] }]) } }), 'api.json', { now: NOW });
  const header = r.yaml.slice(0, r.yaml.indexOf('version: 1'));
  t.match(header, /^# scopegate config generated from api\.json \(Test API, version 1\.2\.3\)\n/);
  t.match(header, /2025-01-02T03:04:05Z/);
  t.match(header, /# Warnings \(1\):\n# {3}- security scheme key \(apiKey in header\) is not enforced/);
});

t.test('documents that cannot be imported throw OpenApiImportError', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['a: [', /not valid YAML or JSON/],
    ['- a\n- b', /expected a mapping/],
    ['swagger: "2.0"\ninfo: {}\npaths: {}', /Swagger 2\.0 is not supported: convert it to OpenAPI 3/],
    ['openapi: 4.0.0\npaths: {}', /not an OpenAPI 3\.x document/],
    ['info: {}', /openapi: missing/],
    ['openapi: 3.0.0\ninfo: {}\npaths: {}', /no operation could be mapped.*no operations/],
    ['openapi: 3.0.0\ninfo: {}\npaths: { "/a/{b}.c": { get: {} } }', /no operation could be mapped.*not a whole segment/s],
    ['openapi: 3.0.0\na: 1\na: 2', /not valid YAML or JSON/],
  ];
  for (const [text, re] of bad) {
    let thrown: unknown;
    try {
      importOpenApi(text, 'x.yaml');
    } catch (e) {
      thrown = e;
    }
    t.ok(thrown instanceof OpenApiImportError, `${text}: OpenApiImportError`);
    t.equal((thrown as OpenApiImportError).code, 'ERR_OPENAPI_IMPORT');
    t.match((thrown as Error).message, re, text);
  }
});

t.test('OpenAPI 3.2: query and additionalOperations are skipped with warnings', async (t) => {
  const g = run(spec({ '/s': { query: op([]), additionalOperations: { COPY: op([]) }, get: op([]) } }, { openapi: '3.2.0' }));
  t.same(g.routes, { 'GET /s': { auth: 'none' } });
  const w = g.warnings.join('\n');
  t.match(w, /QUERY \/s: skipped/);
  t.match(w, /COPY \/s: skipped: additionalOperations/);
  t.match(w, /OpenAPI 3\.2\.0: read as 3\.1/);
});
