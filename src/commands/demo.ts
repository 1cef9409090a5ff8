/**
 * `scopegate demo` (what `npm start` runs): a self-contained tour that needs
 * nothing else on the machine. It starts, all on 127.0.0.1:
 *   - a demo issuer: an RSA key generated now, its JWKS served over HTTP;
 *   - a demo upstream: an echo server showing what the API would receive;
 *   - the real sidecar, with the routes of the given config, pointed at both;
 * then prints curl commands with freshly minted tokens (a 200, a 401, a 403).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { parseListen } from '../config/load.js';
import { DEFAULTS, type Config, type IssuerConfig, type ListenAddress } from '../config/schema.js';
import { startScopegate } from '../server.js';
import { configPath, EXIT_FAILED, EXIT_USAGE, loadOrReport, type CommandIo, type Output } from './io.js';
import { fileArgument, parseCommon } from './usage.js';

/** Demo tokens live one hour: long enough to play, short enough to be obviously demo tokens. */
const DEMO_TOKEN_TTL_S = 3600;

async function listenLocal(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function startIssuer(jwks: string): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(jwks);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    }
  });
}

/** Echoes what reached the upstream, so the user can see the forwarded path and identity headers. */
function startEchoUpstream(identity: Config['identityHeaders']): Server {
  return createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const seen: Record<string, string | undefined> = {};
      for (const name of [identity.subject, identity.scopes]) if (name) seen[name] = req.headers[name] as string | undefined;
      const body = JSON.stringify({ upstream: 'demo echo', method: req.method, url: req.url, body_bytes: bytes, identity_headers: seen }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
    });
  });
}

export interface DemoOptions {
  /** Override the config's listen / admin_listen (e.g. when 8080 is taken). */
  readonly listen?: ListenAddress;
  readonly adminListen?: ListenAddress;
}

export async function runDemo(base: Config, options: DemoOptions = {}, io: CommandIo = {}): Promise<number> {
  const stdout: Output = io.stdout ?? process.stdout;
  const stderr: Output = io.stderr ?? process.stderr;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `demo-${randomUUID().slice(0, 8)}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const issuerServer = startIssuer(JSON.stringify({ keys: [jwk] }));
  const issuerUrl = `${await listenLocal(issuerServer)}/`;
  const upstreamServer = startEchoUpstream(base.identityHeaders);
  const upstreamUrl = await listenLocal(upstreamServer);

  const template = base.auth.issuers[0];
  const audience = template?.audiences[0] ?? 'https://api.example.com';
  const issuer: IssuerConfig = Object.freeze({
    issuer: issuerUrl,
    jwksUri: `${issuerUrl}.well-known/jwks.json`,
    audiences: Object.freeze([audience]),
    algorithms: Object.freeze(['RS256'] as const),
    readiness: 'required',
    clientIds: Object.freeze([]),
    requireClaims: Object.freeze({}),
  });
  const listen = options.listen ?? base.listen ?? DEFAULTS.listen;
  const config: Config = Object.freeze({
    ...base,
    listen,
    adminListen: options.adminListen ?? base.adminListen,
    upstream: Object.freeze({ ...DEFAULTS.upstream, ...base.upstream, url: upstreamUrl }),
    auth: Object.freeze({ ...base.auth, issuers: Object.freeze([issuer]) }),
  });

  let sidecar: Awaited<ReturnType<typeof startScopegate>>;
  try {
    sidecar = await startScopegate(config, { installSignalHandlers: false });
  } catch (error) {
    issuerServer.close();
    upstreamServer.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      stderr.write(
        `scopegate demo: ${listen.host}:${listen.port} or ${config.adminListen.host}:${config.adminListen.port} is already in use.\n` +
          'Pick free ports, e.g.: npm start -- --listen 127.0.0.1:8081 --admin-listen 127.0.0.1:9091\n',
      );
      return 1;
    }
    throw error;
  }

  // Minted with jose, the reference JWS implementation; the same header and claims as before (typ JWT, kid, iat/exp).
  const sign = (claims: Record<string, string>): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(issuerUrl)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${DEMO_TOKEN_TTL_S}s`)
      .sign(privateKey);
  const reader = await sign({ sub: 'demo-user', client_id: 'demo-client', scope: 'org:read projects:read' });
  const writer = await sign({ sub: 'demo-admin', client_id: 'demo-client', scope: 'org:read projects:read projects:write' });
  const url = sidecar.url;
  const out = `
scopegate demo is running.
  sidecar   ${url}        (routes from ${base.source.file})
  admin     ${sidecar.adminUrl}  (/healthz /readyz /metrics)
  issuer    ${issuerUrl}  (RS256 key ${kid}, generated now)
  upstream  ${upstreamUrl}  (echo server)

Two tokens were minted (valid ${DEMO_TOKEN_TTL_S / 60} minutes):
  READER  scope="org:read projects:read"
  WRITER  scope="org:read projects:read projects:write"

  READER='${reader}'
  WRITER='${writer}'

200 — the reader lists organizations (org:read); the echo shows what the API received:
  curl -i -H "Authorization: Bearer $READER" ${url}/api/oauth-client/organizations

401 — no token:
  curl -i ${url}/api/oauth-client/organizations

403 — the reader may not create projects (needs projects:write):
  curl -i -X POST -H "Authorization: Bearer $READER" ${url}/api/oauth-client/v1/projects

200 — the writer may:
  curl -i -X POST -H "Authorization: Bearer $WRITER" -d '{"name":"demo"}' ${url}/api/oauth-client/v1/projects

404 — an unmapped path never reaches the API:
  curl -i -H "Authorization: Bearer $READER" ${url}/api/oauth-client/admin

Metrics: curl -s ${sidecar.adminUrl}/metrics | grep scopegate_decisions_total
Press Ctrl-C to stop.
`;
  stdout.write(out);

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  stdout.write('\nstopping demo…\n');
  await sidecar.close();
  issuerServer.closeAllConnections();
  upstreamServer.closeAllConnections();
  await Promise.all([new Promise((r) => issuerServer.close(r)), new Promise((r) => upstreamServer.close(r))]);
  return 0;
}

/** `scopegate demo [--config FILE | FILE] [--listen HOST:PORT] [--admin-listen HOST:PORT]`. */
export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const err = io.stderr ?? process.stderr;
  const args = parseCommon(argv);
  const named = fileArgument(args, err);
  if (named === undefined) return EXIT_USAGE;
  const config = loadOrReport(configPath(named.file), err);
  if (config === undefined) return EXIT_FAILED;
  const ports: { listen?: ListenAddress; adminListen?: ListenAddress } = {};
  for (const [flag, key] of [['listen', 'listen'], ['admin-listen', 'adminListen']] as const) {
    const text = args.values[flag];
    if (text === undefined) continue;
    const address = parseListen(text);
    if (address === undefined) {
      err.write(`--${flag}: must be host:port or a port, got ${JSON.stringify(text)}\n`);
      return EXIT_USAGE;
    }
    ports[key] = address;
  }
  return runDemo(config, ports, io);
}
