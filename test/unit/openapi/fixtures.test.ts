/**
 * The importer on real published OpenAPI documents (provenance and licences:
 * test/fixtures/openapi/README.md), and the round trip every generated config
 * must survive: the config loader accepts it with zero errors.
 *
 * The golden file petstore.scopegate.yaml is the exact output for the Petstore;
 * after an intended change to the output, regenerate it with
 *   SCOPEGATE_UPDATE_GOLDEN=1 npx tap test/unit/openapi/fixtures.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse, parseDocument } from 'yaml';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { importOpenApi, type ImportResult } from '../../../src/openapi/import.js';

const dir = fileURLToPath(new URL('../../fixtures/openapi/', import.meta.url));
const NOW = new Date('2025-01-01T00:00:00Z');

function generate(file: string): ImportResult {
  return importOpenApi(readFileSync(`${dir}${file}`, 'utf8'), file, { now: NOW });
}

interface Generated {
  routes: Record<string, unknown>;
  scopes?: Record<string, { description: string }>;
  upstream: { url: string };
}

/** Whether the config loader already reads a `scopes:` catalogue (being added in parallel to this importer). */
function loaderKnowsCatalogue(): boolean {
  const probe = `upstream: { url: 'http://127.0.0.1:3000' }
auth: { issuers: [ { issuer: 'https://i/', jwks_uri: 'https://i/j', audiences: [a] } ] }
scopes:
  s:
    description: d
routes:
  GET /a: s
`;
  return !loadConfigText(probe, 'probe.yaml').issues.some((i) => i.severity === 'error' && i.path.startsWith('scopes'));
}
const CATALOGUE = loaderKnowsCatalogue();

const FIXTURES = ['petstore.yaml', 'reverb.json', 'microcks.json', 'google-apikeys.json', 'multi-scheme.yaml'];

for (const file of FIXTURES) {
  t.test(`${file}: the generated config loads with zero errors`, async (t) => {
    const r = generate(file);
    const doc = parse(r.yaml) as Generated;

    // Every scope a route requires is in the catalogue (the loader enforces it once it knows catalogues).
    const catalogue = new Set(Object.keys(doc.scopes ?? {}));
    const missing: string[] = [];
    for (const [key, req] of Object.entries(doc.routes)) {
      const scopes = typeof req === 'string' ? [req] : ((req as { any_of?: string[]; all_of?: string[] }).any_of ?? (req as { all_of?: string[] }).all_of ?? []);
      for (const s of scopes) if (!catalogue.has(s)) missing.push(`${key}: ${s}`);
    }
    t.same(missing, [], 'every route scope is in the catalogue');

    const strict = () => {
      const { config, issues } = loadConfigText(r.yaml, `${file}.scopegate.yaml`);
      t.same(issues.filter((i) => i.severity === 'error').map(formatConfigIssue), [], 'zero errors');
      t.equal(config?.routes.length, r.routes, 'every route loaded');
    };
    if (CATALOGUE) strict();
    else {
      await t.test('with the scopes: catalogue', { todo: 'the config loader does not read `scopes:` yet' }, async () => strict());
      // Meanwhile, everything else must already load.
      const without = parseDocument(r.yaml);
      without.delete('scopes');
      const { config, issues } = loadConfigText(without.toString(), `${file}.scopegate.yaml`);
      t.same(issues.filter((i) => i.severity === 'error').map(formatConfigIssue), [], 'zero errors without the catalogue');
      t.equal(config?.routes.length, r.routes, 'every route loaded');
    }
  });
}

t.test('petstore.yaml: exact output (golden file)', async (t) => {
  const r = generate('petstore.yaml');
  const golden = `${dir}petstore.scopegate.yaml`;
  if (process.env.SCOPEGATE_UPDATE_GOLDEN === '1') writeFileSync(golden, r.yaml);
  t.equal(r.yaml, readFileSync(golden, 'utf8'));
  t.equal(r.routes, 19);
  t.equal(r.scopes, 2);
  const doc = parse(r.yaml) as Generated;
  t.same(doc.scopes, { 'read:pets': { description: 'read your pets' }, 'write:pets': { description: 'modify pets in your account' } });
  t.same(doc.routes['GET /api/v3/pet/:petId'], { all_of: ['write:pets', 'read:pets'] }, 'api_key alternative dropped, OAuth one enforced');
  t.same(doc.routes['GET /api/v3/store/inventory'], { auth: 'token' }, 'api_key only: any token');
  t.same(doc.routes['GET /api/v3/user/login'], { auth: 'token' }, 'no security declared: fail closed');
  t.equal(doc.upstream.url, 'http://127.0.0.1:3000', 'relative server URL: placeholder upstream');
});

