/**
 * pino JSON logs (README, Operations). Tokens, Authorization and cookies are never
 * written, by three independent guards:
 *
 * 1. accessLog() copies a fixed set of fields (ids, method, route template,
 *    status, reason, codes, durations): nothing else can reach that line.
 * 2. serializers for `req`, `res`, `headers` and `rawHeaders` keep only safe
 *    fields / drop sensitive header names in any letter case (pino redact
 *    paths are case-sensitive and cannot see into a rawHeaders list).
 * 3. redact paths censor the usual places a token or cookie sits.
 *
 * Redaction is costly (measured: ~45 µs per line with these paths against
 * ~2.5 µs without), too much for a line per request. So the access line is
 * serialized by accessLog() itself and written to the same destination with no
 * redaction: guard 1 makes it safe by construction. Everything else (startup,
 * warnings, errors with arbitrary objects) goes through the redacting logger.
 *
 * Both write through one destination: by default the process's stdout output
 * (log-output.ts), a bounded buffer drained asynchronously, so a reader that
 * stops reading costs dropped (and counted) lines, never a blocked request.
 */
import cluster from 'node:cluster';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { DecisionReason } from '../policy/decision.js';
import { jsonString } from './json-string.js';
import { DEFAULT_LOG_BUFFER_BYTES, stdoutLogOutput } from './log-output.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /**
   * pino level; default `info`. $SCOPEGATE_LOG_LEVEL, else $LOG_LEVEL, when set,
   * overrides it (they predate the config key and keep working).
   */
  readonly level?: string;
  /** One access line per request (default true). */
  readonly access?: boolean;
  /**
   * Bytes of output that may wait for a slow stdout reader before whole lines
   * are dropped and counted (default 4 MiB). $SCOPEGATE_LOG_BUFFER_BYTES, when
   * set to a number, overrides it. Read once per process: the stdout output is
   * shared. Ignored with `destination`.
   */
  readonly bufferBytes?: number;
  /** Where lines go instead of stdout (tests, embedding): written as is, nothing dropped. */
  readonly destination?: DestinationStream;
}

/** Header names whose values are credentials (compared lower-case). */
const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-access-token',
]);

const CENSOR = '[Redacted]';

// With `workers: N` every line of a worker names its process (README, "Workers"); one process needs no pid.
const WORKER_PID = cluster.isWorker ? { pid: process.pid } : {};
const WORKER_PID_JSON = cluster.isWorker ? `,"pid":${process.pid}` : '';

const SENSITIVE_KEYS = ['authorization', 'Authorization', 'cookie', 'Cookie', '"set-cookie"', '"Set-Cookie"', 'token', 'access_token', 'id_token', 'refresh_token', 'jwt'];

/**
 * `x`, `*.x` (which covers `headers.x`) and `*.headers.x` (`req.headers.x`,
 * `res.headers.x`) for each key. Kept short: redaction runs on every line.
 */
