/**
 * schema.ts documents each option's default for readers of the code; the value
 * itself lives in the option's row (sections.ts). This keeps the two from drifting.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Row, Rows } from '../../../src/config/fields.js';
import { INTROSPECTION } from '../../../src/config/introspection.js';
import { AUTH, ISSUER, JWKS, LIMITS, TOP, UPSTREAM } from '../../../src/config/sections.js';

const source = readFileSync(fileURLToPath(new URL('../../../src/config/schema.ts', import.meta.url)), 'utf8');

/** `prop → "Default …" text` of one interface's doc comments. */
function documentedDefaults(name: string): Map<string, string> {
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1] ?? '';
  const out = new Map<string, string>();
  for (const m of body.matchAll(/\/\*\*([^*]*(?:\*(?!\/)[^*]*)*)\*\/\s*readonly (\w+)/g)) {
    const text = /Default:? (.+?)\.(?: |$)/.exec((m[1] ?? '').trim())?.[1];
    if (text !== undefined && m[2] !== undefined) out.set(m[2], text);
  }
  return out;
}

/** The ways schema.ts writes a default: 600, 1 MiB, [RS256], "scopegate", exact, 127.0.0.1:8080. */
function spellings(value: unknown): string[] {
  if (typeof value === 'number') return [String(value), `${value / 1_048_576} MiB`];
  if (Array.isArray(value)) return [`[${value.join(', ')}]`];
  if (typeof value === 'string') return [value, JSON.stringify(value)];
  if (typeof value === 'object' && value !== null && 'port' in value) {
    const { host, port } = value as { host: string; port: number };
    return [`${host}:${port}`];
  }
  return [String(value)];
}

const TABLES: Array<[string, Rows<object>]> = [
  ['UpstreamConfig', UPSTREAM],
  ['IssuerConfig', ISSUER],
  ['JwksConfig', JWKS],
  ['AuthConfig', AUTH],
  ['IntrospectionConfig', INTROSPECTION],
  ['ServerLimits', LIMITS],
  ['Config', TOP],
];

t.test('every documented default in schema.ts is the default of its row', async (t) => {
  for (const [name, rows] of TABLES) {
    const documented = documentedDefaults(name);
    t.ok(documented.size > 0, `${name} documents defaults`);
    for (const [prop, row] of Object.entries(rows) as Array<[string, Row<unknown>]>) {
      const text = documented.get(prop);
      if (row.default === undefined || text === undefined) continue;
      t.ok(spellings(row.default).includes(text), `${name}.${prop}: documented "${text}", row default ${JSON.stringify(row.default)}`);
    }
  }
});

t.test('every scalar option with a default documents it', async (t) => {
  for (const [name, rows] of TABLES) {
    const documented = documentedDefaults(name);
    for (const [prop, row] of Object.entries(rows) as Array<[string, Row<unknown>]>) {
      const d = row.default;
      // A section's defaults are documented on its own fields.
      if (d === undefined || (typeof d === 'object' && d !== null && !Array.isArray(d) && !('port' in d))) continue;
      if (name === 'Config' && prop === 'unmatched') continue; // its only value; the comment says so
      t.ok(documented.has(prop), `${name}.${prop} documents its default`);
    }
  }
});
