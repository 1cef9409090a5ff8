/**
 * One RFC 7662 introspection call: `POST` form-encoded `token=…&token_type_hint=access_token`,
 * `client_secret_basic`, through undici with a pool of its own, ended by a deadline whatever
 * the peer does (refuses, accepts and never answers, answers headers and stalls the body):
 * the deadline and the bounded read are the project's one outbound fetch (src/net/fetch.ts).
 *
 * It returns the parsed JSON object or the reason it has none; it never throws. Reasons are
 * short fixed strings and error codes: neither the token nor the secret can reach them.
 */
import { Pool } from 'undici';
import { fetchBounded, OutboundFetchError } from '../net/fetch.js';

export interface IntrospectionCallOptions {
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Ends the whole call: connect, request, response headers and body. */
  readonly timeoutMs: number;
  /** Sockets the pool may open: calls beyond it queue inside the deadline. */
  readonly connections: number;
}

export type CallOutcome =
  | { readonly ok: true; readonly body: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

export interface IntrospectionCall {
  call(token: string): Promise<CallOutcome>;
  /** Ends the calls in flight (their outcome is `closed`) and closes the sockets. */
  close(): Promise<void>;
}

/**
 * Bound on a response body. Real introspection answers are a few hundred bytes (a few KiB
 * with many claims); anything near this is not an introspection response, and reading it
 * would let the endpoint make us buffer without limit.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * RFC 6749 §2.3.1 and Appendix B: the client id and secret are each encoded with the
 * application/x-www-form-urlencoded algorithm *before* being joined by `:` and Base64-encoded,
 * so a secret holding `:`, `%`, `+` or a space reaches the server unchanged.
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (s: string): string => new URLSearchParams([['', s]]).toString().slice(1);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/** undici/socket error codes meaning the endpoint's own timeouts fired (set equal to ours as a second line). */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The reason for a failed call, from the fetch error's `code` and its cause's (never a message with data in it). */
function reasonOf(err: OutboundFetchError, closing: boolean): string {
  switch (err.code) {
    case 'ERR_FETCH_TIMEOUT':
      return 'timeout';
    case 'ERR_FETCH_ABORTED':
      return closing ? 'closed' : 'timeout';
    case 'ERR_FETCH_TOO_LARGE':
      return 'response too large';
    case 'ERR_FETCH_STATUS':
      return err.message; // `HTTP <status>`
    case 'ERR_FETCH_NETWORK': {
      const code = (err.cause as { code?: unknown } | null | undefined)?.code;
      if (typeof code === 'string') return TIMEOUT_CODES.has(code) ? 'timeout' : `unreachable (${code})`;
      return 'unreachable';
    }
  }
}

/** The response as a JSON object, or the reason it is not one. */
function parseObject(raw: Buffer): CallOutcome {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'response is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'response is not a JSON object' };
  return { ok: true, body: value as Record<string, unknown> };
}

export function createIntrospectionCall(options: IntrospectionCallOptions): IntrospectionCall {
  const url = new URL(options.endpoint);
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  // undici's own timeouts equal ours: a second line behind fetchBounded's deadline, never the first.
  const pool = new Pool(url.origin, {
    connections: options.connections,
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  // Aborted by close(): every call in flight ends with the reason `closed`.
  const closing = new AbortController();

  async function call(token: string): Promise<CallOutcome> {
    if (closing.signal.aborted) return { ok: false, reason: 'closed' };
    try {
      const res = await fetchBounded(url.href, {
        dispatcher: pool,
        timeoutMs: options.timeoutMs,
        maxBytes: MAX_RESPONSE_BYTES,
        signal: closing.signal,
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams([['token', token], ['token_type_hint', 'access_token']]).toString(),
      });
      return parseObject(res.body);
    } catch (err) {
      return { ok: false, reason: err instanceof OutboundFetchError ? reasonOf(err, closing.signal.aborted) : 'unreachable' };
    }
  }

  return {
    call,
    async close() {
      closing.abort();
      await pool.destroy();
    },
  };
}
