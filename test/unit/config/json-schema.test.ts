/**
 * config/scopegate.schema.json is generated from the loader's tables
 * (src/config/json-schema.ts): the committed file must be exactly what they
 * generate. After changing a table: npm run build && node scripts/gen-schema.mjs
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { configJsonSchema, configJsonSchemaText } from '../../../src/config/json-schema.js';
import { TOP } from '../../../src/config/sections.js';

const committed = readFileSync(fileURLToPath(new URL('../../../config/scopegate.schema.json', import.meta.url)), 'utf8');

t.test('the committed schema is the generated one', async (t) => {
  t.equal(committed, configJsonSchemaText(), 'config/scopegate.schema.json is stale: npm run build && node scripts/gen-schema.mjs');
});

t.test('the generated schema compiles under ajv strict mode', async (t) => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  t.doesNotThrow(() => ajv.compile(configJsonSchema()));
});

t.test('the top level lists every row of TOP, and requires the required ones', async (t) => {
  const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
  const rows = Object.values(TOP);
  t.same(Object.keys(schema.properties), rows.map((row) => row.key));
  // `upstream` is required unless the config is authz-only (authz_listen, no listen): the anyOf below.
  t.same(schema.required, rows.filter((row) => row.required === true && row.key !== 'upstream').map((row) => row.key));
  t.equal(schema.additionalProperties, false);
});

t.test('upstream may be left out only with authz_listen and without listen', async (t) => {
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(configJsonSchema());
  const base = { auth: { issuers: [{ issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/jwks', audiences: ['api'] }] }, routes: { 'GET /a': 'a:read' } };
  t.ok(validate({ ...base, upstream: { url: 'http://127.0.0.1:3000' } }), 'with upstream');
  t.ok(validate({ ...base, authz_listen: '127.0.0.1:8181' }), 'authz only');
  t.ok(validate({ ...base, authz_listen: '127.0.0.1:8181', upstream: { url: 'http://127.0.0.1:3000' } }), 'both listeners');
  t.notOk(validate(base), 'neither upstream nor authz_listen');
  t.notOk(validate({ ...base, authz_listen: '127.0.0.1:8181', listen: '127.0.0.1:8080' }), 'listen without upstream');
});
