/**
 * Readers for values with a meaning of their own: listen addresses, URLs,
 * algorithms, scopes, header names. Each message says what is wrong and, where
 * it is not obvious, why (an algorithm refused, a header reserved).
 */
import { isIPv6 } from 'node:net';
import { isScalar } from 'yaml';
import { normalizeOrigins } from '../auth/htu.js';
import { foldHeaderName } from '../proxy/headers.js';
import { oneOf, reader, str, type JsonSchema, type Reader } from './readers.js';
import type { ListenAddress } from './schema.js';
import { ALGORITHMS, type Algorithm } from './vocabulary.js';
import { describe, refuseAlias } from './yaml-reader.js';

/** Host of a bare-port listen address: loopback, so exposing the sidecar is an explicit choice. */
export const LOOPBACK_HOST = '127.0.0.1';

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function parsePort(s: string): number | undefined {
  if (!PORT.test(s)) return undefined;
  const n = Number(s);
  return n <= 65_535 ? n : undefined;
}

const LISTEN_EXPECTED = 'must be host:port, [ipv6]:port or a port number (0-65535)';

/** `host:port`, `[v6]:port` or a bare port (host 127.0.0.1) → address, or undefined. Shared by the loader and the CLI. */
export function parseListen(s: string): ListenAddress | undefined {
  const bare = parsePort(s);
  if (bare !== undefined) return { host: LOOPBACK_HOST, port: bare };
  const v6 = /^\[([^\]]*)\]:([^:]*)$/.exec(s);
  const v4 = /^([^:[\]]*):([^:]*)$/.exec(s);
  const m = v6 ?? v4;
  const host = m?.[1];
  const port = m?.[2] === undefined ? undefined : parsePort(m[2]);
  const hostOk = host !== undefined && (v6 !== null ? isIPv6(host) : HOSTNAME.test(host));
  return hostOk && port !== undefined ? { host, port } : undefined;
}

/**
 * Shared JSON Schema definitions (`#/$defs/...`) for values several options
 * use; json-schema.ts adds them to the generated schema.
 */
export const VALUE_DEFS: Readonly<Record<string, JsonSchema>> = {
  listen: {
    oneOf: [
      { type: 'integer', minimum: 0, maximum: 65535 },
      {
        type: 'string',
        pattern:
          '^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]):)?(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)$',
      },
    ],
  },
  scope: {
    description: 'An OAuth scope (RFC 6749 §3.3): printable ASCII, no spaces, quotes or backslashes.',
    type: 'string',
    pattern: '^[!#-\\[\\]-~]+$',
  },
  headerName: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
};

export const readListen: Reader<ListenAddress> = reader({ $ref: '#/$defs/listen' }, (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'number') {
    const n = node.value;
    if (Number.isInteger(n) && n >= 0 && n <= 65_535) return { host: LOOPBACK_HOST, port: n };
    r.error(node, path, `${LISTEN_EXPECTED}, got ${describe(node)}`);
    return undefined;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    r.error(node, path, `${LISTEN_EXPECTED}, got ${describe(node)}`);
    return undefined;
  }
  const address = parseListen(node.value);
  if (address === undefined) r.error(node, path, `${LISTEN_EXPECTED}, got ${JSON.stringify(node.value)}`);
  return address;
});

/** An http(s) URL without credentials or fragment, or the message saying what is wrong with it. */
function httpUrl(s: string): URL | string {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `must be an http:// or https:// URL, got ${JSON.stringify(s)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, got ${JSON.stringify(s)}`;
  if (url.username !== '' || url.password !== '') return 'must not contain credentials (user:password@)';
  if (s.includes('#')) return 'must not contain a fragment (#...)';
  return url;
}

/** What is wrong with `s` as an http(s) URL, or undefined when nothing is: a `str` check. */
function httpUrlProblem(s: string): string | undefined {
  const url = httpUrl(s);
  return typeof url === 'string' ? url : undefined;
}

const upstreamUrlString = str({
  check: (v) => {
    const url = httpUrl(v);
    if (typeof url === 'string') return url;
    if (url.pathname !== '/') return `must be an origin without a path (routes already carry the path), got path ${url.pathname}`;
    if (v.includes('?')) return 'must not contain a query';
    return undefined;
  },
  schema: { type: 'string', pattern: '^[hH][tT][tT][pP][sS]?://[^/?#@\\s]+/?$' },
});

/** The upstream: an origin only (routes carry the path); read as its normalized origin. */
export const readUpstreamUrl: Reader<string> = reader(upstreamUrlString.schema, (node, path, r) => {
  const s = upstreamUrlString(node, path, r);
  return s === undefined ? undefined : new URL(s).origin;
});

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const jwksUriString = str({
  check: httpUrlProblem,
  schema: { type: 'string', pattern: '^[hH][tT][tT][pP][sS]?://[^/?#@\\s]+(?:[/?][^#\\s]*)?$' },
});

