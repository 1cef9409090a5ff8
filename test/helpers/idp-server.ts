/**
 * A real identity provider's public documents on 127.0.0.1:0: a JWKS and a metadata
 * document served at any paths the test names (OpenID Connect Discovery or RFC 8414
 * forms), every other path a 404. Records every path requested.
 */
import { createServer } from 'node:http';
import { listen } from './listen.js';

export interface IdpServer {
  readonly url: string;
  readonly jwksUri: string;
  /** Paths requested, in order. */
  readonly paths: readonly string[];
  /** Serve `doc` as JSON at `path` (undefined removes it); `hang` accepts and never answers. */
  serve(path: string, doc: unknown | undefined): void;
  hang(path: string): void;
  close(): Promise<void>;
}

export async function startIdpServer(jwks: unknown): Promise<IdpServer> {
  const docs = new Map<string, unknown>([['/jwks.json', jwks]]);
  const hanging = new Set<string>();
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    paths.push(path);
    if (hanging.has(path)) return;
    if (!docs.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = JSON.stringify(docs.get(path));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  const l = await listen(server);
  return {
    url: l.url,
    jwksUri: `${l.url}/jwks.json`,
    paths,
    serve: (path, doc) => void (doc === undefined ? docs.delete(path) : docs.set(path, doc)),
    hang: (path) => void hanging.add(path),
    close: l.close,
  };
}
