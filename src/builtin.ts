/**
 * Responses scopegate writes itself, never forwarded: the protected-resource
 * metadata of RFC 9728 and token info for APIs that lack a `/me`.
 * Both bodies are built from config and verified claims only.
 */
import type { ServerResponse } from 'node:http';
import type { VerifiedToken } from './auth/types.js';
import type { Config, ScopeInfo } from './config/schema.js';

export const WELL_KNOWN_RESOURCE = '/.well-known/oauth-protected-resource';

export interface Discovery {
  /** The path scopegate answers on (path-inserted form when the identifier has a path, RFC 9728 §3.1). */
  readonly path: string;
  /** Absolute metadata URL, for `resource_metadata` in challenges (RFC 9728 §5.1). */
  readonly url: string;
  /** The JSON document, serialized once per config. */
  readonly body: string;
}

/** Undefined when the config has no `resource:` section (then nothing is served). */
export function createDiscovery(config: Config): Discovery | undefined {
  const resource = config.resource;
  if (resource === undefined) return undefined;
  const id = new URL(resource.identifier);
  // §3.1: drop a terminating slash after the host, then insert the well-known path before the resource's path.
  const resourcePath = id.pathname === '/' ? '' : id.pathname.replace(/\/$/, '');
  const path = `${WELL_KNOWN_RESOURCE}${resourcePath}`;
  const document: Record<string, unknown> = {
    resource: resource.identifier,
    authorization_servers: resource.authorizationServers,
    bearer_methods_supported: ['header'],
  };
  const supported = (config.catalogue ?? []).filter((s) => s.discoverable).map((s) => s.name);
  if (supported.length > 0) document['scopes_supported'] = supported;
  if (resource.name !== undefined) document['resource_name'] = resource.name;
  if (resource.documentation !== undefined) document['resource_documentation'] = resource.documentation;
  return { path, url: `${id.origin}${path}`, body: JSON.stringify(document) };
}

/** Whether a raw request target asks for the metadata document (the query, if any, is ignored). */
export function isDiscoveryRequest(discovery: Discovery, target: string): boolean {
  return target === discovery.path || (target.startsWith(discovery.path) && target.charCodeAt(discovery.path.length) === 0x3f /* ? */);
}

/** Metadata changes only with config; a minute of caching spares clients a round trip per token refresh. */
const DISCOVERY_MAX_AGE_S = 60;

export function sendDiscovery(res: ServerResponse, discovery: Discovery, head: boolean): void {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(discovery.body),
    'cache-control': `public, max-age=${DISCOVERY_MAX_AGE_S}`,
  });
  res.end(head ? undefined : discovery.body);
}

/** What token info says about one scope: the catalogue's words when it has them. */
function describeScope(scope: string, byName: ReadonlyMap<string, ScopeInfo>): Record<string, unknown> {
  const info = byName.get(scope);
  const out: Record<string, unknown> = { scope };
  if (info?.displayName !== undefined) out['display_name'] = info.displayName;
  if (info?.description !== undefined) out['description'] = info.description;
  if (info?.deprecated === true) {
    out['deprecated'] = true;
    if (info.replacedBy !== undefined) out['replaced_by'] = info.replacedBy;
  }
  return out;
}

export interface TokenInfo {
  send(res: ServerResponse, token: VerifiedToken, head: boolean): void;
}

export function createTokenInfo(config: Config): TokenInfo {
  const byName = new Map((config.catalogue ?? []).map((s) => [s.name, s]));
  return {
    send(res, token, head) {
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        active: true,
        issuer: token.issuer,
        subject: token.subject,
        client_id: token.clientId,
        scope: token.scopeHeader,
        scopes: token.scopes.map((s) => describeScope(s, byName)),
        issued_at: token.issuedAt === undefined ? undefined : new Date(token.issuedAt * 1000).toISOString(),
        expires_at: new Date(token.expiresAt * 1000).toISOString(),
        expires_in: Math.max(0, token.expiresAt - now),
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(head ? undefined : body);
    },
  };
}
