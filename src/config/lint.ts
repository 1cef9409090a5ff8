/**
 * Checks that need more than one value: routes against the scope catalogue,
 * the least-privilege lint (warnings: `check` prints them, hot reload logs
 * them), and the few rules between options of the same file.
 */
import { isScalar, isSeq } from 'yaml';
import { unscopedWriteWarning, WRITE_METHODS } from './vocabulary.js';
import type { AuthConfig, IdentityHeaders, Requirement, RouteConfig, ScopeInfo, ServerLimits } from './schema.js';
import { foldHeaderName } from '../proxy/headers.js';
import { childPath, findKeyNode, findValue, type Reporter, type YNode } from './yaml-reader.js';

/** Scopes named by a requirement (none for auth: none / auth: token). */
function requirementScopes(req: Requirement): readonly string[] {
  return req.kind === 'all_of' || req.kind === 'any_of' ? req.scopes : [];
}

/** `org:read`, `read:pets`, `orgs.readonly`, `repo_read`: scopes whose name says they only read. */
const READ_STYLE = /(^|[:._/-])read(only)?($|[:._/-])/i;

/** Each route's scopes against the catalogue, and the least-privilege warnings; returns the scopes some route requires. */
function checkRoutes(routes: readonly RouteConfig[], routesNode: YNode, byName: ReadonlyMap<string, ScopeInfo>, hasCatalogue: boolean, r: Reporter): Set<string> {
  const used = new Set<string>();
  for (const route of routes) {
    const at = findKeyNode(routesNode, route.key);
    const path = childPath('routes', route.key);
    const scopes = requirementScopes(route.requirement);
    for (const scope of scopes) {
      used.add(scope);
      const info = byName.get(scope);
      if (hasCatalogue && info === undefined) {
        r.error(at, path, `scope ${JSON.stringify(scope)} is not in the scopes catalogue`);
      } else if (info?.deprecated === true) {
        r.warning(at, path, `requires the deprecated scope ${JSON.stringify(scope)}${info.replacedBy === undefined ? '' : `; require ${JSON.stringify(info.replacedBy)} (tokens with the old scope are still accepted)`}`);
      }
    }
    if (scopes.length > 0) {
      const writes = route.methods.filter((m) => WRITE_METHODS.has(m));
      if (writes.length > 0 && !route.anyMethod && scopes.every((s) => READ_STYLE.test(s))) {
        r.warning(at, path, `${writes.join(',')} is protected only by read scope${scopes.length > 1 ? 's' : ''} (${scopes.join(', ')}): a read-only token can change data`);
      }
      if (route.methods.includes('GET')) {
        const destructive = scopes.filter((s) => byName.get(s)?.destructive === true);
        if (destructive.length > 0 && route.requirement.kind === 'all_of') {
          r.warning(at, path, `GET requires the destructive scope ${destructive.join(', ')}: reading should not need a scope that can destroy`);
        }
      }
    }
    // A "*" route gets the warning below, which already names DELETE.
    if (!route.anyMethod && (route.requirement.kind === 'token' || route.requirement.kind === 'none')) {
      const writes = route.methods.filter((m) => WRITE_METHODS.has(m));
      if (writes.length > 0) r.warning(at, path, unscopedWriteWarning(writes, route.requirement.kind));
    }
    if (route.anyMethod) {
      r.warning(at, path, `"*" allows every method (including DELETE) under one requirement; list the methods the API serves`);
    }
  }
  return used;
}

