/**
 * `scopes:` — the scope catalogue: scope name → its description and flags, as
 * real APIs publish them. Keys are data (scope names), like routes; each
 * scope's details are a field table like any section.
 */
import { objectSchema, readFields, withDefaults, type Rows } from './fields.js';
import { bool, mapped, oneOf, str, type JsonSchema } from './readers.js';
import type { ScopeInfo } from './schema.js';
import { invalidScopeMessage, readScope, SCOPE_TOKEN } from './values.js';
import { childPath, entries, findValue, isNothing, type Reporter, type YNode } from './yaml-reader.js';

const SCOPE: Rows<Omit<ScopeInfo, 'name' | 'position'>> = {
  description: { key: 'description', read: str({ nonEmpty: true }), doc: 'What the scope grants (discovery, token info, check).' },
  displayName: { key: 'display_name', read: str({ nonEmpty: true }) },
  required: {
    key: 'required',
    read: bool,
    default: false,
    doc: "Every request on a token-protected route must carry it, in addition to the route's requirement.",
  },
  discoverable: { key: 'discoverable', read: bool, default: true, doc: 'Listed in scopes_supported of /.well-known/oauth-protected-resource (RFC 9728).' },
  defaultOn: {
    key: 'default',
    read: mapped(oneOf(['on', 'off'] as const), (v) => v === 'on'),
    doc: 'Whether clients get it unless they opt out (informational).',
  },
  destructive: { key: 'destructive', read: bool, default: false, doc: 'Grants destructive operations; check warns when a GET requires it.' },
  deprecated: { key: 'deprecated', read: bool, default: false },
  replacedBy: {
    key: 'replaced_by',
    read: readScope,
    doc: 'With deprecated: true — routes requiring this replacement also accept the deprecated scope (counted in scopegate_deprecated_scope_use_total).',
  },
};

/** `scopes:` → the catalogue in file order; an invalid scope is reported and left out. */
export function readCatalogue(node: YNode, path: string, r: Reporter, file: string): ScopeInfo[] | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const out: ScopeInfo[] = [];
  for (const { key, keyNode, value } of list) {
    const keyPath = childPath(path, key);
    if (!SCOPE_TOKEN.test(key)) {
      r.error(keyNode, keyPath, invalidScopeMessage(key));
      continue;
    }
    // `read:x:` with nothing after it is a scope with no details.
    const f = isNothing(value) ? {} : readFields(value, keyPath, r, SCOPE);
    if (f === undefined) continue;
    if (f.replacedBy !== undefined && f.deprecated !== true) {
      r.error(findValue(value, 'replaced_by'), childPath(keyPath, 'replaced_by'), 'only a deprecated scope has a replacement: add deprecated: true');
    }
    out.push({ name: key, ...withDefaults(SCOPE, f), position: { file, ...r.position(keyNode) } });
  }
  return out;
}

export const CATALOGUE_DOC =
  'The scope catalogue: every scope the API knows, with its description and flags. When present, every scope a route requires must be listed here.';

export const CATALOGUE_SCHEMA: JsonSchema = {
  type: 'object',
  propertyNames: { $ref: '#/$defs/scope' },
  additionalProperties: {
    oneOf: [{ type: 'null', description: 'A scope with no details.' }, objectSchema(SCOPE)],
  },
};
