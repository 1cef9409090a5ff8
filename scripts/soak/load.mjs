/**
 * The soak's load: W workers on an undici Pool of W keep-alive connections, each
 * sending one request after another from a fixed weighted mix of kinds (allowed,
 * public, forbidden, and the 401 kinds), with the status each kind must get.
 * Every answer is recorded (kind, status, latency, time); any thrown error is a
 * client error (the sidecar cut a connection or did not answer in time).
 */
import { Pool } from 'undici';
import { RELOADED_PATH } from './sidecar.mjs';

/** Each kind, its share of 20 requests, and the status it must get. */
export const MIX = [
  { kind: 'allowed', share: 11, expect: 200 },
  { kind: 'reloaded', share: 1, expect: 200 }, // an allowed request on the route the reload adds (allowed until then)
  { kind: 'public', share: 1, expect: 200 },
  { kind: 'forbidden', share: 3, expect: 403 },
  { kind: 'expired', share: 1, expect: 401 },
  { kind: 'bad_signature', share: 1, expect: 401 },
  { kind: 'audience', share: 1, expect: 401 },
  { kind: 'missing', share: 1, expect: 401 }, // alternately no Authorization and a malformed token
];
/** Kinds the upstream answers: during its restart window they may get 502 (or 503, 504) instead. */
export const FORWARDED = new Set(['allowed', 'reloaded', 'public']);
export const EXPECTED = Object.fromEntries(MIX.map((m) => [m.kind, m.expect]));
const CYCLE = MIX.flatMap((m) => Array.from({ length: m.share }, () => m.kind));
/** A request without an answer within this long is a client error. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * @typedef {{ kind: string, status: number, ms: number, at: number }} Answer
 * @typedef {{ kind: string, error: string, at: number }} ClientError
 */

/**
 * @param {{ url: string, connections: number, tokens: () => Record<string, string[]>, reloadedLive: () => boolean, until: () => boolean }} o
 * @returns {Promise<{ answers: Answer[], errors: ClientError[], ms: number }>}
 */
export async function runLoad(o) {
  const pool = new Pool(o.url, { connections: o.connections, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  /** @type {Answer[]} */
  const answers = [];
  /** @type {ClientError[]} */
  const errors = [];
  let n = 0;
  /** Per kind, how many were sent: each kind walks its own token list, so every token is used in turn. */
  const sent = Object.fromEntries(MIX.map((m) => [m.kind, 0]));

  function requestFor(kind) {
    const tokens = o.tokens();
    const i = sent[kind]++;
    const id = n % 100_000;
    switch (kind) {
      case 'public':
        return { path: '/health', token: undefined };
      case 'missing':
        return { path: `/reports/${id}`, token: i % 2 === 0 ? undefined : 'not-a-jwt' };
      case 'reloaded':
        return { path: o.reloadedLive() ? RELOADED_PATH : `/reports/${id}`, token: tokens.allowed[(i * 7919) % tokens.allowed.length] };
      default:
        return { path: `/reports/${id}`, token: tokens[kind][i % tokens[kind].length] };
    }
  }

  const worker = async () => {
    while (!o.until()) {
      const kind = CYCLE[n % CYCLE.length];
      const { path, token } = requestFor(kind);
      n += 1;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
        await res.body.dump();
        answers.push({ kind, status: res.statusCode, ms: performance.now() - t0, at: t0 });
      } catch (err) {
        errors.push({ kind, error: String(err?.code ?? err?.message ?? err), at: t0 });
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.connections }, worker));
  const ms = performance.now() - started;
  await pool.close();
  return { answers, errors, ms };
}
