// config/scopegate.schema.json (for editors; generated from the loader's tables,
// see json-schema.test.ts) and src/config/load.ts (authoritative) must agree:
// the same fixtures go through both, and the schema's defaults, ranges and
// enums are compared with DEFAULTS, INTEGER_RANGES and ALGORITHMS.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfigText } from '../../../src/config/load.js';
import { ALGORITHMS, DEFAULTS, HTTP_METHODS, INTEGER_RANGES } from '../../../src/config/schema.js';

const fixtures = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const configDir = fileURLToPath(new URL('../../../config/', import.meta.url));

/** A JSON Schema node, as far as this test reads one. */
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  description?: string;
  $ref?: string;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: { pattern?: string };
}

const schema = JSON.parse(readFileSync(`${configDir}scopegate.schema.json`, 'utf8')) as SchemaNode;
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

function fixtureFiles(dir: string): Array<{ name: string; text: string }> {
  return readdirSync(`${fixtures}${dir}`)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((name) => ({ name, text: readFileSync(`${fixtures}${dir}/${name}`, 'utf8') }));
}

function loaderAccepts(text: string, name: string): boolean {
  return loadConfigText(text, name).config !== undefined;
}

function schemaAccepts(text: string): boolean {
  return validate(parse(text)) === true;
}

t.test('valid fixtures and the bundled config: both accept', async (t) => {
  const files = [...fixtureFiles('valid'), { name: 'config/scopegate.yaml', text: readFileSync(`${configDir}scopegate.yaml`, 'utf8') }];
  t.ok(files.length >= 4);
  for (const { name, text } of files) {
    t.ok(loaderAccepts(text, name), `loader accepts ${name}`);
    t.ok(schemaAccepts(text), `schema accepts ${name}: ${ajv.errorsText(validate.errors)}`);
  }
});

t.test('invalid fixtures: both reject', async (t) => {
  const files = [...fixtureFiles('invalid'), { name: 'five-mistakes.yaml', text: readFileSync(`${fixtures}five-mistakes.yaml`, 'utf8') }];
  t.ok(files.length >= 8);
  for (const { name, text } of files) {
    t.notOk(loaderAccepts(text, name), `loader rejects ${name}`);
    t.notOk(schemaAccepts(text), `schema rejects ${name}`);
  }
});

t.test('loader-only fixtures: the loader rejects what JSON Schema cannot express', async (t) => {
  for (const { name, text } of fixtureFiles('loader-only')) {
    const expectsError = /^# expect:/m.test(text);
    t.equal(loaderAccepts(text, name), !expectsError, `loader ${expectsError ? 'rejects' : 'accepts'} ${name}`);
    let data: unknown;
    try {
      data = parse(text);
    } catch {
      // YAML-level problems (syntax, duplicate keys) never reach a JSON validator.
      continue;
    }
    // If the schema starts rejecting one of these, it has learnt to express it: move the fixture to invalid/.
    t.ok(validate(data), `schema accepts ${name} (not expressible in JSON Schema)`);
  }
});

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Every integer property of the schema with its camelCase path, e.g. ['auth', 'jwks', 'maxAgeS']. */
function integerProperties(node: SchemaNode, path: string[] = []): Array<{ path: string[]; node: SchemaNode }> {
  const out: Array<{ path: string[]; node: SchemaNode }> = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = [...path, camel(key)];
    if (child.type === 'integer') out.push({ path: p, node: child });
    out.push(...integerProperties(child, p));
  }
  return out;
}

