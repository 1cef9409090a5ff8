/**
 * Header transforms for forwarding (README, Forwarding). Pure functions over
 * Node's `rawHeaders` (flat name/value list, original spelling and order) and
 * undici's raw response headers.
 *
 * Policy decisions (each is tested in test/unit/proxy/headers.test.ts):
 *
 * - Host: the client's Host is preserved (a sidecar sits in front of one app
 *   that builds absolute URLs and virtual-hosts from it). Only the first Host is
 *   kept — decide.ts rejects duplicates with 400 before we get here, and undici
 *   throws on a second one. `preserveHost: false` drops it so undici derives
 *   Host from the upstream URL.
 * - Forwarded (RFC 7239): a client-sent copy is stripped, not extended. We set
 *   X-Forwarded-*; an upstream that prefers `Forwarded` would otherwise read a
 *   forged `for=`/`proto=`/`host=` that nobody vouched for.
 * - X-Forwarded-For: appended (client value, then the peer address): a trust
 *   chain the upstream can walk from the right. X-Forwarded-Proto and
 *   X-Forwarded-Host are *set* (client copies replaced): we know both exactly.
 * - Connection vs Authorization: RFC 9110 §7.6.1 says headers named in
 *   `Connection` are removed, but `Connection: authorization` must not make the
 *   upstream see a request without the token scopegate authorized — an
 *   upstream could then fall back to another credential (a cookie session)
 *   nobody checked. Authorization, Host and Content-Length are therefore
 *   immune to Connection-naming; everything else named there is dropped.
 *   Headers we add ourselves (identity, X-Forwarded-*) are added after the
 *   Connection pass, so Connection can never remove them either.
 * - Identity and method-override headers are matched case-insensitively with
 *   every non-alphanumeric character folded to `-`: many frameworks (CGI/WSGI,
 *   nginx underscores_in_headers, PHP, Apache's CGI env) expose
 *   `X_Auth_Subject`, `X.Auth.Subject` and `X-Auth-Subject` as one variable.
 * - `Expect` is stripped: scopegate answers `100-continue` itself, after an allow
 *   (server.ts), and undici refuses to send it.
 * - Identity values that are not valid header values (CR/LF, chars above
 *   U+00FF) are omitted rather than altered: rewriting a subject could name a
 *   different user.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { VerifiedToken } from '../auth/types.js';
import type { IdentityHeaders } from '../config/schema.js';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the legacy ones proxies strip. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings', // RFC 9113 §3.2.1: connection-specific, meaningless once Upgrade is gone
] as const;

/** Headers an upstream may honour to run a different method than the one authorized. */
const METHOD_OVERRIDE = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

/** Headers some frameworks (IIS, Symfony, Zend) trust to rewrite the routed path. */
const PATH_REWRITE = ['x-original-url', 'x-rewrite-url'] as const;

/** Client copies replaced by values we compute; `forwarded` is not re-emitted at all. */
const FORWARDING = ['forwarded', 'x-forwarded-proto', 'x-forwarded-host'] as const;

/** Never removed because `Connection` names them (see the module comment). */
const CONNECTION_IMMUNE: ReadonlySet<string> = new Set(['authorization', 'host', 'content-length']);

export interface HeaderContext {
  /** The verified token, or undefined on `{ auth: none }` routes: then no identity header is set. */
  readonly token: VerifiedToken | undefined;
  /** The peer address (req.socket.remoteAddress); undefined or '' if the socket is already gone. */
  readonly clientIp: string | undefined;
  /** Scheme the client used to reach scopegate. */
  readonly proto: 'http' | 'https';
}

export interface HeaderPolicyOptions {
  /** Forward the client's Host (default true). */
  readonly preserveHost?: boolean;
  /** More names stripped like identity headers: the mTLS client-certificate header (auth.mtls.cert_header). */
  readonly strip?: readonly string[];
}

export interface HeaderPolicy {
  /** Client raw headers → flat name/value list for undici. */
  buildUpstreamHeaders(rawHeaders: readonly string[], ctx: HeaderContext): string[];
  /**
   * The configured identity headers for `token`, flat [name, value, …]; computed from the token only,
   * never from a request header. Every configured name is present, empty when the token has no value
   * for it: a proxy that copies them then always overwrites a client-sent copy.
   */
  identityHeaders(token: VerifiedToken | undefined): string[];
}

/**
 * Lower-case and fold every character other than [a-z0-9] to `-`: the key
 * every strip-set lookup uses. Not just `_`: CGI gateways (Apache's
 * http2env, several FastCGI bridges) map any non-alphanumeric token character
 * to `_`, so `X.Auth.Subject` and `X~Auth~Subject` reach such an upstream as
 * HTTP_X_AUTH_SUBJECT too.
 */
export function foldHeaderName(name: string): string {
  const lower = name.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if ((c < 0x61 || c > 0x7a) && (c < 0x30 || c > 0x39) && c !== 0x2d) return slowFold(lower);
  }
  // Common case: already [a-z0-9-]; no copy.
  return lower;
}

function slowFold(lower: string): string {
  let out = '';
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    out += (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ? lower[i] : '-';
  }
  return out;
}

const fold = foldHeaderName;

/**
 * Same character class as Node's and undici's header value check:
 * HTAB, SP..~, obs-text 0x80..0xFF. Anything else makes undici throw.
 */
function isValidHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09) continue;
    if (c < 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Headers an upstream must see exactly once, under their real name. A client header
 * that folds to one of these but is spelled otherwise (`Content_Length`,
 * `X.Forwarded.For`) is a look-alike: an upstream that reads `_` as `-` would see a
 * second, unchecked copy (a conflicting length, a forged client address). Stripped.
 */
const EXACT_SPELLING_ONLY: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'authorization',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
]);

