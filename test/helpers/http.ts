/**
 * A minimal HTTP client over node:http that sends the path exactly as given
 * (fetch would normalize it) and collects the whole response.
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders | readonly string[];
  readonly body?: string | Buffer | Readable;
  readonly signal?: AbortSignal;
}

export function send(base: string, path: string, opts: SendOptions = {}): Promise<Reply> {
  const url = new URL(base);
  // Node's client adds Host only to object-form headers; a raw list must carry its own.
  const raw = opts.headers;
  const headers = Array.isArray(raw) && !raw.some((h, i) => i % 2 === 0 && String(h).toLowerCase() === 'host') ? ['Host', url.host, ...raw] : raw;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path,
        headers: headers as OutgoingHttpHeaders,
        agent: false,
        signal: opts.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = opts.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}
