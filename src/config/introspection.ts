/**
 * `auth.introspection` (README, Opaque tokens): the option rows and the section's reader.
 *
 * Two rules the rows alone cannot state, checked here at the section's position:
 * - an inline `client_secret` is refused with the reason (a config file is committed,
 *   mounted from a ConfigMap and printed by tools; a secret belongs in a file or the
 *   environment), not with a bare "unknown key";
 * - exactly one of `client_secret_file` and `client_secret_env`: two sources would leave
 *   the reader to guess which one the operator rotated.
 * The secret itself is read when the server builds a generation (so a reload re-reads the
 * file), never here: a config check must not need it.
 */
import { isMap, type YAMLMap } from 'yaml';
import { objectSchema, section, type Rows, type SectionReader } from './fields.js';
import { int, listOf, reader, str } from './readers.js';
import type { IntrospectionConfig } from './schema.js';
import { readJwksUri } from './values.js';
import { childPath, findKeyNode } from './yaml-reader.js';

/** Hosts where plain http stays on the machine: the client secret and tokens never cross a network. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An http(s) URL, like a JWKS URI; plain http to another host sends the secret and tokens in clear. */
const readEndpoint = reader(readJwksUri.schema, (node, path, r) => {
  const s = str({ nonEmpty: true })(node, path, r);
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    r.error(node, path, `must be an absolute http(s) URL, got ${JSON.stringify(s)}`);
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.hash !== '') {
    r.error(node, path, 'must be an http(s) URL without credentials or fragment');
    return undefined;
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    r.warning(node, path, 'the client secret and every token would cross the network in clear over plain http; use https');
  }
  return s;
});

/** A POSIX-style environment variable name. */
const readEnvName = str({ check: (s) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? undefined : 'must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)') });

export const INTROSPECTION: Rows<IntrospectionConfig> = {
  endpoint: { key: 'endpoint', read: readEndpoint, required: true, doc: 'http(s) URL of the RFC 7662 introspection endpoint.' },
  clientId: { key: 'client_id', read: str({ nonEmpty: true }), required: true, doc: "scopegate's client id at the authorization server (client_secret_basic)." },
  clientSecretFile: {
    key: 'client_secret_file',
    read: str({ nonEmpty: true }),
    doc: 'File holding the client secret (trailing whitespace trimmed); re-read on reload. Set this or client_secret_env; an inline client_secret is refused.',
  },
  clientSecretEnv: { key: 'client_secret_env', read: readEnvName, doc: 'Environment variable holding the client secret. Set this or client_secret_file.' },
  issuer: { key: 'issuer', read: str({ nonEmpty: true }), doc: 'When set, a response carrying `iss` must equal it.' },
  audiences: { key: 'audiences', read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }), doc: 'When set, a response carrying `aud` must contain one of these.' },
  // s; a revoked token is honoured for at most this long. 60 s: one call a minute per live token.
  cacheTtlS: { key: 'cache_ttl_s', read: int([0, 86_400]), default: 60, doc: 'Seconds an active result is reused (capped by the token exp); 0 asks every time.' },
  // s; bounds the load garbage tokens put on the authorization server, short enough that a new token is not refused long.
  negativeCacheTtlS: { key: 'negative_cache_ttl_s', read: int([0, 3_600]), default: 5, doc: 'Seconds an inactive result is reused; 0 asks every time.' },
  // ms. An introspection answer is one small JSON document; 2 s covers a slow IdP without holding requests long.
  timeoutMs: { key: 'timeout_ms', read: int([1, 60_000]), default: 2_000, doc: 'Milliseconds for a whole introspection call; past it the request gets 503.' },
  // calls; beyond it 503 at once instead of an unbounded queue behind a slow IdP.
  maxInFlight: { key: 'max_in_flight', read: int([1, 10_000]), default: 64, doc: 'Introspection calls in flight at once; beyond it 503 + Retry-After.' },
};

const INLINE_SECRET_WHY =
  'an inline client secret is refused: config files are committed, mounted and printed; put the secret in a file (client_secret_file) or an environment variable (client_secret_env)';

function introspectionReader(rows: Rows<IntrospectionConfig>): SectionReader<IntrospectionConfig> {
  const plain = section(rows);
  const schema = { ...objectSchema(rows), oneOf: ['client_secret_file', 'client_secret_env'].map((key) => ({ properties: { [key]: true }, required: [key] })) };
  const read = reader<IntrospectionConfig>(schema, (node, path, r) => {
    let mapping = node;
    const inline = findKeyNode(node, 'client_secret');
    if (inline != null && isMap(node)) {
      r.error(inline, childPath(path, 'client_secret'), INLINE_SECRET_WHY);
      // Read the rest without it: one error that says why, not a second "unknown key".
      const rest = node.clone() as YAMLMap;
      rest.delete('client_secret');
      mapping = rest;
    }
    const value = plain(mapping, path, r);
    if (value === undefined) return undefined;
    const sources = (value.clientSecretFile === undefined ? 0 : 1) + (value.clientSecretEnv === undefined ? 0 : 1);
    if (sources !== 1 && inline == null) {
      r.error(node, path, sources === 0 ? 'needs client_secret_file or client_secret_env' : 'set client_secret_file or client_secret_env, not both');
    }
    return value;
  });
  return Object.assign(read, { rows });
}

export const readIntrospection = introspectionReader(INTROSPECTION);
