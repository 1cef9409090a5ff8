/** sections.ts and fields.ts: one row per option, and what is derived from the rows. */
import t from 'tap';
import { readFields, withDefaults, type Row, type Rows } from '../../../src/config/fields.js';
import { loadConfigText } from '../../../src/config/load.js';
import { int, str } from '../../../src/config/readers.js';
import { AUTH, DEFAULTS, IDENTITY_HEADERS, INTEGER_RANGES, ISSUER, JWKS, LIMITS, RESOURCE, TOP, UPSTREAM } from '../../../src/config/sections.js';
import { readYaml } from './read-yaml.js';

const TABLES: Record<string, Rows<object>> = { UPSTREAM, ISSUER, JWKS, AUTH, IDENTITY_HEADERS, LIMITS, RESOURCE, TOP };

function rowsOf(rows: Rows<object>): Array<[string, Row<unknown>]> {
  return Object.entries(rows) as Array<[string, Row<unknown>]>;
}

t.test('each YAML key is the snake_case of its Config property, once per table', async (t) => {
  for (const [name, rows] of Object.entries(TABLES)) {
    const keys = rowsOf(rows).map(([, row]) => row.key);
    t.equal(new Set(keys).size, keys.length, `${name}: keys are unique`);
    for (const [prop, row] of rowsOf(rows)) t.equal(row.key, prop.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), `${name}.${prop}`);
  }
});

t.test('every option of upstream, auth, jwks and limits is required or has a default within its range', async (t) => {
  for (const [name, rows] of Object.entries({ UPSTREAM, ISSUER, JWKS, AUTH, LIMITS })) {
    for (const [prop, row] of rowsOf(rows)) {
      // Optional sections (auth.introspection, auth.dpop, auth.mtls) are absent unless configured: a default
      // would switch the feature on. Their own rows carry the defaults.
      const optionalSection = name === 'AUTH' && (prop === 'introspection' || prop === 'dpop' || prop === 'mtls');
      // Per-issuer options whose absence means "as before": the global scope_claims, no template, no typ list.
      const optionalIssuerOption = name === 'ISSUER' && (prop === 'scopeClaims' || prop === 'tenants' || prop === 'typ');
      t.ok(row.required === true || row.default !== undefined || optionalSection || optionalIssuerOption, `${name}.${prop} is required or has a default`);
      t.ok((row.doc ?? '').length > 10, `${name}.${prop} is documented`);
      const range = (row.read as { range?: readonly [number, number] }).range;
      if (range !== undefined && typeof row.default === 'number') {
        t.ok(row.default >= range[0] && row.default <= range[1], `${name}.${prop}: default ${row.default} within [${range.join(', ')}]`);
      }
    }
  }
});

t.test('DEFAULTS and INTEGER_RANGES are the rows’ defaults and ranges', async (t) => {
  t.same(DEFAULTS.upstream, { timeoutMs: UPSTREAM.timeoutMs.default, connectTimeoutMs: UPSTREAM.connectTimeoutMs.default, connections: UPSTREAM.connections.default, keepAliveTimeoutMs: UPSTREAM.keepAliveTimeoutMs.default });
  t.same(DEFAULTS.auth.algorithms, ISSUER.algorithms.default);
  t.same(DEFAULTS.auth.jwks, { maxAgeS: 600, cooldownS: 10, timeoutMs: 5000, maxBytes: 1_048_576 });
  t.same(INTEGER_RANGES.auth.jwks, { maxAgeS: [1, 604_800], cooldownS: [1, 3_600], timeoutMs: [1, 120_000], maxBytes: [1_024, 16_777_216] });
  t.same(INTEGER_RANGES.limits.requestTimeoutMs, [0, 86_400_000]);
  t.notOk('url' in DEFAULTS.upstream, 'a required option has no default');
});

t.test('a loaded Config never shares (or freezes) an object of DEFAULTS', async (t) => {
  const text = 'upstream: { url: http://127.0.0.1:1 }\nauth:\n  issuers: [{ issuer: i, jwks_uri: http://127.0.0.1:2/j, audiences: [a] }]\nroutes:\n  GET /a: { auth: none }\n';
  const a = loadConfigText(text, 'a.yaml').config!;
  const b = loadConfigText(text, 'b.yaml').config!;
  t.ok(Object.isFrozen(a.limits));
  t.notOk(Object.isFrozen(DEFAULTS.limits), 'DEFAULTS.limits not frozen by loading');
  t.notOk(Object.isFrozen(DEFAULTS.auth.scopeClaims));
  t.not(a.listen, DEFAULTS.listen);
  t.not(a.auth.scopeClaims, b.auth.scopeClaims, 'each Config has its own copy');
  t.same(a.auth.scopeClaims, DEFAULTS.auth.scopeClaims);
});

interface Two {
  readonly timeoutMs: number;
  readonly name: string | undefined;
  readonly origin: string;
}
const TWO: Rows<Two> = {
  timeoutMs: { key: 'timeout_ms', read: int([1, 10]), default: 5 },
  name: { key: 'name', read: str() },
  origin: { key: 'origin', read: str(), required: true },
};

t.test('readFields: unknown keys with a guess, missing required keys, invalid values left out', async (t) => {
  const { value, issues } = readYaml('timeoutMs: 3\nname: 4\n', (node, path, r) => readFields(node, path, r, TWO), 's');
  t.same(value, {});
  t.same(issues, ['1:1 s.timeoutMs: unknown key "timeoutMs" (did you mean timeout_ms?)', '2:7 s.name: must be a string, got number 4', '1:1 s: missing required key "origin"']);
});

t.test('withDefaults: row order, defaults copied, unset left undefined or left out', async (t) => {
  t.same(Object.entries(withDefaults(TWO, { origin: 'o' })), [['timeoutMs', 5], ['name', undefined], ['origin', 'o']]);
  t.same(Object.keys(withDefaults(TWO, { origin: 'o' }, 'leave out')), ['timeoutMs', 'origin']);
  t.same(withDefaults(IDENTITY_HEADERS, {}, 'leave out'), {});
});
