/**
 * An identity provider's published metadata, as `scopegate check --online` reads it
 * (README, `scopegate check --online`): where the document lives for an issuer, and
 * the few members scopegate compares with its config (`issuer`, `jwks_uri`,
 * `scopes_supported`). Fetched through the project's one outbound fetch
 * (net/fetch.ts), so the configured timeout and size cap bound every request.
 */
import type { Dispatcher } from 'undici';
import { fetchBounded, OutboundFetchError } from '../net/fetch.js';

/** The members of an authorization server's metadata that a config is checked against (RFC 8414 §2). */
export interface IdpMetadata {
  /** The URL the document was read from. */
  readonly url: string;
  /** `issuer`, or undefined when absent or not a string. */
  readonly issuer: string | undefined;
  readonly jwksUri: string | undefined;
  /** `scopes_supported` when published as a list of strings. */
  readonly scopesSupported: readonly string[] | undefined;
}

export type MetadataLookup =
  | { readonly kind: 'found'; readonly metadata: IdpMetadata }
  /** Every candidate URL answered 404 (or another non-200): the IdP publishes none there. */
  | { readonly kind: 'absent'; readonly urls: readonly string[] }
  /** A candidate could not be read (timeout, network, too large, not a JSON object). */
  | { readonly kind: 'failed'; readonly url: string; readonly reason: string }
  /** The issuer is not an http(s) URL without query or fragment: nothing to derive a URL from. */
  | { readonly kind: 'not_a_url' };

/**
 * The metadata URLs of an issuer, in the order they are tried:
 * OpenID Connect Discovery 1.0 §4 appends `/.well-known/openid-configuration` to the issuer;
 * RFC 8414 §3.1 inserts `/.well-known/oauth-authorization-server` between the host and the path.
 * Both drop a terminating `/` of the path first. Undefined when the issuer is not such a URL
 * (RFC 8414 §2: an https URL with no query or fragment; http is allowed here for local IdPs).
 */
export function metadataUrls(issuer: string): readonly string[] | undefined {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || /[?#]/.test(issuer)) return undefined;
  const path = u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname;
  return [`${u.origin}${path}/.well-known/openid-configuration`, `${u.origin}/.well-known/oauth-authorization-server${path}`];
}

export interface MetadataFetchOptions {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** The first candidate URL that answers 200 with a JSON object, or why none did. Never rejects. */
export async function lookupMetadata(issuer: string, options: MetadataFetchOptions): Promise<MetadataLookup> {
  const urls = metadataUrls(issuer);
  if (urls === undefined) return { kind: 'not_a_url' };
  for (const url of urls) {
    let body: Buffer;
    try {
      ({ body } = await fetchBounded(url, { ...options, headers: { accept: 'application/json' } }));
    } catch (err) {
      // A non-200 means "not published here": try the next form. Anything else is a failure to report.
      if (err instanceof OutboundFetchError && err.code === 'ERR_FETCH_STATUS') continue;
      return { kind: 'failed', url, reason: (err as Error).message };
    }
    const doc = parseObject(body);
    if (doc === undefined) return { kind: 'failed', url, reason: 'not a JSON object' };
    return { kind: 'found', metadata: readMembers(url, doc) };
  }
  return { kind: 'absent', urls };
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readMembers(url: string, doc: Record<string, unknown>): IdpMetadata {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const scopes = doc['scopes_supported'];
  const scopesSupported = Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : undefined;
  return { url, issuer: str(doc['issuer']), jwksUri: str(doc['jwks_uri']), scopesSupported };
}