/** Cross-checks that need the routes and the catalogue together. */
export function checkCatalogue(routes: readonly RouteConfig[], routesNode: YNode, catalogue: readonly ScopeInfo[] | undefined, catalogueNode: YNode, r: Reporter): void {
  const byName = new Map((catalogue ?? []).map((c) => [c.name, c]));
  const used = checkRoutes(routes, routesNode, byName, catalogue !== undefined, r);
  if (catalogue === undefined) return;
  for (const info of catalogue) {
    const at = findKeyNode(catalogueNode, info.name);
    const path = childPath('scopes', info.name);
    // Without deprecated: true, readCatalogue already reported replaced_by.
    if (info.replacedBy !== undefined && info.deprecated) {
      const target = byName.get(info.replacedBy);
      const replacedByNode = findValue(findValue(catalogueNode, info.name), 'replaced_by');
      if (target === undefined) r.error(replacedByNode, childPath(path, 'replaced_by'), `${JSON.stringify(info.replacedBy)} is not in the scopes catalogue`);
      else if (target.deprecated) r.error(replacedByNode, childPath(path, 'replaced_by'), `${JSON.stringify(info.replacedBy)} is itself deprecated: name the current scope`);
    }
    if (info.deprecated && info.required) r.error(at, path, 'a deprecated scope cannot be required of every request');
    const aliasUsed = info.deprecated && info.replacedBy !== undefined && used.has(info.replacedBy);
    if (!used.has(info.name) && !info.required && !aliasUsed) {
      r.warning(at, path, 'no route requires this scope');
    }
  }
}

/** Each issuer is listed once: two entries for one `iss` would make the key set ambiguous. */
export function checkUniqueIssuers(issuersNode: YNode, r: Reporter): void {
  if (!isSeq(issuersNode)) return;
  const seen = new Set<string>();
  issuersNode.items.forEach((item, i) => {
    const node = findValue(item as YNode, 'issuer');
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') return;
    if (seen.has(node.value)) r.error(node, `auth.issuers[${i}].issuer`, `duplicate issuer ${JSON.stringify(node.value)}: each issuer is listed once`);
    seen.add(node.value);
  });
}

/** The two identity headers must differ as the proxy compares names (folded), or one would overwrite the other. */
export function checkIdentityHeaders(headers: IdentityHeaders, identityNode: YNode, r: Reporter): void {
  const { subject, scopes } = headers;
  if (subject !== undefined && scopes !== undefined && foldHeaderName(subject) === foldHeaderName(scopes)) {
    r.error(findValue(identityNode, 'scopes'), 'identity_headers.scopes', 'must differ from identity_headers.subject');
  }
}

/** Node's http.Server refuses to start when headersTimeout exceeds a non-zero requestTimeout. */
export function checkTimeouts(limits: ServerLimits, limitsNode: YNode, r: Reporter): void {
  if (limits.requestTimeoutMs !== 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    const at = findValue(limitsNode, 'headers_timeout_ms') ?? findValue(limitsNode, 'request_timeout_ms');
    r.error(at, 'limits.headers_timeout_ms', `must not exceed limits.request_timeout_ms (${limits.requestTimeoutMs})`);
  }
}

/**
 * A sender-constrained requirement (`auth.require_sender_constrained`, or a route's
 * `sender_constrained: true`) with neither `auth.dpop` nor `auth.mtls` configured can
 * never be met: a token without `cnf` is refused as unbound, and one with `cnf` because
 * its binding method is not configured (README, Sender-constrained tokens). Every
 * token-bearing request there would be a 401, so it is an error, not a warning.
 */
export function checkSenderConstrained(auth: AuthConfig | undefined, routes: readonly RouteConfig[], authNode: YNode, routesNode: YNode, r: Reporter): void {
  if (auth === undefined || auth.dpop !== undefined || auth.mtls !== undefined) return;
  const why = 'but neither auth.dpop nor auth.mtls is configured, so no token can ever satisfy it: configure the binding your tokens carry (cnf.jkt: dpop, cnf.x5t#S256: mtls)';
  if (auth.requireSenderConstrained) {
    r.error(findValue(authNode, 'require_sender_constrained'), 'auth.require_sender_constrained', `is true, ${why}`);
    return;
  }
  for (const route of routes) {
    if (route.senderConstrained === true) r.error(findKeyNode(routesNode, route.key), childPath('routes', route.key), `sender_constrained: true, ${why}`);
  }
}
