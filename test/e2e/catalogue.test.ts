/**
 * The scope catalogue end to end, over real HTTP against the real process:
 * RFC 9728 discovery, resource_metadata in challenges, required scopes,
 * deprecated aliases (and their metric), and token info answered by scopegate.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowS } from '../helpers/tokens.js';
import { testConfigYaml } from '../helpers/config.js';
import { CLI } from '../helpers/sidecar.js';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.catalogue.test/';
const CATALOGUE = `resource:
  identifier: https://api.example.com/v1
  name: Localization API
  documentation: https://docs.example.com/api
scopes:
  organizations:read:
    description: Read organizations
    display_name: Organizations (read)
  person:read:
    description: Read people
  user:read:people:
    description: DEPRECATED, use person:read instead
    deprecated: true
    replaced_by: person:read
    discoverable: false
  projects:write:
    description: Create and change projects
    default: off
    destructive: true
  api:access:
    description: Must be included in all API requests
    required: true
`;
const ROUTES = [
  'GET /v1/me: { auth: token, respond: token_info }',
  'GET /v1/organizations: organizations:read',
  'GET /v1/people: person:read',
  'POST /v1/projects: projects:write',
  'GET /v1/health: { auth: none }',
];

t.test('catalogue features over HTTP', async (t) => {
  const stack = await startStack(t, { issuer: ISSUER, extra: CATALOGUE, routes: ROUTES });
  const { upstream, sidecar } = stack;
  const tok = (scope: string) => stack.token(scope, { sub: 'person-7', client_id: 'cli-app' });
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    send(sidecar.url, path, { headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });
  const METADATA_URL = 'https://api.example.com/.well-known/oauth-protected-resource/v1';

  t.test('RFC 9728 metadata at the path-inserted well-known URI, from config only', async (t) => {
    const before = upstream.count;
    const res = await get('/.well-known/oauth-protected-resource/v1', undefined, { host: 'evil.example' });
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], /^application\/json/);
    const doc = res.json();
    // §2: resource is REQUIRED and must equal the configured identifier; the rest as configured.
    t.same(doc, {
      resource: 'https://api.example.com/v1',
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['organizations:read', 'person:read', 'projects:write', 'api:access'],
      resource_name: 'Localization API',
      resource_documentation: 'https://docs.example.com/api',
    });
    t.notMatch(res.body, /evil/, 'never derived from Host');
    t.equal(upstream.count, before, 'answered by scopegate');
    t.equal((await get('/.well-known/oauth-protected-resource')).status, 404, 'only the path-inserted form for an identifier with a path');
  });

  t.test('401 challenges point at the metadata (RFC 9728 §5.1)', async (t) => {
    const res = await get('/v1/organizations');
    t.equal(res.status, 401);
    t.equal(res.headers['www-authenticate'], `Bearer realm="scopegate", resource_metadata="${METADATA_URL}"`);
  });

  t.test('a catalogue-required scope is needed on every token route, named in the 403', async (t) => {
    const without = await get('/v1/organizations', tok('organizations:read'));
    t.equal(without.status, 403);
    t.match(without.headers['www-authenticate'], /scope="organizations:read api:access"/);
    t.equal(without.json()['scope'], 'organizations:read api:access');
    t.equal((await get('/v1/organizations', tok('organizations:read api:access'))).status, 200);
    t.equal((await get('/v1/health')).status, 200, 'public routes need nothing');
  });

  t.test('a deprecated scope is accepted in place of its replacement, and counted', async (t) => {
    t.equal((await get('/v1/people', tok('user:read:people api:access'))).status, 200);
    t.equal((await get('/v1/people', tok('person:read api:access'))).status, 200);
    t.equal((await get('/v1/organizations', tok('user:read:people api:access'))).status, 403, 'only where its replacement is required');
    const metrics = (await send(sidecar.adminUrl, '/metrics')).body;
    t.match(metrics, /scopegate_deprecated_scope_use_total\{scope="user:read:people"\} 1\n/);
  });

  t.test('token info is answered by scopegate with catalogue descriptions', async (t) => {
    const before = upstream.count;
    const res = await get('/v1/me', tok('organizations:read api:access unknown:x'));
    t.equal(res.status, 200);
    t.equal(res.headers['cache-control'], 'no-store');
    const body = res.json<Record<string, unknown>>();
    t.match(body, { active: true, issuer: ISSUER, subject: 'person-7', client_id: 'cli-app', scope: 'organizations:read api:access unknown:x' });
    t.same(body['scopes'], [
      { scope: 'organizations:read', display_name: 'Organizations (read)', description: 'Read organizations' },
      { scope: 'api:access', description: 'Must be included in all API requests' },
      { scope: 'unknown:x' },
    ]);
    t.ok(Math.abs(Number(body['expires_in']) - 300) <= 5, 'expires_in');
    t.ok(Math.abs(Date.parse(String(body['expires_at'])) / 1000 - (nowS() + Number(body['expires_in']))) <= 2, 'expires_at agrees with expires_in');
    t.equal(upstream.count, before, 'the upstream never saw it');
    t.equal((await get('/v1/me')).status, 401, 'still needs a token');
  });
});

t.test('import openapi round-trips real specs through check', async (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-import-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const spec of ['petstore.yaml', 'reverb.json', 'microcks.json', 'google-apikeys.json']) {
    const out = join(dir, `${spec}.scopegate.yaml`);
    const imported = spawnSync(process.execPath, [CLI, 'import', 'openapi', join(root, 'test/fixtures/openapi', spec), '--out', out], { encoding: 'utf8' });
    t.equal(imported.status, 0, `${spec}: imported (${imported.stderr.split('\n').at(-2)})`);
    const checked = spawnSync(process.execPath, [CLI, 'check', out], { encoding: 'utf8' });
    t.equal(checked.status, 0, `${spec}: check accepts it`);
    t.notMatch(checked.stderr, /^[^\n]*:\d+:\d+: (?!warning)/m, `${spec}: no errors`);
    t.match(checked.stdout, /ok, \d+ routes/);
  }
  const petstore = readFileSync(join(dir, 'petstore.yaml.scopegate.yaml'), 'utf8');
  t.match(petstore, /write:pets:\n\s+description: modify pets in your account/);
  t.match(petstore, /POST \/api\/v3\/pet: \{ all_of: \[ write:pets, read:pets \] \}/);
});

t.test('check prints the least-privilege warnings and still exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-lint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lint.yaml');
  const yaml = testConfigYaml({
    issuer: ISSUER,
    jwksUri: 'http://127.0.0.1:9/jwks',
    extra: `scopes:\n  org:read: { description: Read }\n  projects:write: { destructive: true }\n  spare:\n`,
    routes: ['POST /orgs: org:read', 'GET /publish: projects:write', '"* /x": { auth: token }'],
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, yaml);
  const r = spawnSync(process.execPath, [CLI, 'check', file], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.match(r.stderr, /warning: scopes\.spare: no route requires this scope/);
  t.match(r.stderr, /warning: routes\."POST \/orgs": POST is protected only by read scope/);
  t.match(r.stderr, /warning: routes\."GET \/publish": GET requires the destructive scope projects:write/);
  t.match(r.stderr, /warning: routes\."\* \/x": "\*" allows every method/);
});
