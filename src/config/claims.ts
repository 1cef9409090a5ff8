/**
 * Readers and checks for tokens from real identity providers (README, "Identity
 * providers"): claim references (`scope_claims`, route `where`), issuer templates
 * with `{tid}` and their `tenants`, `client_ids`, `require_claims` and `typ`.
 */
import { isScalar, isSeq } from 'yaml';
import { listOf, reader, str, type Reader } from './readers.js';
import { claimLabel } from '../auth/claim-ref.js';
import type { ClaimRef } from './schema.js';
import { childPath, entries, findKeyNode, findValue, indexPath, refuseAlias, unknownKeyMessage, type Reporter, type YNode } from './yaml-reader.js';

/** The one placeholder an issuer may hold: the token's own `tid` claim (Entra ID multi-tenant apps). */
export const TENANT_PLACEHOLDER = '{tid}';
/** `tenants: [any]` accepts every tenant, on purpose. */
export const ANY_TENANT = 'any';
/**
 * A tenant id as scopegate accepts it in a token and in config: Entra ID's are GUIDs;
 * the bound keeps a hostile `tid` from shaping the issuer string it is spliced into.
 */
export const TENANT_ID = /^[A-Za-z0-9-]{1,64}$/;

const claimName = str({ nonEmpty: true });
const claimPath = listOf(str({ nonEmpty: true }), { nonEmpty: true });

const CLAIM_REF_SCHEMA = {
  oneOf: [
    { type: 'string', minLength: 1, description: 'A top-level claim name, taken literally (dots and all).' },
    { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { ...claimPath.schema, description: 'Keys into nested objects.' } } },
  ],
};

/** A claim name taken literally, or `{ path: [key, …] }` into nested objects. */
export const readClaimRef: Reader<ClaimRef> = reader(CLAIM_REF_SCHEMA, (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node)) return claimName(node, path, r);
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  let keys: string[] | undefined;
  for (const { key, keyNode, value } of list) {
    if (key !== 'path') {
      r.error(keyNode, childPath(path, key), `${unknownKeyMessage(key, ['path'])}; a claim is a name or { path: [key, …] }`);
      return undefined;
    }
    keys = claimPath(value, childPath(path, key), r);
    if (keys === undefined) return undefined;
  }
  if (keys === undefined) {
    r.error(node, path, 'missing required key "path"');
    return undefined;
  }
  return { path: keys };
});

/** The de-duplicated list of `scope_claims` (global or per issuer). */
export const readScopeClaims: Reader<ClaimRef[]> = reader(listOf(readClaimRef, { nonEmpty: true }).schema, (node, path, r) => {
  const refs = listOf(readClaimRef, { nonEmpty: true })(node, path, r);
  if (refs === undefined || !isSeq(node)) return refs;
  const seen = new Set<string>();
  for (const [i, ref] of refs.entries()) {
    const key = JSON.stringify(ref);
    if (seen.has(key)) {
      r.error(node.items[i] as YNode, indexPath(path, i), `duplicate ${JSON.stringify(claimLabel(ref))}`);
      return undefined;
    }
    seen.add(key);
  }
  return refs;
});

const tenantId = str({
  nonEmpty: true,
  schema: { type: 'string', pattern: TENANT_ID.source },
  check: (s) => (s === ANY_TENANT || TENANT_ID.test(s) ? undefined : 'must be 1-64 characters of A-Z a-z 0-9 and -, or any'),
});

/** `tenants:` the accepted `tid` values, or `[any]` alone. */
export const readTenants: Reader<string[]> = reader(listOf(tenantId, { nonEmpty: true, unique: true }).schema, (node, path, r) => {
  const list = listOf(tenantId, { nonEmpty: true, unique: true })(node, path, r);
  if (list !== undefined && list.includes(ANY_TENANT) && list.length > 1) {
    r.error(node, path, '[any] accepts every tenant and stands alone');
    return undefined;
  }
  return list;
});

/** `require_claims:` top-level claim → the exact string it must equal. */
export const readRequireClaims: Reader<Record<string, string>> = reader(
  { type: 'object', additionalProperties: { type: 'string' } },
  (node, path, r) => {
    const list = entries(node, path, r);
    if (list === undefined) return undefined;
    const out: Record<string, string> = {};
    let ok = true;
    for (const { key, value } of list) {
      const v = str()(value, childPath(path, key), r);
      if (v === undefined) ok = false;
      else out[key] = v;
    }
    return ok ? out : undefined;
  },
);

/** A media type as a JWS `typ` carries it (RFC 7515 §4.1.9): visible ASCII, no spaces. */
const typValue = str({
  nonEmpty: true,
  check: (s) => (/^[\x21-\x7e]+$/.test(s) ? undefined : 'must be a media type such as at+jwt or JWT'),
});
export const readTyp = listOf(typValue, { nonEmpty: true, unique: true });

/**
 * Per issuer, checks across its keys, on the YAML itself so that each item is checked
 * even when another has errors: `audiences` or `client_ids`; an issuer template with
 * exactly one `{tid}` and `tenants`; `tenants` only with a template.
 */
export function checkIssuerShapes(issuersNode: YNode, r: Reporter): void {
  if (!isSeq(issuersNode)) return;
  issuersNode.items.forEach((item, i) => {
    const path = `auth.issuers[${i}]`;
    const node = item as YNode;
    if (findKeyNode(node, 'audiences') === undefined && findKeyNode(node, 'client_ids') === undefined) {
      r.error(node, path, 'needs audiences or client_ids (or both): without either, this issuer\'s tokens for any other API would be accepted');
    }
    const issuerNode = findValue(node, 'issuer');
    if (!isScalar(issuerNode) || typeof issuerNode.value !== 'string') return;
    const template = templateProblem(issuerNode.value);
    if (template !== undefined) r.error(issuerNode, `${path}.issuer`, template);
    const isTemplate = issuerNode.value.includes(TENANT_PLACEHOLDER);
    const tenantsKey = findKeyNode(node, 'tenants');
    if (isTemplate && tenantsKey === undefined) {
      r.error(node, path, `missing required key "tenants": an issuer with ${TENANT_PLACEHOLDER} accepts only the tenants listed (or [any])`);
    } else if (!isTemplate && tenantsKey !== undefined) {
      r.error(tenantsKey, `${path}.tenants`, `only applies to an issuer template with ${TENANT_PLACEHOLDER}`);
    }
  });
}

/** Exactly one `{tid}` when there is any brace at all; any other `{` or `}` is a mistake. */
function templateProblem(issuer: string): string | undefined {
  const parts = issuer.split(TENANT_PLACEHOLDER);
  if (parts.length > 2) return `holds ${TENANT_PLACEHOLDER} more than once: an issuer template has exactly one placeholder`;
  if (parts.some((p) => p.includes('{') || p.includes('}'))) return `the only placeholder an issuer may hold is ${TENANT_PLACEHOLDER}; other braces are not allowed`;
  return undefined;
}
