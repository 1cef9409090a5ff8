/**
 * One bounded outbound HTTP exchange, for the small documents scopegate fetches from
 * an identity provider (a JWKS, RFC 8414 metadata, an RFC 7662 introspection answer):
 * connect, headers and the whole body end within `timeoutMs` (see deadline.ts for why
 * the timer cannot be lost), the body is capped at `maxBytes`, only a 200 is a
 * success, and redirects are never followed (undici's `request` does not), so the
 * only URL reached is the configured one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { ScopegateError } from '../errors.js';
import { DeadlineExceededError, withDeadline } from './deadline.js';

export type OutboundFetchErrorCode =
  | 'ERR_FETCH_TIMEOUT' // no complete 200 answer within timeoutMs
  | 'ERR_FETCH_TOO_LARGE' // Content-Length or the body read so far exceeds maxBytes
  | 'ERR_FETCH_STATUS' // an answer other than 200
  | 'ERR_FETCH_NETWORK' // refused, reset, closed mid-body, DNS, TLS
  | 'ERR_FETCH_ABORTED'; // the caller's signal aborted (e.g. shutting down)

/** Why an outbound fetch failed; `code` is what callers branch on. Never seen by a client (502 if it were). */
export class OutboundFetchError extends ScopegateError {
  declare readonly code: OutboundFetchErrorCode;
  constructor(code: OutboundFetchErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, 502, message, options);
  }
}

export interface BoundedFetchOptions {
  /** The caller's own pool, so closing the caller closes its sockets. */
  readonly dispatcher: Dispatcher;
  /** The whole exchange: connect, response headers and the body, in milliseconds. */
  readonly timeoutMs: number;
  /** A body (declared or received) above this many bytes fails the fetch. */
  readonly maxBytes: number;
  /** Ends the fetch early, e.g. when its owner closes. */
  readonly signal?: AbortSignal;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface BoundedResponse {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** GET (or POST) `url` and read its 200 body whole. Rejects only with OutboundFetchError. */
export async function fetchBounded(url: string, options: BoundedFetchOptions): Promise<BoundedResponse> {
  try {
    return await withDeadline(options.timeoutMs, options.signal, (signal) => exchange(url, options, signal));
  } catch (err) {
    throw classify(err, options);
  }
}

async function exchange(url: string, o: BoundedFetchOptions, signal: AbortSignal): Promise<BoundedResponse> {
  const res = await request(url, {
    method: o.method ?? 'GET',
    dispatcher: o.dispatcher,
    signal,
    headers: o.headers === undefined ? undefined : { ...o.headers },
    body: o.body,
  });
  if (res.statusCode !== 200) {
    discard(res.body);
    throw new OutboundFetchError('ERR_FETCH_STATUS', `HTTP ${res.statusCode}`);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    discard(res.body);
    throw new OutboundFetchError('ERR_FETCH_TOO_LARGE', `Content-Length ${declared} exceeds ${o.maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > o.maxBytes) {
      discard(res.body);
      throw new OutboundFetchError('ERR_FETCH_TOO_LARGE', `body exceeds ${o.maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return { headers: res.headers, body: Buffer.concat(chunks) };
}

function classify(err: unknown, o: BoundedFetchOptions): OutboundFetchError {
  if (err instanceof OutboundFetchError) return err;
  if (err instanceof DeadlineExceededError) return new OutboundFetchError('ERR_FETCH_TIMEOUT', err.message, { cause: err });
  if (o.signal?.aborted === true) return new OutboundFetchError('ERR_FETCH_ABORTED', 'fetch aborted by its owner', { cause: err });
  return new OutboundFetchError('ERR_FETCH_NETWORK', (err as Error)?.message ?? String(err), { cause: err });
}

/** Drop a response body we will not read; undici reports the abort as a stream error, which is expected here. */
function discard(body: { on(event: 'error', fn: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}
