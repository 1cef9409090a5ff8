/**
 * A real node:http upstream on 127.0.0.1:0 that records every request it
 * receives. The body is hashed as it streams (only the first RECORD_BODY_MAX
 * bytes are kept), so multi-megabyte uploads do not inflate the test process.
 *
 * Behaviour is a handler the test sets (`upstream.handle = …`); the default
 * answers 200 with a small JSON echo once the request body has been read.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from './listen.js';

/** Bytes of body kept verbatim per request; beyond this only size and hash are kept. */
const RECORD_BODY_MAX = 1024 * 1024;

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
  /** Up to RECORD_BODY_MAX bytes of body. */
  body: Buffer;
  bodyBytes: number;
  /** sha256 hex of the whole body, set when the body ended. */
  bodySha256: string | undefined;
  /** The client side (the proxy) closed before our response finished. */
  closedEarly: boolean;
  /** Resolves when the body has been fully read (or the request was cut). */
  readonly bodyDone: Promise<void>;
  /** Resolves when the connection/response closed, finished or not. */
  readonly closed: Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest) => void | Promise<void>;

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly requests: RecordedRequest[];
  /** Number of requests received so far. */
  readonly count: number;
  handle: UpstreamHandler;
  /** Resolves with the next request recorded (or the nth, 0-based, if already there). */
  nextRequest(index?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export const echoHandler: UpstreamHandler = async (_req, res, rec) => {
  await rec.bodyDone;
  const body = JSON.stringify({ method: rec.method, url: rec.url, bodyBytes: rec.bodyBytes });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** Answer after `ms` (headers included), to exercise the headers timeout. */
export function delayHandler(ms: number): UpstreamHandler {
  return (_req, res) => {
    const timer = setTimeout(() => {
      if (!res.destroyed) res.end('late');
    }, ms);
    res.on('close', () => clearTimeout(timer));
  };
}

/** Send headers, then `chunks` chunks of `size` bytes every `intervalMs`. */
export function streamHandler(chunks: number, size: number, intervalMs: number): UpstreamHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) {
        clearInterval(timer);
        return;
      }
      res.write(Buffer.alloc(size, 0x61 + (sent % 26)));
      sent++;
      if (sent === chunks) {
        clearInterval(timer);
        res.end();
      }
    }, intervalMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Destroy the socket without answering (a reset before any response). */
export const resetHandler: UpstreamHandler = (req) => {
  req.socket.destroy();
};

export async function startUpstream(handle: UpstreamHandler = echoHandler): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ index: number; resolve: (r: RecordedRequest) => void }> = [];

  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let resolveBody!: () => void;
    let resolveClosed!: () => void;
    const rec: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders.slice(),
      body: Buffer.alloc(0),
      bodyBytes: 0,
      bodySha256: undefined,
      closedEarly: false,
      bodyDone: new Promise<void>((r) => (resolveBody = r)),
      closed: new Promise<void>((r) => (resolveClosed = r)),
    };
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      rec.bodyBytes += chunk.length;
      if (keptBytes < RECORD_BODY_MAX) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
    });
    req.on('end', () => {
      rec.body = Buffer.concat(kept);
      rec.bodySha256 = hash.digest('hex');
      resolveBody();
    });
    req.on('error', () => resolveBody());
    res.on('close', () => {
      if (!res.writableFinished) rec.closedEarly = true;
      resolveBody();
      resolveClosed();
    });
    requests.push(rec);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.index === requests.length - 1) {
        waiters.splice(i, 1);
        w.resolve(rec);
      }
    }
    Promise.resolve(upstream.handle(req, res, rec)).catch(() => res.destroy());
  });
  // A reset on one request must not fail the suite.
  server.on('clientError', (_err, socket) => socket.destroy());

  const { url, port, close } = await listen(server);
  const upstream: TestUpstream = {
    url,
    port,
    server,
    requests,
    get count() {
      return requests.length;
    },
    handle,
    nextRequest(index = requests.length) {
      const existing = requests[index];
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push({ index, resolve }));
    },
    close,
  };
  return upstream;
}

/** A port with nothing listening: bind, read the port, close. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