export const readJwksUri: Reader<string> = reader(jwksUriString.schema, (node, path, r) => {
  const s = jwksUriString(node, path, r);
  if (s === undefined) return undefined;
  const url = new URL(s);
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    r.warning(node, path, 'keys fetched over plain http from a non-loopback host can be replaced in transit; use https');
  }
  return s;
});

const SYMMETRIC_WHY = 'is a symmetric (shared-secret) algorithm: scopegate verifies with public keys from a JWKS, and accepting HS* there lets an attacker sign tokens with the public key as the HMAC secret';

const anyAlgorithm = oneOf(ALGORITHMS);

export const readAlgorithm: Reader<Algorithm> = reader(anyAlgorithm.schema, (node, path, r) => {
  if (isScalar(node) && typeof node.value === 'string') {
    const v = node.value;
    if (v.toLowerCase() === 'none') {
      r.error(node, path, 'algorithm "none" is never accepted: an unsigned token proves nothing');
      return undefined;
    }
    if (/^HS\d+$/i.test(v)) {
      r.error(node, path, `${v} ${SYMMETRIC_WHY}`);
      return undefined;
    }
  }
  return anyAlgorithm(node, path, r);
});

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function invalidScopeMessage(s: string): string {
  return `${JSON.stringify(s)} is not a valid scope (RFC 6749 §3.3: printable ASCII, no spaces, quotes or backslashes)`;
}

export const readScope: Reader<string> = str({
  check: (s) => (SCOPE_TOKEN.test(s) ? undefined : invalidScopeMessage(s)),
  schema: { $ref: '#/$defs/scope' },
});

/** It is sent inside a quoted-string in WWW-Authenticate; `"`, `\` and controls would break the header. */
export const readRealm: Reader<string> = str({
  nonEmpty: true,
  check: (s) => (/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/.test(s) ? undefined : 'must be printable ASCII without " or \\'),
  schema: { type: 'string', pattern: '^[ !#-\\[\\]-~]+$' },
});

/** RFC 9110 §5.6.2 token: what a header field name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Names scopegate must not overwrite on the forwarded request: hop-by-hop
 * headers (RFC 9110 §7.6.1), framing and routing headers, the credential, the
 * X-Forwarded-* scopegate sets itself, and method overrides it strips.
 */
const RESERVED_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'proxy-authenticate', 'www-authenticate',
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection',
  'te', 'trailer', 'upgrade', 'expect', 'cookie', 'set-cookie', 'content-type',
  'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'x-http-method-override', 'x-http-method', 'x-method-override',
]);

/** Any valid header name as written (CORS header lists name reserved ones too). */
export const headerNameString = str({
  nonEmpty: true,
  check: (v) => (HEADER_NAME.test(v) ? undefined : `${JSON.stringify(v)} is not a valid header name`),
  schema: { $ref: '#/$defs/headerName' },
});

/** An identity header name, lower-cased; reserved names are refused. */
export const readHeaderName: Reader<string> = reader(headerNameString.schema, (node, path, r) => {
  const s = headerNameString(node, path, r);
  if (s === undefined) return undefined;
  const lower = s.toLowerCase();
  // Upstreams often read `_` (or `.`) as `-` (CGI, nginx with underscores_in_headers): compare the
  // name folded exactly as the proxy folds it when it strips client copies.
  if (RESERVED_HEADERS.has(lower) || RESERVED_HEADERS.has(foldHeaderName(lower))) {
    r.error(node, path, `${JSON.stringify(s)} is a reserved header (hop-by-hop, framing, credentials or set by scopegate); choose a name like x-auth-subject`);
    return undefined;
  }
  return lower;
});

/** A DPoP origin (RFC 9449 §4.3 htu): `scheme://host[:port]`, no path, query or credentials. */
export const readDpopOrigin: Reader<string> = str({
  check: (v) => {
    try {
      normalizeOrigins([v]);
      return undefined;
    } catch {
      return 'must be an origin, scheme://host[:port] (http or https), without a path, query or fragment';
    }
  },
  schema: { type: 'string', pattern: '^https?://[^/?#@]+/?$' },
});

/** RFC 9728 resource identifier: an http(s) URL without query or fragment. */
export const readResourceIdentifier: Reader<string> = str({
  check: (v) => {
    const url = httpUrl(v);
    if (typeof url === 'string') return url;
    if (v.includes('?')) return 'must not contain a query (RFC 9728 §1.2)';
    return undefined;
  },
  schema: { type: 'string', pattern: '^https?://[^?#]+$' },
});

export const readDocumentationUrl: Reader<string> = str({
  check: httpUrlProblem,
  schema: { type: 'string', pattern: '^https?://' },
});