const REDACT_PATHS: string[] = SENSITIVE_KEYS.flatMap((k) => {
  const seg = k.startsWith('"') ? `[${k}]` : `.${k}`;
  const top = k.startsWith('"') ? `[${k}]` : k;
  return [top, `*${seg}`, `*.headers${seg}`];
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drop credential headers from an object of headers, whatever their case. */
export function safeHeaders(headers: unknown): unknown {
  if (!isPlainObject(headers)) return headers;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SENSITIVE_HEADERS.has(k.toLowerCase()) ? CENSOR : v;
  return out;
}

/** Same for Node's flat rawHeaders list. */
export function safeRawHeaders(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  const out: unknown[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name: unknown = raw[i];
    out.push(name, typeof name === 'string' && SENSITIVE_HEADERS.has(name.toLowerCase()) ? CENSOR : raw[i + 1]);
  }
  return out;
}

/** A request-ish object → method, path without query (queries can carry access_token), headers made safe. */
function reqSerializer(req: unknown): unknown {
  if (!isPlainObject(req) && !(typeof req === 'object' && req !== null)) return req;
  const r = req as { method?: unknown; url?: unknown; headers?: unknown; socket?: { remoteAddress?: unknown } };
  const url = typeof r.url === 'string' ? r.url : undefined;
  const q = url?.indexOf('?') ?? -1;
  return {
    method: r.method,
    path: url !== undefined && q !== -1 ? url.slice(0, q) : url,
    headers: safeHeaders(r.headers),
    remoteAddress: r.socket?.remoteAddress,
  };
}

function resSerializer(res: unknown): unknown {
  if (typeof res !== 'object' || res === null) return res;
  const r = res as { statusCode?: unknown; getHeaders?: () => unknown; headers?: unknown };
  return {
    statusCode: r.statusCode,
    headers: safeHeaders(typeof r.getHeaders === 'function' ? r.getHeaders() : r.headers),
  };
}

/**
 * The destination each logger createLogger() built writes to, for its access
 * lines; absent when access lines are off.
 */
const accessDestinations = new WeakMap<Logger, DestinationStream | null>();

/** A set, non-empty environment variable. */
function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A set environment variable that is a whole number. */
function numberFromEnv(name: string): number | undefined {
  const value = fromEnv(name);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = fromEnv('SCOPEGATE_LOG_LEVEL') ?? fromEnv('LOG_LEVEL') ?? opts.level ?? 'info';
  const destination =
    opts.destination ?? stdoutLogOutput(numberFromEnv('SCOPEGATE_LOG_BUFFER_BYTES') ?? opts.bufferBytes ?? DEFAULT_LOG_BUFFER_BYTES).stream;
  const common = {
    level,
    base: { service: 'scopegate', ...WORKER_PID },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // `"level":"info"` reads better in log tooling than pino's numbers.
      level: (label: string) => ({ level: label }),
    },
  };
  const logger = pino(
    {
      ...common,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: {
        err: pino.stdSerializers.err,
        req: reqSerializer,
        res: resSerializer,
        headers: safeHeaders,
        rawHeaders: safeRawHeaders,
      },
    },
    destination,
  );
  accessDestinations.set(logger, opts.access === false ? null : destination);
  return logger;
}

/** Exactly the fields of one access line; nothing else is ever copied. */
export interface AccessFields {
  /** Request id. */
  readonly id: string;
  readonly method: string;
  /** Route template, or undefined when no route matched. */
  readonly route: string | undefined;
  readonly status: number;
  readonly reason: DecisionReason;
  /** Machine code of a deny or a forwarding failure. */
  readonly code: string | undefined;
  readonly decision_us: number;
  readonly upstream_ms: number | undefined;
  readonly total_ms: number;
  /** `proxy` (inline, the default) or `authz` (the decision-only listener). */
  readonly listener?: 'proxy' | 'authz';
  /** The raw path, query removed and cut short (diagnosis.ts). */
  readonly path?: string | undefined;
  /** Identity and deny details, an already serialized JSON fragment `,"k":v…` (diagnosis.ts). */
  readonly extra?: string | undefined;
}

/** Milliseconds to 3 decimals (µs resolution) keeps lines short. */
function ms(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** JSON string literal of a string that may come from config (route templates) or the wire (methods). */
const q = jsonString;

/** toISOString() costs ~0.5 µs; under load many lines share a millisecond. */
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * Access lines of the current event-loop turn, per destination, written as one
 * chunk (a write() costs ~1 µs). The chunk is whole lines, so when the stdout
 * buffer is full it is dropped whole and its lines counted (log-output.ts).
 */
const pendingLines = new Map<DestinationStream, string>();
let flushScheduled = false;
function flushAccessLines(): void {
  flushScheduled = false;
  for (const [destination, text] of pendingLines) destination.write(text);
  pendingLines.clear();
}

/**
 * One access line per request (`"msg":"request"`), in the same shape as every
 * other line (`level`, `time`, `service`, fields, `msg`). Follows `logger`'s level.
 *
 * Serialized here rather than through pino: the fields are a fixed set of
 * numbers, enums and strings (so nothing else can reach the line: guard 1 of
 * the module comment). Through pino's generic path the line cost ~3–4 µs of
 * CPU; serialized here and handed over once per event-loop turn, ~0.5 µs.
 * It writes to the logger's own destination (not around it): with the default
 * stdout output that is the same bounded, asynchronous buffer as every other
 * line, so access lines keep their order with them, share the one byte budget
 * and are never written synchronously. Off when the logger was built with
 * `access: false`.
 */
export function accessLog(logger: Logger, f: AccessFields): void {
  const destination = accessDestinations.get(logger);
  if (destination === null || !logger.isLevelEnabled('info')) return;
  if (destination === undefined) {
    // A logger built elsewhere (embedding): its own serializers and redaction apply.
    const { id, method, route, status, reason, code, decision_us, upstream_ms, total_ms, path, listener } = f;
    const extra = f.extra === undefined || f.extra === '' ? {} : (JSON.parse(`{${f.extra.slice(1)}}`) as object);
    logger.info({ id, method, route: route ?? 'unmatched', path, status, reason, code, ...extra, decision_us, upstream_ms, total_ms, listener: listener ?? 'proxy' }, 'request');
    return;
  }
  const line =
    `{"level":"info","time":"${isoNow()}","service":"scopegate"${WORKER_PID_JSON},"id":${q(f.id)},"method":${q(f.method)},` +
    `"route":${q(f.route ?? 'unmatched')}` +
    (f.path === undefined ? '' : `,"path":${q(f.path)}`) +
    `,"status":${f.status},"reason":"${f.reason}"` +
    (f.code === undefined ? '' : `,"code":${q(f.code)}`) +
    (f.extra ?? '') +
    `,"decision_us":${f.decision_us}` +
    (f.upstream_ms === undefined ? '' : `,"upstream_ms":${ms(f.upstream_ms)}`) +
    `,"total_ms":${ms(f.total_ms)},"listener":"${f.listener ?? 'proxy'}","msg":"request"}\n`;
  pendingLines.set(destination, (pendingLines.get(destination) ?? '') + line);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAccessLines);
  }
}
