/**
 * Shared world for the raw-socket security tests: the real `scopegate serve`
 * process (dist/cli.js) in front of a recording upstream and a live JWKS
 * server, an EdDSA key (fast to sign), and `probe()`, which writes exact
 * bytes and reports what came back and what the upstream received.
 *
 * Not a test file (no `.test.ts`): tap does not run it on its own.
 */
import { startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf, type TestKey } from '../helpers/keys.js';
import { claims, signToken, type Json } from '../helpers/tokens.js';
import { testConfigYaml } from '../helpers/config.js';
import { startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { startUpstream, type RecordedRequest, type TestUpstream } from '../helpers/upstream.js';
import { rawExchange, type RawExchange, type RawOptions } from '../helpers/raw.js';

export const ISSUER = 'https://idp.security.test/';
export const AUD = 'https://api.example.com';

/** One route per requirement kind; `/public/*` is the bypass target's neighbour, `/admin/*` the prize. */
export const ROUTES = [
  'GET,POST /public/*: { auth: none }',
  'GET /api/items/:id: items:read',
  'POST /api/items: items:write',
  'GET /api/me: { auth: token }',
  'GET /admin/*: admin',
  'DELETE /api/items/:id: items:delete',
] as const;

export interface World {
  readonly sidecar: Sidecar;
  readonly upstream: TestUpstream;
  readonly jwks: JwksServer;
  readonly key: TestKey;
  readonly port: number;
  /** A valid token with these scopes (space-separated). */
  token(scope: string, extra?: Json): string;
  /**
   * Write exact bytes; `delta` are the requests the upstream received during the exchange
   * (plus `settleMs`: pass it, with `idleMs`, where a smuggled second request could still arrive).
   */
  probe(bytes: string | Buffer, opts?: RawOptions & { settleMs?: number }): Promise<Probe>;
  close(): Promise<void>;
}

export interface Probe extends RawExchange {
  readonly delta: readonly RecordedRequest[];
}

export interface WorldOptions {
  readonly extra?: string;
  readonly authExtra?: string;
  readonly routes?: readonly string[];
  /** More keys published in the JWKS from the start (the world's own EdDSA key is always there). */
  readonly keys?: readonly TestKey[];
  /** upstream.connections (the undici pool size). */
  readonly upstreamConnections?: number;
}

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const key = generateKey('ed25519');
  const jwks = await startJwksServer({ keys: [jwkOf(key), ...(o.keys ?? []).map((k) => jwkOf(k))] });
  const upstream = await startUpstream();
  const sidecar = await startSidecar(
    testConfigYaml({
      issuer: ISSUER,
      jwksUri: jwks.jwksUri,
      // testConfigYaml interpolates the URL as the `url:` value: an extra indented line adds a sibling key.
      upstream: o.upstreamConnections === undefined ? upstream.url : `${upstream.url}\n  connections: ${o.upstreamConnections}`,
      routes: o.routes ?? ROUTES,
      extra: o.extra,
      authExtra: o.authExtra,
    }),
  );
  await sidecar.waitForLog('signing keys loaded');
  return {
    sidecar,
    upstream,
    jwks,
    key,
    port: sidecar.port,
    token: (scope, extra = {}) => signToken(key, claims(ISSUER, AUD, { scope, ...extra })),
    async probe(bytes, opts = {}) {
      const before = upstream.count;
      const r = await rawExchange(sidecar.port, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, opts);
      // A smuggled second request would reach the upstream shortly after the first answer.
      if (opts.settleMs !== undefined) await new Promise((res) => setTimeout(res, opts.settleMs));
      return { ...r, delta: upstream.requests.slice(before) };
    },
    async close() {
      await sidecar.stop();
      await upstream.close();
      await jwks.close();
    },
  };
}

/** `GET <target> HTTP/1.1` with Host and the given extra header lines (already `Name: value`). */
export function get(target: string, ...lines: string[]): string {
  return `GET ${target} HTTP/1.1\r\nHost: scopegate.test\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

export function req(method: string, target: string, lines: readonly string[], body = ''): string {
  return `${method} ${target} HTTP/1.1\r\nHost: scopegate.test\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body}`;
}
