/**
 * A loopback RFC 7662 endpoint whose answers each test chooses, counting the calls that
 * reach it. `hold()` keeps answers back until `release()`, to see what is in flight.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { listen } from './listen.js';

export interface RecordedCall {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly form: URLSearchParams;
}

/** A JSON object to answer 200 with, or the full answer. */
export type Answer = Record<string, unknown> | RawAnswer;
export interface RawAnswer {
  readonly status: number;
  readonly raw: string;
  readonly headers?: Record<string, string>;
}

function isRaw(answer: Answer): answer is RawAnswer {
  return typeof answer.status === 'number' && typeof answer.raw === 'string';
}

export interface IntrospectionServer {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Chooses each answer from the posted form; `stall` sends headers and never finishes the body. */
  answer: (form: URLSearchParams) => Answer | 'stall';
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, answer: Answer | 'stall'): void {
  if (answer === 'stall') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"active":');
    return;
  }
  if (isRaw(answer)) {
    const length = answer.headers?.['transfer-encoding'] === undefined ? { 'content-length': String(Buffer.byteLength(answer.raw)) } : {};
    res.writeHead(answer.status, { 'content-type': 'application/json', ...length, ...answer.headers });
    res.end(answer.raw);
    return;
  }
  const body = JSON.stringify(answer);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startIntrospectionServer(): Promise<IntrospectionServer> {
  let held: (() => void)[] | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      self.calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, form });
      const reply = () => send(res, self.answer(form));
      if (held !== undefined) held.push(reply);
      else reply();
    });
  });
  const l = await listen(server);
  const self: IntrospectionServer = {
    endpoint: `${l.url}/oauth2/introspect`,
    calls: [],
    answer: () => ({ active: false }),
    hold: () => {
      held ??= [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const reply of waiting) reply();
    },
    close: () => l.close(),
  };
  return self;
}

/**
 * A TCP server that accepts connections and never answers a byte. `requests()` counts the
 * connections a request was written on (undici may open an idle one after an abort).
 */
export async function startSilentServer(): Promise<{ endpoint: string; requests: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => requests++); // read and drop the request, answer nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/introspect`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPortEndpoint(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/introspect`;
}
