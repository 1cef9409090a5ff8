/**
 * JSON error answers that are not denials: 500 when answering failed, 502/504
 * from the forwarder, the admin endpoints' 404/405/500, and the answers written
 * on the raw socket when Node has no request object to respond on (a malformed
 * request, a header overflow, a request timeout, CONNECT). One body shape,
 * `{"error": …, "error_description": …}`, for all of them and for denials.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SocketErrorCode } from '../errors.js';
import { requestHasBody } from '../proxy/headers.js';

/** The headers every JSON error and deny starts with, in the order written. */
export const NO_STORE_JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** The JSON body of every error scopegate writes itself. */
export function errorJson(error: string, description: string): string {
  return JSON.stringify({ error, error_description: description });
}

/**
 * When the request still has an unread body (we answer before consuming it),
 * ask Node to close the connection instead of draining a possibly huge
 * upload to keep the socket alive.
 */
export function closeIfBodyPending(res: ServerResponse, headers: Record<string, string | number>): void {
  // `complete` alone is not enough: Node emits 'request' before it parses the
  // end of even a bodyless message, so it is still false here for a plain GET.
  const req = res.req as ServerResponse['req'] | undefined;
  if (req !== undefined && !req.complete && requestHasBody(req.headers)) headers['connection'] = 'close';
}

/**
 * A JSON error response (502/504 from the forwarder, admin 404/405/503).
 * After headers were sent the status cannot change: the connection is
 * destroyed so the client sees a truncated response, never a wrong one.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  extraHeaders?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const json = errorJson(error, description);
  const headers: Record<string, string | number> = {
    ...NO_STORE_JSON_HEADERS,
    'content-length': Buffer.byteLength(json),
    ...extraHeaders,
  };
  closeIfBodyPending(res, headers);
  res.writeHead(status, headers);
  res.end(json);
}

/** An answer written on the raw socket: there is no request to respond on, only bytes. */
export interface SocketAnswer {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  /** The access line's `code`. */
  readonly code: SocketErrorCode | 'ERR_ROUTE_METHOD_NOT_ALLOWED';
}

/** CONNECT is never forwarded: answered instead of Node dropping the socket silently. */
export const CONNECT_ANSWER: SocketAnswer = Object.freeze({
  status: 405,
  error: 'method_not_allowed',
  description: 'CONNECT is not supported',
  code: 'ERR_ROUTE_METHOD_NOT_ALLOWED',
});

/** Node's `clientError` (the parser's code, or a request timeout) → the answer. */
export function clientErrorAnswer(code: string | undefined): SocketAnswer {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, error: 'invalid_request', description: 'request headers too large', code };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, error: 'invalid_request', description: 'request timeout', code };
  // Node's codes all start with E or HPE_ (ERR_…, E…, HPE_…); anything else is logged as a parse failure.
  const known = code !== undefined && (code.startsWith('E') || code.startsWith('HPE_')) ? (code as SocketErrorCode) : undefined;
  return { status: 400, error: 'invalid_request', description: 'malformed HTTP request', code: known ?? 'ERR_HTTP_PARSE' };
}

/** Write `answer` as a whole HTTP/1.1 response and close the connection. */
export function writeSocketAnswer(socket: Socket, answer: SocketAnswer): void {
  const body = errorJson(answer.error, answer.description);
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
