/**
 * Shared world for the hostile-key-server tests (jwks-*.test.ts): the real
 * `scopegate serve` process with short JWKS timings, a recording upstream, a live
 * JWKS server whose set and failure mode the test changes, and helpers to wait for
 * the sidecar's next refresh and read its metrics.
 *
 * Not a test file (no `.test.ts`): tap does not run it on its own.
 */
import { startJwksServer, type JwksMode, type JwksServer } from '../helpers/jwks-server.js';
import { send } from '../helpers/http.js';
import { testConfigYaml } from '../helpers/config.js';
import type { TestKey } from '../helpers/keys.js';
import { rawExchange, type RawOptions } from '../helpers/raw.js';
import { startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { claims, signToken, type Json } from '../helpers/tokens.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { AUD, get, ISSUER, ROUTES, type Probe } from './fixture.js';

export { AUD, ISSUER };

export interface KeyWorldOptions {
  /** The JWK Set served from the start. */
  readonly jwks: unknown;
  /** The endpoint's behaviour from the first request (default: answers). */
  readonly mode?: JwksMode;
  readonly timeoutMs?: number;
  readonly cooldownS?: number;
  readonly maxAgeS?: number;
  /**
   * Run the sidecar with `--expose-gc` and a full collection every this many ms, so a
   * timer the garbage collector may drop (nodejs/node#57736) is really dropped.
   */
  readonly gcEveryMs?: number;
  /** Log line to wait for after start (default: the keys loaded). */
  readonly waitFor?: string;
}

export interface KeyWorld {
  readonly sidecar: Sidecar;
  readonly upstream: TestUpstream;
  readonly jwks: JwksServer;
  /** A valid token signed by `key` for the protected route (`items:read`). */
  token(key: TestKey, extra?: Json): string;
  /** `GET /api/items/1` (requires items:read) with this bearer token; `delta` is what the upstream received. */
  call(token: string, opts?: RawOptions): Promise<Probe>;
  /** Prometheus text from the admin port. */
  metrics(): Promise<string>;
  /** Resolves once a JWKS fetch that started after this call has finished (any result). */
  nextRefresh(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `NODE_OPTIONS` for a child that collects garbage fully every `ms` (unref'd: it never keeps the process up). */
export function gcPressureEnv(ms: number): NodeJS.ProcessEnv {
  const preload = `data:text/javascript,setInterval(()=>globalThis.gc(),${ms}).unref()`;
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import=${preload}`.trim() };
}

function jwksTimings(yaml: string, o: KeyWorldOptions): string {
  const stock = '  jwks:\n    cooldown_s: 1\n    timeout_ms: 2000\n';
  if (!yaml.includes(stock)) throw new Error('testConfigYaml changed its jwks block: update jwks-fixture.ts');
  const lines = [`    cooldown_s: ${o.cooldownS ?? 1}`, `    timeout_ms: ${o.timeoutMs ?? 2000}`];
  if (o.maxAgeS !== undefined) lines.push(`    max_age_s: ${o.maxAgeS}`);
  return yaml.replace(stock, `  jwks:\n${lines.join('\n')}\n`);
}

/** Completed JWKS fetches (every result), from scopegate_jwks_refresh_total. */
export function refreshCount(metricsText: string): number {
  let total = 0;
  for (const m of metricsText.matchAll(/^scopegate_jwks_refresh_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

export async function startKeyWorld(o: KeyWorldOptions): Promise<KeyWorld> {
  const jwks = await startJwksServer(o.jwks);
  if (o.mode !== undefined) jwks.setMode(o.mode);
  const upstream = await startUpstream();
  const yaml = jwksTimings(testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: upstream.url, routes: ROUTES }), o);
  const sidecar = await startSidecar(yaml, { env: o.gcEveryMs === undefined ? {} : gcPressureEnv(o.gcEveryMs) }).catch(async (err: unknown) => {
    await Promise.all([upstream.close(), jwks.close()]);
    throw err;
  });
  try {
    await sidecar.waitForLog(o.waitFor ?? 'signing keys loaded');
  } catch (err) {
    // Never leave a sidecar (under GC pressure, it would burn CPU) behind a failed start.
    await Promise.all([sidecar.stop(), upstream.close(), jwks.close()]);
    throw err;
  }
  const metrics = async (): Promise<string> => (await send(sidecar.adminUrl, '/metrics')).body;
  return {
    sidecar,
    upstream,
    jwks,
    token: (key, extra = {}) => signToken(key, claims(ISSUER, AUD, { scope: 'items:read', ...extra })),
    async call(token, opts = {}) {
      const before = upstream.count;
      const r = await rawExchange(sidecar.port, Buffer.from(get('/api/items/1', `Authorization: Bearer ${token}`), 'latin1'), opts);
      return { ...r, delta: upstream.requests.slice(before) };
    },
    metrics,
    async nextRefresh(timeoutMs = 10_000) {
      // Fetches run one at a time and each ends in exactly one refresh metric, so the
      // fetch numbered `requests + 1` is the first that sees what the test just changed.
      const wanted = jwks.requests + 1;
      const deadline = Date.now() + timeoutMs;
      while (refreshCount(await metrics()) < wanted) {
        if (Date.now() > deadline) throw new Error(`no JWKS refresh #${wanted} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await sidecar.stop();
      await upstream.close();
      await jwks.close();
    },
  };
}