t.test('reverb.json: base path, origin, real conflicts, undeclared security', async (t) => {
  const r = generate('reverb.json');
  const doc = parse(r.yaml) as Generated;
  t.equal(doc.upstream.url, 'https://api.reverb.com');
  t.ok(Object.keys(doc.routes).every((k) => / \/api\//.test(k)), 'every route under /api');
  t.equal(r.routes, 161, '163 operations, 2 indistinguishable');
  t.equal(r.scopes, 18);
  const w = r.warnings.join('\n');
  t.match(w, /POST \/my\/follows\/categories\/\{uuid\}: skipped: scopegate cannot tell it apart from POST \/my\/follows\/categories\/\{identifier\}/);
  t.match(w, /POST \/conversations\/\{id\}\/offer: skipped: scopegate cannot tell it apart from POST \/conversations\/\{conversation_id\}\/offer/);
  t.match(w, /no security declared.*and 52 more/);
  t.equal(doc.routes['GET /api/my/listings'], 'read_listings');
  t.equal(doc.routes['PUT /api/my/listings/:slug/state/end'], 'write_listings');
  t.same(doc.scopes?.public, { description: '(no description in the spec)' });
});

t.test('microcks.json: document security inherited, scope lists as all_of, one warning (writes without a scope)', async (t) => {
  const r = generate('microcks.json');
  const doc = parse(r.yaml) as Generated;
  t.same(r.warnings, ['write operations that need no scope ({ auth: token }: any valid token can change data): POST /jobs/{id}, POST /tests/{id}/testCaseResult']);
  t.equal(r.routes, 44);
  t.same(doc.routes['DELETE /services/:id'], { all_of: ['admin', 'manager'] });
  t.same(doc.routes['GET /keycloak/config'], { auth: 'token' }, 'inherits [{ jwt-bearer: [] }]: any token');
  t.equal(doc.upstream.url, 'http://microcks.local');
  t.same(Object.keys(doc.scopes ?? {}), ['admin', 'manager', 'user']);
});

t.test('google-apikeys.json: alternatives become any_of; {name}:verb paths are skipped', async (t) => {
  const r = generate('google-apikeys.json');
  const doc = parse(r.yaml) as Generated;
  t.same(doc.routes['GET /v2/:name'], { any_of: ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/cloud-platform.read-only'] });
  t.equal(doc.routes['DELETE /v2/:name'], 'https://www.googleapis.com/auth/cloud-platform');
  t.match(r.warnings.join('\n'), /POST \/v2\/\{name\}:undelete: skipped: the path parameter in "\{name\}:undelete" is not a whole segment/);
  t.equal(doc.upstream.url, 'https://apikeys.googleapis.com');
});

t.test('multi-scheme.yaml: every rule on one document', async (t) => {
  const r = generate('multi-scheme.yaml');
  const doc = parse(r.yaml) as Generated;
  t.same(doc.routes, {
    'GET /api/v2/audit': 'audit:read',
    'GET /api/v2/drivers/:driverId': 'drivers:read',
    'GET /api/v2/health': { auth: 'none' },
    'GET /api/v2/internal/metrics': { auth: 'token' },
    'POST /api/v2/legacy/sync': { auth: 'token' },
    'POST /api/v2/partners/:partnerId/webhooks': 'webhooks:write',
    'GET /api/v2/reports': { auth: 'none' },
    'GET /api/v2/reports/:reportId': { auth: 'token' },
    'GET /api/v2/vehicles': 'vehicles:read',
    'POST /api/v2/vehicles': { all_of: ['vehicles:write', 'vehicles:read'] },
    'PUT /api/v2/vehicles/:id': 'vehicles:write',
    'GET /api/v2/vehicles/:vehicleId': { any_of: ['vehicles:read', 'fleet:admin'] },
    'PATCH /api/v2/vehicles/:vehicleId': 'vehicles:write',
    'DELETE /api/v2/vehicles/:vehicleId': { all_of: ['vehicles:write', 'vehicles:delete'] },
    'GET /api/v2/vehicles/:vehicle_id/positions/:position_ts': 'positions:read',
  });
  t.equal(doc.upstream.url, 'https://eu.fleet.example.net', 'server variables at their defaults');
  t.equal(r.warnings.length, 15, '14, and the write operation that needs no scope (POST /legacy/sync)');
  t.match(r.warnings.join('\n'), /write operations that need no scope \(\{ auth: token \}: any valid token can change data\): POST \/legacy\/sync$/m);
  t.match(r.yaml, /# deprecated in the spec\n {2}DELETE \/api\/v2\/vehicles\/:vehicleId/);
  t.match(r.yaml, /oidc \(openIdConnect\): https:\/\/login\.fleet\.example\.net\/\.well-known\/openid-configuration/);
});