function at(obj: unknown, path: readonly string[]): unknown {
  let v = obj;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

t.test('integer defaults and ranges agree with DEFAULTS and INTEGER_RANGES', async (t) => {
  const ints = integerProperties(schema);
  const rangePaths = (o: object, path: string[] = []): string[] =>
    Object.entries(o).flatMap(([k, v]: [string, unknown]) =>
      Array.isArray(v) ? [[...path, k].join('.')] : rangePaths(v as object, [...path, k]),
    );
  t.same(ints.map((i) => i.path.join('.')).sort(), rangePaths(INTEGER_RANGES).sort(), 'the schema has exactly the integer options of INTEGER_RANGES');
  for (const { path, node } of ints) {
    const name = path.join('.');
    t.equal(node.default, at(DEFAULTS, path), `${name} default`);
    t.same([node.minimum, node.maximum], at(INTEGER_RANGES, path), `${name} range`);
    t.ok((node.description ?? '').length > 10, `${name} has a description`);
  }
});

t.test('other defaults and enums agree', async (t) => {
  const p = schema.properties ?? {};
  const auth = p.auth?.properties ?? {};
  const issuer = auth.issuers?.items?.properties ?? {};
  t.same(issuer.algorithms?.items?.enum, ALGORITHMS);
  t.same(issuer.algorithms?.default, DEFAULTS.auth.algorithms);
  t.same(auth.scope_claims?.default, DEFAULTS.auth.scopeClaims);
  t.equal(auth.scope_matching?.default, DEFAULTS.auth.scopeMatching);
  t.equal(auth.realm?.default, DEFAULTS.auth.realm);
  t.equal(p.unmatched?.default, DEFAULTS.unmatched);
  t.equal(p.listen?.default, `${DEFAULTS.listen.host}:${DEFAULTS.listen.port}`);
  t.equal(p.admin_listen?.default, `${DEFAULTS.adminListen.host}:${DEFAULTS.adminListen.port}`);
  const routeKey = p.routes?.propertyNames?.pattern ?? '';
  for (const m of HTTP_METHODS) t.ok(routeKey.includes(m), `route key pattern knows ${m}`);
});

t.test('valid/full.yaml sets every option the schema declares', async (t) => {
  // With ajv accepting full.yaml (no additional properties anywhere), this makes
  // the schema's keys and full.yaml's keys the same set — and the loader accepts full.yaml.
  const full: unknown = parse(readFileSync(`${fixtures}valid/full.yaml`, 'utf8'));
  // Options that exclude one another in full.yaml: each is set in the valid fixture named here instead.
  const alternatives: Record<string, string> = {
    'auth.introspection.client_secret_env': 'introspection-only.yaml',
    // tenants belongs to a {tid} issuer template only.
    'auth.issuers.[0].tenants': 'issuer-template.yaml',
    // `tls` names files that must exist to load (keys are never committed): the loader-only fixture sets it.
    tls: '../loader-only/tls-files-missing.yaml',
  };
  const walk = (node: SchemaNode, value: unknown, path: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const elsewhere = alternatives[`${path}${key}`];
      if (elsewhere !== undefined) {
        t.match(readFileSync(`${fixtures}valid/${elsewhere}`, 'utf8'), new RegExp(`^\\s*${key}:`, 'm'), `${path}${key} is set in ${elsewhere}`);
        continue;
      }
      const v = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      t.not(v, undefined, `${path}${key} is set in full.yaml`);
      walk(child, v, `${path}${key}.`);
    }
    if (node.items !== undefined && Array.isArray(value)) walk(node.items, value[0], `${path}[0].`);
  };
  walk(schema, full, '');
});

t.test('unknown keys are rejected by both at every level', async (t) => {
  const base = readFileSync(`${fixtures}valid/full.yaml`, 'utf8');
  const insertions: Array<[string, string]> = [
    ['version: 1\n', 'version: 1\nbogus: 1\n'],
    ['  timeout_ms: 60000\n', '  timeout_ms: 60000\n  bogus: 1\n'],
    ['  clock_skew_s: 0\n', '  clock_skew_s: 0\n  bogus: 1\n'],
    ['      audiences: [api]\n', '      audiences: [api]\n      bogus: 1\n'],
    ['    max_bytes: 65536\n', '    max_bytes: 65536\n    bogus: 1\n'],
    ['  scopes: x-user-scopes\n', '  scopes: x-user-scopes\n  bogus: x\n'],
    ['  drain_timeout_ms: 0\n', '  drain_timeout_ms: 0\n  bogus: 1\n'],
    ['{ auth: none }', '{ auth: none, bogus: 1 }'],
  ];
  for (const [from, to] of insertions) {
    t.ok(base.includes(from), `full.yaml contains ${JSON.stringify(from)}`);
    const text = base.replace(from, to);
    t.notOk(loaderAccepts(text, 'x.yaml'), `loader rejects bogus after ${JSON.stringify(from)}`);
    t.notOk(schemaAccepts(text), `schema rejects bogus after ${JSON.stringify(from)}`);
  }
});
