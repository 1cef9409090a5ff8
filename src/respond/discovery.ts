/**
 * The protected-resource metadata of RFC 9728, answered by scopegate itself and
 * never forwarded (README, Discovery (RFC 9728) and token info). The document is
 * built from config only, serialized once per config generation.
 */
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';

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
