/**
 * One RFC 7662 introspection call: `POST` form-encoded `token=…&token_type_hint=access_token`,
 * `client_secret_basic`, through undici with a pool of its own, ended by a deadline whatever
 * the peer does (refuses, accepts and never answers, answers headers and stalls the body).
 *
 * It returns the parsed JSON object or the reason it has none; it never throws. Reasons are
 * short fixed strings and error codes: neither the token nor the secret can reach them.
 */
import { Pool } from 'undici';

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

class Deadline extends Error {}
class Closed extends Error {}
class Rejected extends Error {}

/** undici/socket error codes meaning the endpoint's own timeouts fired (set equal to ours as a second line). */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The reason for a failed call, from what aborted it or the library error's `code` (never its message). */
function reasonOf(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Closed ? 'closed' : 'timeout';
  if (err instanceof Rejected) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return TIMEOUT_CODES.has(code) ? 'timeout' : `unreachable (${code})`;
  return 'unreachable';
}

/** Drop a body we will not read; undici reports the destroy as a stream error, expected here. */
function discard(body: { on(event: 'error', fn: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

async function readBounded(body: AsyncIterable<unknown> & Parameters<typeof discard>[0], declared: number): Promise<Buffer> {
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    discard(body);
    throw new Rejected('response too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      discard(body);
      throw new Rejected('response too large');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseObject(raw: Buffer): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Rejected('response is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Rejected('response is not a JSON object');
  return value as Record<string, unknown>;
}

export function createIntrospectionCall(options: IntrospectionCallOptions): IntrospectionCall {
  const url = new URL(options.endpoint);
  const path = `${url.pathname}${url.search}`;
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  // undici's own timeouts equal ours: a second line behind the deadline below, never the first.
  const pool = new Pool(url.origin, {
    connections: options.connections,
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const pending = new Set<AbortController>();
  let closed = false;

  async function call(token: string): Promise<CallOutcome> {
    if (closed) return { ok: false, reason: 'closed' };
    // A plain timer and controller owned by this call, not AbortSignal.timeout(): the GC may
    // collect a timeout signal nothing else holds before it fires (nodejs/node#57736), and
    // then a peer that never answers holds the call forever. Cleared in `finally`.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Deadline()), options.timeoutMs);
    pending.add(controller);
    try {
      const res = await pool.request({
        path,
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams([['token', token], ['token_type_hint', 'access_token']]).toString(),
        signal: controller.signal,
      });
      if (res.statusCode !== 200) {
        discard(res.body);
        return { ok: false, reason: `HTTP ${res.statusCode}` };
      }
      const raw = await readBounded(res.body, Number(res.headers['content-length']));
      return { ok: true, body: parseObject(raw) };
    } catch (err) {
      return { ok: false, reason: reasonOf(err, controller.signal) };
    } finally {
      clearTimeout(timer);
      pending.delete(controller);
    }
  }

  return {
    call,
    async close() {
      closed = true;
      for (const controller of pending) controller.abort(new Closed());
      await pool.destroy();
    },
  };
}