export function createHeaderPolicy(identity: IdentityHeaders, options: HeaderPolicyOptions = {}): HeaderPolicy {
  const preserveHost = options.preserveHost ?? true;
  const subjectHeader = identity.subject?.toLowerCase();
  const scopesHeader = identity.scopes?.toLowerCase();

  // Everything stripped unconditionally, keyed by folded name. Built once.
  const strip = new Set<string>([...HOP_BY_HOP, ...METHOD_OVERRIDE, ...PATH_REWRITE, ...FORWARDING, 'expect']);
  if (subjectHeader !== undefined) strip.add(fold(subjectHeader));
  if (scopesHeader !== undefined) strip.add(fold(scopesHeader));
  for (const name of options.strip ?? []) strip.add(fold(name));
  // Hop-by-hop names are compared folded too (`transfer_encoding` is not a real
  // hop-by-hop header, but nothing legitimate spells it that way either).
  // Configured names are folded the same way, so `x_auth_subject` in config works.
  const stripSet: ReadonlySet<string> = strip;

  function pushIdentity(out: string[], token: VerifiedToken | undefined): void {
    if (token === undefined) return;
    if (subjectHeader !== undefined && token.subject !== undefined && isValidHeaderValue(token.subject)) {
      out.push(subjectHeader, token.subject);
    }
    if (scopesHeader !== undefined && isValidHeaderValue(token.scopeHeader)) {
      out.push(scopesHeader, token.scopeHeader);
    }
  }

  function identityHeaders(token: VerifiedToken | undefined): string[] {
    const out: string[] = [];
    pushIdentity(out, token);
    if (subjectHeader !== undefined && !out.includes(subjectHeader)) out.push(subjectHeader, '');
    if (scopesHeader !== undefined && !out.includes(scopesHeader)) out.push(scopesHeader, '');
    return out;
  }

  function buildUpstreamHeaders(rawHeaders: readonly string[], ctx: HeaderContext): string[] {
    const out: string[] = [];
    let connectionNamed: Set<string> | undefined;
    let xff: string | undefined;
    let host: string | undefined;
    let sawContentLength = false;

    // Pass 1: collect Connection-named headers (they may come after the headers they name).
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      if (name.length === 10 && name.toLowerCase() === 'connection') {
        const value = rawHeaders[i + 1] as string;
        for (const token of value.split(',')) {
          const t = fold(token.trim());
          if (t !== '' && !CONNECTION_IMMUNE.has(t)) (connectionNamed ??= new Set()).add(t);
        }
      }
    }

    // Pass 2: copy what survives.
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      const value = rawHeaders[i + 1] as string;
      const key = fold(name);
      if (stripSet.has(key)) continue;
      if (connectionNamed !== undefined && connectionNamed.has(key)) continue;
      if (EXACT_SPELLING_ONLY.has(key) && name.toLowerCase() !== key) continue;
      if (key === 'host') {
        if (host !== undefined) continue; // first one wins; duplicates are a 400 upstream of us
        host = value;
        if (preserveHost) out.push(name, value);
        continue;
      }
      if (key === 'content-length') {
        if (sawContentLength) continue; // undici throws on a duplicate
        sawContentLength = true;
      } else if (key === 'x-forwarded-for') {
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      }
      out.push(name, value);
    }

    pushIdentity(out, ctx.token);

    const ip = ctx.clientIp;
    if (ip !== undefined && ip !== '') xff = xff === undefined ? ip : `${xff}, ${ip}`;
    if (xff !== undefined) out.push('x-forwarded-for', xff);
    out.push('x-forwarded-proto', ctx.proto);
    if (host !== undefined) out.push('x-forwarded-host', host);
    return out;
  }

  return { buildUpstreamHeaders, identityHeaders };
}

/**
 * Whether a request carries a body (RFC 9112 §6.3): Transfer-Encoding present,
 * or a non-zero Content-Length. GET/HEAD without either send none upstream.
 */
export function requestHasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const cl = headers['content-length'];
  return cl !== undefined && cl !== '0';
}

const RESPONSE_STRIP: ReadonlySet<string> = new Set<string>(HOP_BY_HOP);

/**
 * Upstream raw response headers (undici gives Buffers) → flat string list for
 * `res.writeHead`, minus hop-by-hop and Connection-named headers. latin1
 * round-trips every byte Node's parser accepted, so values pass unchanged.
 * Node re-frames the body itself (content-length or chunked).
 */
export function filterResponseHeaders(rawHeaders: readonly (Buffer | string)[]): string[] {
  // One pass decodes each name once; a second pass runs only when a Connection
  // header named something beyond the hop-by-hop set (rare: usually `keep-alive`),
  // so the common case allocates only the list it returns.
  const out: string[] = [];
  let connectionNamed: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = latin1(rawHeaders[i]);
    const lower = name.toLowerCase();
    if (RESPONSE_STRIP.has(lower)) {
      if (lower === 'connection') {
        for (const token of latin1(rawHeaders[i + 1]).split(',')) {
          const t = token.trim().toLowerCase();
          if (t !== '' && !RESPONSE_STRIP.has(t)) (connectionNamed ??= new Set()).add(t);
        }
      }
      continue;
    }
    out.push(name, latin1(rawHeaders[i + 1]));
  }
  if (connectionNamed === undefined) return out;
  const kept: string[] = [];
  for (let k = 0; k < out.length; k += 2) {
    if (!connectionNamed.has((out[k] as string).toLowerCase())) kept.push(out[k] as string, out[k + 1] as string);
  }
  return kept;
}

function latin1(v: Buffer | string | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : v.toString('latin1');
}
