/**
 * `cors:` as read (README, "Browser apps (CORS) and WebSocket"): the field
 * rows and the checks across them. Either `allowed_origins` (scopegate answers
 * preflights and owns every Access-Control-* header) or `forward_preflight:
 * true` (the upstream does its own CORS), never both.
 */
import { objectSchema, readFields, withDefaults, type Rows, type SectionReader } from './fields.js';
import { bool, int, listOf, mapped, reader, str } from './readers.js';
import type { CorsConfig } from './schema.js';
import { headerNameString } from './values.js';
import { findKeyNode } from './yaml-reader.js';

const readHeaderName = mapped(headerNameString, (name) => name.toLowerCase());

/** scheme://host[:port], lower-case scheme and host, nothing else (RFC 6454 §6.1 serialization). */
const ORIGIN = /^https?:\/\/(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?:[1-9][0-9]{0,4}))?$/;

function originProblem(s: string): string | undefined {
  if (s === '*') return undefined;
  return ORIGIN.test(s) ? undefined : `must be an origin scheme://host[:port] (lower case, no path or trailing slash), or '*'; got ${JSON.stringify(s)}`;
}

const readOrigin = str({ nonEmpty: true, check: originProblem, schema: { type: 'string', pattern: `${ORIGIN.source.slice(0, -1)}|^\\*$` } });

export const CORS: Rows<CorsConfig> = {
  allowedOrigins: {
    key: 'allowed_origins',
    read: listOf(readOrigin, { nonEmpty: true, unique: true }),
    doc: "Origins whose browser apps may call the API: exact origins (scheme://host[:port]) or ['*']. scopegate then answers preflights and sets every Access-Control-* header.",
  },
  // The two headers a bearer-token API call needs (RFC 6750 §2.1, a JSON body).
  allowedHeaders: { key: 'allowed_headers', read: listOf(readHeaderName, { unique: true }), default: ['authorization', 'content-type'], doc: 'Access-Control-Allow-Headers of preflight answers.' },
  // So the app can read why it was refused (RFC 6750 §3).
  exposedHeaders: { key: 'exposed_headers', read: listOf(readHeaderName, { unique: true }), default: ['www-authenticate'], doc: 'Access-Control-Expose-Headers of every response to an allowed origin.' },
  // Bearer tokens are sent explicitly, not as cookies: credentials mode is opt-in.
  allowCredentials: { key: 'allow_credentials', read: bool, default: false, doc: "Send Access-Control-Allow-Credentials: true (not with allowed_origins ['*'])." },
  // s; browsers cap it anyway (Chromium 2 h, Firefox 24 h). 10 min spares repeated preflights.
  maxAgeS: { key: 'max_age_s', read: int([0, 86_400]), default: 600, doc: 'Access-Control-Max-Age of preflight answers, seconds.' },
  // Off: scopegate owns CORS when the section is present.
  forwardPreflight: {
    key: 'forward_preflight',
    read: bool,
    default: false,
    doc: 'Instead of allowed_origins: preflights to a routed path and method are forwarded without a token, and the upstream answers CORS itself.',
  },
};

const rows = CORS;

/** The section with its checks across fields: exactly one of allowed_origins / forward_preflight, no credentials with '*'. */
export const readCors: SectionReader<CorsConfig> = Object.assign(
  reader(objectSchema(rows), (node, path, r) => {
    const values = readFields(node, path, r, rows);
    if (values === undefined) return undefined;
    const cors = withDefaults(rows, values);
    const origins = cors.allowedOrigins;
    // An invalid allowed_origins is reported where it is; "needs" would only repeat it.
    if (origins === undefined && !cors.forwardPreflight && findKeyNode(node, 'allowed_origins') === undefined) r.error(node, path, 'needs allowed_origins (or forward_preflight: true when the upstream does its own CORS)');
    if (origins !== undefined && cors.forwardPreflight) r.error(node, path, 'allowed_origins and forward_preflight: true exclude each other: either scopegate or the upstream answers CORS');
    if (origins?.includes('*') === true) {
      if (origins.length > 1) r.error(node, `${path}.allowed_origins`, "'*' must be the only origin");
      // Browsers refuse `*` with credentials (Fetch standard, CORS check); a list would be echoed blindly.
      if (cors.allowCredentials) r.error(node, `${path}.allow_credentials`, "cannot be true with allowed_origins ['*']: list the origins instead");
    }
    return cors;
  }),
  { rows },
);
