/**
 * A raw-socket HTTP/1.1 client for security tests. fetch/undici and even
 * node:http normalize or refuse what an attacker can send (dot segments,
 * duplicate headers, obs-fold, bare LF, CL+TE, absolute-form targets…), so
 * these tests write the exact bytes with net.connect and parse whatever comes
 * back, including several pipelined responses (to see a smuggled request).
 *
 * 127.0.0.1 only.
 */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export interface RawExchange {
  /** Every complete response parsed from the stream, in order. */
  readonly responses: readonly RawResponse[];
  /** The first response (undefined if the server sent none). */
  readonly first: RawResponse | undefined;
  /** Everything received, latin1. */
  readonly raw: string;
  /** The server closed the connection (FIN or reset) before we gave up. */
  readonly closed: boolean;
  /** The connection was reset (ECONNRESET) rather than closed cleanly. */
  readonly reset: boolean;
}

export interface RawOptions {
  /** After at least `expect` complete responses, resolve when nothing more arrives for this long. Default 0: resolve at once (pass more to catch a smuggled extra response). */
  readonly idleMs?: number;
  /** Hard cap on the whole exchange. Default 5000 ms. */
  readonly maxMs?: number;
  /** Responses to wait for before the idle timer may end the exchange. Default 1. */
  readonly expect?: number;
  /** Write the bytes in these pieces, `gapMs` apart (slowloris-style). */
  readonly chunks?: readonly (string | Buffer)[];
  readonly gapMs?: number;
}

/** Parse as many complete HTTP/1.1 responses as `buf` holds. Responses to HEAD are not expected here. */
export function parseResponses(buf: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) break;
    const head = buf.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(head[0] ?? '');
    if (statusLine === null) break;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = headEnd + 4;
    let body: Buffer;
    const status = Number(statusLine[1]);
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding'] !== undefined && /chunked/i.test(headers['transfer-encoding'])) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le === -1) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (!Number.isFinite(size)) break;
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', le, 'latin1');
          if (te === -1) break;
          p = te + 4;
          complete = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
      bodyStart = p;
      pos = p;
      out.push(mk(status, statusLine[2] ?? '', headers, body));
      continue;
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (bodyStart + n > buf.length) break;
      body = buf.subarray(bodyStart, bodyStart + n);
      bodyStart += n;
    } else {
      // Body delimited by close: take the rest.
      body = buf.subarray(bodyStart);
      bodyStart = buf.length;
    }
    out.push(mk(status, statusLine[2] ?? '', headers, body));
    pos = bodyStart;
  }
  return out;
}

function mk(status: number, reason: string, headers: Record<string, string>, body: Buffer): RawResponse {
  const text = body.toString('utf8');
  let json: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(text);
    json = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status, reason, headers, body: text, json };
}

/** Write `bytes` to 127.0.0.1:port and collect the response(s). Never rejects. */
export function rawExchange(port: number, bytes: string | Buffer, opts: RawOptions = {}): Promise<RawExchange> {
  const idleMs = opts.idleMs ?? 0;
  const maxMs = opts.maxMs ?? 5000;
  const expect = opts.expect ?? 1;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let reset = false;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(cap);
      socket.destroy();
      const buf = Buffer.concat(chunks);
      const responses = parseResponses(buf);
      resolve({ responses, first: responses[0], raw: buf.toString('latin1'), closed, reset });
    };
    const cap = setTimeout(finish, maxMs);
    const armIdle = (): void => {
      clearTimeout(idle);
      const parsed = parseResponses(Buffer.concat(chunks));
      if (parsed.length >= expect) {
        // `Connection: close` announced: wait for the close itself (bounded by maxMs), so `closed` is exact.
        if (parsed.some((r) => /close/i.test(r.headers['connection'] ?? ''))) return;
        if (idleMs === 0) finish();
        else idle = setTimeout(finish, idleMs);
      }
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      armIdle();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      if (opts.chunks === undefined) {
        socket.write(bytes);
        return;
      }
      const pieces = [...opts.chunks];
      const gap = opts.gapMs ?? 0;
      const next = (): void => {
        const piece = pieces.shift();
        if (piece === undefined || done || socket.destroyed) return;
        socket.write(piece);
        if (pieces.length > 0) setTimeout(next, gap);
      };
      next();
    });
  });
}

/** A request head from a request line and [name, value] pairs, CRLF-framed, ending with the blank line. */
export function head(requestLine: string, headers: readonly (readonly [string, string])[], body = ''): string {
  return `${requestLine}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body}`;
}
