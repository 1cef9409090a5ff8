/**
 * Token info for APIs that lack a `/me` (README, Discovery (RFC 9728) and token
 * info): what the verified token says, described with the scope catalogue's
 * words. Answered by scopegate itself on a `respond: token_info` route, never
 * forwarded; the body is built from config and verified claims only.
 */
import type { ServerResponse } from 'node:http';
import type { VerifiedToken } from '../auth/types.js';
import type { Config, ScopeInfo } from '../config/schema.js';

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
