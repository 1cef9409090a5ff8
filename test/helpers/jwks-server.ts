/**
 * A real JWKS HTTP server on 127.0.0.1:0 with a mutable key set and failure modes.
 * Counts every request it receives, so tests can assert "at most one fetch" or "zero".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from './listen.js';

export type JwksMode =
  | { readonly kind: 'ok' }
  | { readonly kind: 'status'; readonly status: number }
  /** Destroy the socket without a response (ECONNRESET on the client). */
  | { readonly kind: 'reset' }
  /** Send headers then end the connection mid-body. */
  | { readonly kind: 'close' }
  /** Accept the request and never answer. */
  | { readonly kind: 'hang' }
  | { readonly kind: 'garbage'; readonly body: string }
  /** A body of `bytes` bytes; with declareLength, announced in Content-Length, else chunked. */
  | { readonly kind: 'oversized'; readonly bytes: number; readonly declareLength: boolean };

export interface JwksServer {
  readonly url: string;
  /** The JWKS URL (`${url}/jwks.json`). */
  readonly jwksUri: string;
  /** Requests received, any path. */
  readonly requests: number;
  /** Paths requested, in order. */
  readonly paths: readonly string[];
  setJwks(jwks: unknown): void;
  setMode(mode: JwksMode): void;
  /** Delay (ms) before answering, in every mode. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startJwksServer(initial: unknown = { keys: [] }): Promise<JwksServer> {
  let jwks = initial;
  let mode: JwksMode = { kind: 'ok' };
  let delay = 0;
  let requests = 0;
  const paths: string[] = [];
  const sockets = new Set<Socket>();

  function answer(req: IncomingMessage, res: ServerResponse): void {
    switch (mode.kind) {
      case 'ok': {
        const body = JSON.stringify(jwks);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'status':
        res.writeHead(mode.status, { 'content-type': 'text/plain' });
        res.end('nope');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'close':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
        res.write('{"keys":[');
        setImmediate(() => req.socket.destroy());
        return;
      case 'hang':
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(mode.body);
        return;
      case 'oversized': {
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        const headers: Record<string, string | number> = { 'content-type': 'application/json' };
        if (mode.declareLength) headers['content-length'] = mode.bytes;
        res.writeHead(200, headers);
        let left = mode.bytes;
        const pump = (): void => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('error', () => {});
        pump();
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    requests++;
    paths.push(req.url ?? '');
    if (delay > 0) setTimeout(() => answer(req, res), delay);
    else answer(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const l = await listen(server);
  return {
    url: l.url,
    jwksUri: `${l.url}/jwks.json`,
    get requests() {
      return requests;
    },
    get paths() {
      return paths;
    },
    setJwks: (j) => {
      jwks = j;
    },
    setMode: (m) => {
      mode = m;
    },
    setDelay: (ms) => {
      delay = ms;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await l.close();
    },
  };
}
