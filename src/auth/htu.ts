/**
 * The DPoP `htu` claim against the request (RFC 9449 §4.3 step 9): compared after
 * RFC 3986 §6.2.2–6.2.3 syntax-based normalization. Scheme and host are
 * case-insensitive, a default port (`:443` for https, `:80` for http) is the same as
 * none, an empty path is `/`, and the path goes through scopegate's one path
 * canonicalizer, so `htu` is held to exactly the path that was matched and forwarded.
 *
 * An `htu` with a query or a fragment is refused, not trimmed: RFC 9449 §4.2 defines
 * `htu` as the target URI without them.
 */
import { canonicalizePath } from '../routes/normalize.js';

export interface NormalizedHttpUri {
  /** `scheme://host[:port]`, lower case, default port dropped. */
  readonly origin: string;
  /** The canonical path (routes/normalize.ts). */
  readonly path: string;
}

/** A URI that cannot be the `htu` of any request: not absolute http(s), userinfo, a bad port or path. */
export const HTU_INVALID = 'invalid';
/** A URI carrying a query or a fragment (RFC 9449 §4.2: `htu` has neither). */
export const HTU_QUERY = 'query';

const DEFAULT_PORT: Readonly<Record<string, string>> = { https: '443', http: '80' };
/** scheme "://" authority path-abempty (RFC 3986 §3); the caller has already refused `?` and `#`. */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/s;
const PORT = /^[0-9]{1,5}$/;

/** The host and port of an authority without userinfo, or undefined. */
function splitAuthority(authority: string): { host: string; port: string } | undefined {
  let host: string;
  let rest: string;
  if (authority.startsWith('[')) {
    // IP-literal (RFC 3986 §3.2.2): the port colon is the one after `]`.
    const close = authority.indexOf(']');
    if (close === -1) return undefined;
    host = authority.slice(0, close + 1);
    rest = authority.slice(close + 1);
  } else {
    const colon = authority.indexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    rest = colon === -1 ? '' : authority.slice(colon);
  }
  if (rest !== '' && rest.charCodeAt(0) !== 0x3a) return undefined;
  return { host, port: rest.slice(1) };
}

/**
 * An absolute http(s) URI → its normalized origin and canonical path, `HTU_QUERY`
 * when it carries a query or fragment, `HTU_INVALID` otherwise.
 */
export function normalizeHttpUri(uri: string): NormalizedHttpUri | typeof HTU_QUERY | typeof HTU_INVALID {
  if (uri.includes('?') || uri.includes('#')) return HTU_QUERY;
  const m = ABSOLUTE_URI.exec(uri);
  if (m === null) return HTU_INVALID;
  const scheme = m[1]!.toLowerCase();
  const defaultPort = DEFAULT_PORT[scheme];
  // Userinfo is deprecated in http(s) URIs (RFC 9110 §4.2.4) and never names an origin.
  if (defaultPort === undefined || m[2]!.includes('@')) return HTU_INVALID;
  const hostPort = splitAuthority(m[2]!);
  if (hostPort === undefined || hostPort.host === '') return HTU_INVALID;
  let port = '';
  if (hostPort.port !== '') {
    if (!PORT.test(hostPort.port)) return HTU_INVALID;
    const n = Number(hostPort.port);
    if (n > 65535) return HTU_INVALID;
    if (String(n) !== defaultPort) port = ':' + String(n);
  }
  const path = m[3] === '' ? '/' : canonicalizePath(m[3]!);
  if (typeof path !== 'string') return HTU_INVALID;
  return { origin: `${scheme}://${hostPort.host.toLowerCase()}${port}`, path };
}

/**
 * Config `auth.dpop.origins` → the set of normalized origins. Throws on an entry
 * that is not `scheme://host[:port]` (an optional `/` path only): a config error.
 */
export function normalizeOrigins(origins: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const o of origins) {
    const n = normalizeHttpUri(o);
    if (typeof n === 'string' || n.path !== '/' || !/^[^:]+:\/\/[^/]*\/?$/.test(o)) {
      throw new TypeError(`DPoP origin ${JSON.stringify(o)} is not scheme://host[:port]`);
    }
    out.add(n.origin);
  }
  return out;
}
