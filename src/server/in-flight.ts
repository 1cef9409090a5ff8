/**
 * The responses in progress on each connection, so that a parse error on a connection
 * never writes into one of them (docs/architecture.md, Request path).
 *
 * Node hands pipelined requests over one after another, each with its own response,
 * before the earlier ones are answered. When the parser then fails on the bytes that
 * follow, an error written at once on the socket would land in the middle of a response
 * (a streamed body) or be read as the answer to a request the upstream already executed.
 * Instead: the connection is closed after the responses in progress end; or at once when
 * the bytes that failed are the body of a request whose response has started.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const IN_FLIGHT = Symbol('scopegate.inFlight');
const CLOSING = Symbol('scopegate.closing');

interface TrackedSocket extends Socket {
  [IN_FLIGHT]?: Set<ServerResponse>;
  [CLOSING]?: boolean;
}

/** Count `res` as in progress on its connection until it closes (finished or destroyed). */
export function trackResponse(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket as TrackedSocket;
  const set = (socket[IN_FLIGHT] ??= new Set());
  set.add(res);
  res.once('close', () => {
    set.delete(res);
    if (set.size === 0 && socket[CLOSING] === true) socket.end();
  });
}

/** What to do with a connection whose parser failed. */
export type ParseFailureHandling = 'answer' | 'closing';

/**
 * 'answer': the error may be written as the connection's next response: nothing is in
 * progress, or the one request in progress is the malformed one and its response has not
 * started (what Node's own handler does). 'closing': nothing is written; the connection
 * is closed once the responses in progress end, or at once when the bytes that failed
 * are the body of a request whose response has started. Safe to call again.
 */
export function handleParseFailure(socket: Socket): ParseFailureHandling {
  const tracked = socket as TrackedSocket;
  if (tracked[CLOSING] === true) return 'closing';
  const set = tracked[IN_FLIGHT];
  if (set === undefined || set.size === 0) return 'answer';
  const first: ServerResponse = set.values().next().value as ServerResponse;
  if (set.size === 1 && !first.headersSent && !first.req.complete) return 'answer';
  tracked[CLOSING] = true;
  for (const res of set) {
    // The failed bytes are this request's own body: it will never complete; cut the
    // connection (after what was already written, when its answer is complete).
    if (!res.req.complete) {
      if (res.writableEnded) socket.end();
      else socket.destroy();
      return 'closing';
    }
  }
  // Every request in progress was complete: the failed bytes are a new pipelined request.
  // Each earlier request gets its own response; then trackResponse's close handler ends the connection.
  return 'closing';
}
