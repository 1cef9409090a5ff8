/**
 * WebSocket (RFC 6455) through scopegate (README, "Browser apps (CORS) and
 * WebSocket"). The handshake is a GET that plan() authorized like any request
 * (an `upgrade` action on a `websocket: true` route); here it is sent to the
 * upstream with its Upgrade/Connection headers kept, and on the upstream's 101
 * the two sockets are piped both ways until either side closes or fails, which
 * tears down both. An upstream that refuses the upgrade has its answer relayed.
 *
 * Open tunnels are a gauge and stay counted by the listener's max_connections
 * (the sockets are still the server's). closeAll() ends them when a drain times out.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { UpstreamConfig } from '../config/schema.js';
import type { Allow } from '../policy/decision.js';
import { sendError } from '../respond/error.js';
import { filterResponseHeaders } from './headers.js';

/** A handshake plan() allowed on a `websocket: true` route. */
export interface UpgradeAction {
  readonly kind: 'upgrade';
  readonly route: string;
  readonly allow: Allow;
}

export interface TunnelOutcome {
  /** 101 when the tunnel opened; else the upstream's refusal, or 502/504 written here. */
  readonly status: number;
  readonly upstreamMs: number;
  readonly error?: 'ERR_UPSTREAM_UNREACHABLE' | 'ERR_UPSTREAM_TIMEOUT';
}

export interface Tunnels {
  /**
   * Send the handshake upstream; resolves when it is answered (the tunnel, if
   * any, lives on). `res` is the response on the client socket for a refusal.
   */
  open(req: IncomingMessage, res: ServerResponse, head: Buffer, allow: Allow, headers: string[], upstream: UpstreamConfig): Promise<TunnelOutcome>;
  /** Destroy every open tunnel (drain timeout, shutdown). */
  closeAll(): void;
  readonly size: number;
}

/** The gauge's two moves, so this module needs no metrics object. */
export type TunnelGauge = (delta: 1 | -1) => void;

function statusLine(res: IncomingMessage): string {
  let out = `HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${out}\r\n`;
}

export function createTunnels(gauge: TunnelGauge): Tunnels {
  const open = new Set<Socket>();

  /** Pipe both ways; either side's end, close or error destroys both, once. */
  function join(client: Socket, upstream: Socket): void {
    open.add(client);
    gauge(1);
    let done = false;
    const teardown = (): void => {
      if (done) return;
      done = true;
      open.delete(client);
      gauge(-1);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.setTimeout(0);
      s.setNoDelay(true);
      s.on('close', teardown);
      s.on('error', teardown);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  function openTunnel(req: IncomingMessage, res: ServerResponse, head: Buffer, allow: Allow, headers: string[], upstream: UpstreamConfig): Promise<TunnelOutcome> {
    const url = new URL(upstream.url);
    const started = performance.now();
    const client = req.socket;
    // The two headers the handshake is made of (RFC 6455 §4.1); the header policy strips them as hop-by-hop everywhere else.
    headers.push('connection', 'Upgrade', 'upgrade', req.headers.upgrade ?? 'websocket');
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<TunnelOutcome>((resolve) => {
      let settled = false;
      const settle = (o: TunnelOutcome): void => {
        if (!settled) resolve(o);
        settled = true;
      };
      const elapsed = (): number => performance.now() - started;
      const upReq: ClientRequest = send({ host: url.hostname, port: url.port, method: 'GET', path: allow.path + allow.query, headers, agent: false });
      upReq.setTimeout(upstream.timeoutMs, () => {
        upReq.destroy();
        if (!settled) sendError(res, 504, 'gateway_timeout', 'upstream did not respond in time');
        settle({ status: 504, upstreamMs: elapsed(), error: 'ERR_UPSTREAM_TIMEOUT' });
      });
      upReq.on('error', () => {
        if (!settled) sendError(res, 502, 'bad_gateway', 'upstream unreachable');
        settle({ status: 502, upstreamMs: elapsed(), error: 'ERR_UPSTREAM_UNREACHABLE' });
      });
      upReq.on('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
        upReq.setTimeout(0);
        if (client.destroyed) {
          upSocket.destroy();
          settle({ status: 101, upstreamMs: elapsed() });
          return;
        }
        // The response is ours to write on the raw socket: the ServerResponse is never used.
        res.detachSocket(client);
        client.write(statusLine(upRes));
        if (upHead.length > 0) client.write(upHead);
        if (head.length > 0) upSocket.write(head);
        join(client, upSocket);
        settle({ status: 101, upstreamMs: elapsed() });
      });
      // The upstream refused the upgrade: its answer goes to the client as is.
      upReq.on('response', (upRes: IncomingMessage) => {
        upReq.setTimeout(0);
        const status = upRes.statusCode ?? 502;
        res.writeHead(status, filterResponseHeaders(upRes.rawHeaders));
        upRes.pipe(res);
        settle({ status, upstreamMs: elapsed() });
      });
      client.once('close', () => {
        if (!settled) upReq.destroy();
      });
      upReq.end();
    });
  }

  return {
    open: openTunnel,
    closeAll() {
      for (const s of open) s.destroy();
    },
    get size() {
      return open.size;
    },
  };
}
