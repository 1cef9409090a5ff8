/**
 * YAML text → validated, deeply frozen Config (DESIGN.md §3).
 *
 * Validation walks the YAML node tree (not the plain JS value) so every issue
 * carries the line and column of the node it is about: the key node for an
 * unknown key, the value node for a bad value. All issues of a file are
 * collected in one pass; nothing here throws on bad input except
 * loadConfigFile, which exists for callers that want an exception.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { parseTemplate } from '../routes/template.js';
import { findRouteConflicts } from '../routes/tree.js';
import type { RouteDefinition } from '../routes/types.js';
import {
  ALGORITHMS,
  DEFAULTS,
  HTTP_METHODS,
  INTEGER_RANGES,
  type Algorithm,
  type AuthConfig,
  type Config,
  type EnforcementMode,
  type ResourceConfig,
  type RouteResponder,
  type ScopeInfo,
  type HttpMethod,
  type IdentityHeaders,
  type IssuerConfig,
  type JwksConfig,
  type ListenAddress,
  type Requirement,
  type RouteConfig,
  type ScopeClaim,
  type ScopeMatching,
  type ServerLimits,
  type UpstreamConfig,
} from './schema.js';

export interface LoadResult {
  /** Undefined when any issue has severity 'error'. */
  readonly config: Config | undefined;
  readonly issues: ConfigIssue[];
}

/** Parse and validate config text. Never throws on bad input. `file` is used in issues and as source.file (resolved). */
export function loadConfigText(text: string, file: string): LoadResult {
  const hash = createHash('sha256').update(text, 'utf8').digest('hex');
  return validateText(text, file, hash);
}

/** Read, parse and validate a config file. Never throws on bad input; an unreadable file is an issue at line 0. */
export function readConfigFile(file: string): { config?: Config; issues: ConfigIssue[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read file (${code ?? String(err)})`;
    return { issues: [{ file, line: 0, col: 0, path: '', message: why, severity: 'error' }] };
  }
  let text: string;
  try {
    // fatal: a config with mangled bytes should fail loudly, not load with U+FFFD in a scope name.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { issues: [{ file, line: 0, col: 0, path: '', message: 'file is not valid UTF-8', severity: 'error' }] };
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const { config, issues } = validateText(text, file, hash);
  return config === undefined ? { issues } : { config, issues };
}

/** Read and validate a config file; throws ConfigError carrying every error found. Warnings do not throw. */
export function loadConfigFile(file: string): Config {
  const { config, issues } = readConfigFile(file);
  if (config === undefined) throw new ConfigError(issues.filter((i) => i.severity === 'error'));
  return config;
}

// ───────────────────────────── reporting ─────────────────────────────

/** A YAML node, or null/undefined where YAML had nothing (e.g. `key:` with no value, or a missing key). */
type YNode = Node | null | undefined;

interface Reporter {
  error(at: YNode, path: string, message: string): void;
  warning(at: YNode, path: string, message: string): void;
  position(at: YNode): { line: number; col: number };
}

function createReporter(file: string, lc: LineCounter, issues: ConfigIssue[], fallback: { line: number; col: number }): Reporter {
  const position = (at: YNode): { line: number; col: number } => {
    const start = at?.range?.[0];
    if (start === undefined) return fallback;
    const { line, col } = lc.linePos(start);
    return line === 0 ? fallback : { line, col };
  };
  const push = (severity: 'error' | 'warning') => (at: YNode, path: string, message: string) => {
    issues.push({ file, ...position(at), path, message, severity });
  };
  return { error: push('error'), warning: push('warning'), position };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function childPath(path: string, key: string): string {
  const k = IDENTIFIER.test(key) ? key : JSON.stringify(key);
  return path === '' ? k : `${path}.${k}`;
}

function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** How a value reads in a message: `string "30"`, `a list`, `nothing`. */
function describe(node: YNode): string {
  if (node == null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  const v: unknown = node.value;
  if (v === null) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** Aliases are refused outright: they hide where a value was written and invite alias bombs. */
function refuseAlias(node: YNode, path: string, r: Reporter): boolean {
  if (!isAlias(node)) return false;
  r.error(node, path, 'YAML aliases (*name) are not supported in scopegate config; write the value out');
  return true;
}

function isNothing(node: YNode): boolean {
  return node == null || (isScalar(node) && node.value === null);
}

// ───────────────────────────── primitive readers ─────────────────────────────

/** Reads one node; reports its own issues; undefined when invalid. */
type Reader<T> = (node: YNode, path: string, r: Reporter) => T | undefined;

function str(opts: { nonEmpty?: boolean; check?: (s: string) => string | undefined } = {}): Reader<string> {
  return (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string') {
      r.error(node, path, `must be a string, got ${describe(node)}`);
      return undefined;
    }
    const s = node.value;
    if (opts.nonEmpty === true && s === '') {
      r.error(node, path, 'must not be empty');
      return undefined;
    }
    const problem = opts.check?.(s);
    if (problem !== undefined) {
      r.error(node, path, problem);
      return undefined;
    }
    return s;
  };
}

/** Plain-scalar spellings YAML 1.2 resolves to integers. `1.0` and `1e3` resolve to numbers too, but are not written as integers. */
const INTEGER_SOURCE = /^[-+]?(?:[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$/;

function int(range: readonly [number, number]): Reader<number> {
  const [min, max] = range;
  return (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'number') {
      r.error(node, path, `must be an integer, got ${describe(node)}`);
      return undefined;
    }
    const source = (node as { source?: unknown }).source;
    if (!Number.isInteger(node.value) || (typeof source === 'string' && !INTEGER_SOURCE.test(source))) {
      r.error(node, path, `must be an integer, got ${typeof source === 'string' ? source : String(node.value)}`);
      return undefined;
    }
    if (node.value < min || node.value > max) {
      r.error(node, path, min === max ? `must be ${min}, got ${node.value}` : `must be between ${min} and ${max}, got ${node.value}`);
      return undefined;
    }
    return node.value;
  };
}

function oneOf<const T extends string>(values: readonly T[]): Reader<T> {
  return (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string' || !(values as readonly string[]).includes(node.value)) {
      r.error(node, path, `must be one of ${values.join(', ')}, got ${describe(node)}`);
      return undefined;
    }
    return node.value as T;
  };
}

/** A list; every item read; `unique` compares item values and reports the later duplicate. */
const bool: Reader<boolean> = (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  r.error(node, path, `must be true or false, got ${describe(node)}`);
  return undefined;
};

function listOf<T>(item: Reader<T>, opts: { nonEmpty?: boolean; unique?: boolean } = {}): Reader<T[]> {
  return (node, path, r) => {
    if (refuseAlias(node, path, r)) return undefined;
    if (!isSeq(node)) {
      r.error(node, path, `must be a list, got ${describe(node)}`);
      return undefined;
    }
    if (opts.nonEmpty === true && node.items.length === 0) {
      r.error(node, path, 'must not be empty');
      return undefined;
    }
    const out: T[] = [];
    let ok = true;
    node.items.forEach((child, i) => {
      const itemNode = child as YNode;
      const v = item(itemNode, indexPath(path, i), r);
      if (v === undefined) {
        ok = false;
      } else if (opts.unique === true && out.includes(v)) {
        r.error(itemNode, indexPath(path, i), `duplicate ${JSON.stringify(v)}`);
        ok = false;
      } else {
        out.push(v);
      }
    });
    return ok ? out : undefined;
  };
}

// ───────────────────────────── mappings ─────────────────────────────

interface Field<T> {
  readonly read: Reader<T>;
  readonly required?: boolean;
}

type FieldValues<F> = { [K in keyof F]?: F[K] extends Field<infer T> ? T : never };

/** The pairs of a mapping with string keys; non-string and duplicate keys are reported and skipped. */
function entries(node: YNode, path: string, r: Reporter): Array<{ key: string; keyNode: Node; value: YNode }> | undefined {
  if (refuseAlias(node, path, r)) return undefined;
  if (!isMap(node)) {
    r.error(node, path, `must be a mapping, got ${describe(node)}`);
    return undefined;
  }
  const out: Array<{ key: string; keyNode: Node; value: YNode }> = [];
  const seen = new Set<string>();
  for (const pair of node.items as Array<Pair<YNode, YNode>>) {
    const keyNode = pair.key;
    if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
      r.error(keyNode ?? node, path, `keys must be strings, got ${describe(keyNode)}`);
      continue;
    }
    const key = keyNode.value;
    if (seen.has(key)) {
      r.error(keyNode, childPath(path, key), 'duplicate key');
      continue;
    }
    seen.add(key);
    out.push({ key, keyNode, value: pair.value });
  }
  return out;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const best = known
    .map((k) => ({ k, d: k === snake ? 0 : editDistance(key, k) }))
    .sort((x, y) => x.d - y.d)[0];
  const hint = best !== undefined && best.d <= 2 ? ` (did you mean ${best.k}?)` : '';
  return `unknown key ${JSON.stringify(key)}${hint}`;
}

/** A mapping with a fixed set of keys: unknown keys are errors at the key; missing required keys at the mapping. */
function readFields<F extends Record<string, Field<unknown>>>(node: YNode, path: string, r: Reporter, fields: F): FieldValues<F> | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const known = Object.keys(fields);
  const out: Record<string, unknown> = {};
  for (const { key, keyNode, value } of list) {
    const field = fields[key];
    if (field === undefined) {
      r.error(keyNode, childPath(path, key), unknownKeyMessage(key, known));
      continue;
    }
    const v = field.read(value, childPath(path, key), r);
    if (v !== undefined) out[key] = v;
  }
  for (const key of known) {
    if (fields[key]?.required === true && !list.some((e) => e.key === key)) {
      r.error(node, path, `missing required key ${JSON.stringify(key)}`);
    }
  }
  return out as FieldValues<F>;
}

function mapping<F extends Record<string, Field<unknown>>>(fields: F): Reader<FieldValues<F>> {
  return (node, path, r) => readFields(node, path, r, fields);
}

// ───────────────────────────── specific values ─────────────────────────────

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function parsePort(s: string): number | undefined {
  if (!PORT.test(s)) return undefined;
  const n = Number(s);
  return n <= 65_535 ? n : undefined;
}

const LISTEN_EXPECTED = 'must be host:port, [ipv6]:port or a port number (0-65535)';

/** `host:port`, `[v6]:port` or a bare port (host 127.0.0.1) → address, or undefined. Shared by the loader and the CLI. */
export function parseListen(s: string): ListenAddress | undefined {
  const bare = parsePort(s);
  if (bare !== undefined) return { host: DEFAULTS.listen.host, port: bare };
  const v6 = /^\[([^\]]*)\]:([^:]*)$/.exec(s);
  const v4 = /^([^:[\]]*):([^:]*)$/.exec(s);
  const m = v6 ?? v4;
  const host = m?.[1];
  const port = m?.[2] === undefined ? undefined : parsePort(m[2]);
  const hostOk = host !== undefined && (v6 !== null ? isIPv6(host) : HOSTNAME.test(host));
  return hostOk && port !== undefined ? { host, port } : undefined;
}

const readListen: Reader<ListenAddress> = (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'number') {
    const n = node.value;
    if (Number.isInteger(n) && n >= 0 && n <= 65_535) return { host: DEFAULTS.listen.host, port: n };
    r.error(node, path, `${LISTEN_EXPECTED}, got ${describe(node)}`);
    return undefined;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    r.error(node, path, `${LISTEN_EXPECTED}, got ${describe(node)}`);
    return undefined;
  }
  const address = parseListen(node.value);
  if (address === undefined) r.error(node, path, `${LISTEN_EXPECTED}, got ${JSON.stringify(node.value)}`);
  return address;
};

function httpUrl(s: string): URL | string {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `must be an http:// or https:// URL, got ${JSON.stringify(s)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, got ${JSON.stringify(s)}`;
  if (url.username !== '' || url.password !== '') return 'must not contain credentials (user:password@)';
  if (s.includes('#')) return 'must not contain a fragment (#...)';
  return url;
}

const readUpstreamUrl: Reader<string> = (node, path, r) => {
  let origin: string | undefined;
  const s = str({
    check: (v) => {
      const url = httpUrl(v);
      if (typeof url === 'string') return url;
      if (url.pathname !== '/') return `must be an origin without a path (routes already carry the path), got path ${url.pathname}`;
      if (v.includes('?')) return 'must not contain a query';
      origin = url.origin;
      return undefined;
    },
  })(node, path, r);
  return s === undefined ? undefined : origin;
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const readJwksUri: Reader<string> = (node, path, r) => {
  let warnPlain = false;
  const s = str({
    check: (v) => {
      const url = httpUrl(v);
      if (typeof url === 'string') return url;
      warnPlain = url.protocol === 'http:' && !LOOPBACK.has(url.hostname);
      return undefined;
    },
  })(node, path, r);
  if (s !== undefined && warnPlain) {
    r.warning(node, path, 'keys fetched over plain http from a non-loopback host can be replaced in transit; use https');
  }
  return s;
};

const SYMMETRIC_WHY = 'is a symmetric (shared-secret) algorithm: scopegate verifies with public keys from a JWKS, and accepting HS* there lets an attacker sign tokens with the public key as the HMAC secret';

const readAlgorithm: Reader<Algorithm> = (node, path, r) => {
  if (isScalar(node) && typeof node.value === 'string') {
    const v = node.value;
    if (v.toLowerCase() === 'none') {
      r.error(node, path, 'algorithm "none" is never accepted: an unsigned token proves nothing');
      return undefined;
    }
    if (/^HS\d+$/i.test(v)) {
      r.error(node, path, `${v} ${SYMMETRIC_WHY}`);
      return undefined;
    }
  }
  return oneOf(ALGORITHMS)(node, path, r);
};

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const readScope: Reader<string> = str({
  check: (s) =>
    SCOPE_TOKEN.test(s) ? undefined : `${JSON.stringify(s)} is not a valid scope (RFC 6749 §3.3: printable ASCII, no spaces, quotes or backslashes)`,
});

/** RFC 9110 §5.6.2 token: what a header field name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Names scopegate must not overwrite on the forwarded request: hop-by-hop
 * headers (RFC 9110 §7.6.1), framing and routing headers, the credential, the
 * X-Forwarded-* scopegate sets itself, and method overrides it strips.
 */
const RESERVED_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'proxy-authenticate', 'www-authenticate',
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection',
  'te', 'trailer', 'upgrade', 'expect', 'cookie', 'set-cookie', 'content-type',
  'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'x-http-method-override', 'x-http-method', 'x-method-override',
]);

/** Lower-case with every character outside [a-z0-9-] as `-`: proxy/headers.ts foldHeaderName's rule. */
function foldName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

const readHeaderName: Reader<string> = (node, path, r) => {
  const s = str({ nonEmpty: true, check: (v) => (HEADER_NAME.test(v) ? undefined : `${JSON.stringify(v)} is not a valid header name`) })(node, path, r);
  if (s === undefined) return undefined;
  const lower = s.toLowerCase();
  // Upstreams often read `_` (or `.`) as `-` (CGI, nginx with underscores_in_headers): compare the
  // name folded exactly as the proxy folds it when it strips client copies (proxy/headers.ts).
  if (RESERVED_HEADERS.has(lower) || RESERVED_HEADERS.has(foldName(lower))) {
    r.error(node, path, `${JSON.stringify(s)} is a reserved header (hop-by-hop, framing, credentials or set by scopegate); choose a name like x-auth-subject`);
    return undefined;
  }
  return lower;
};

// ───────────────────────────── routes ─────────────────────────────

const REQUIREMENT_HELP = 'a scope string, { scope: s }, { auth: token }, { auth: none }, { any_of: [scopes] } or { all_of: [scopes] } (a mapping may add mode: enforce | shadow, and respond: token_info)';

/** What a route's value contributes to its RouteConfig. A new route option adds a field here and one ROUTE_KEYS entry. */
interface RouteDraft {
  requirement?: Requirement;
  mode?: EnforcementMode;
  respond?: RouteResponder;
}

interface RouteKeySpec {
  /** Keys in the same group are mutually exclusive; exactly one of the `requirement` group is required. */
  readonly group?: 'requirement';
  readonly read: Reader<RouteDraft>;
}

const scopeList = (kind: 'any_of' | 'all_of'): Reader<RouteDraft> => (node, path, r) => {
  const scopes = listOf(readScope, { nonEmpty: true, unique: true })(node, path, r);
  return scopes === undefined ? undefined : { requirement: { kind, scopes } };
};

const ROUTE_KEYS: Readonly<Record<string, RouteKeySpec>> = {
  // `{ scope: x }` is the bare-string form written as a mapping, so a one-scope route can carry options like `mode`.
  scope: {
    group: 'requirement',
    read: (node, path, r) => {
      const scope = readScope(node, path, r);
      return scope === undefined ? undefined : { requirement: { kind: 'all_of', scopes: [scope] } };
    },
  },
  mode: {
    read: (node, path, r) => {
      const mode = oneOf(['enforce', 'shadow'] as const)(node, path, r);
      return mode === undefined ? undefined : { mode };
    },
  },
  // Answered by scopegate itself (never forwarded): the caller's token, for APIs that lack a /me.
  respond: {
    read: (node, path, r) => {
      const respond = oneOf(['token_info'] as const)(node, path, r);
      return respond === undefined ? undefined : { respond };
    },
  },
  auth: {
    group: 'requirement',
    read: (node, path, r) => {
      const v = oneOf(['token', 'none'] as const)(node, path, r);
      return v === undefined ? undefined : { requirement: { kind: v } };
    },
  },
  any_of: { group: 'requirement', read: scopeList('any_of') },
  all_of: { group: 'requirement', read: scopeList('all_of') },
};

const readRouteValue: Reader<RouteDraft> = (node, path, r) => {
  if (refuseAlias(node, path, r)) return undefined;
  if (isScalar(node) && typeof node.value === 'string') {
    const scope = readScope(node, path, r);
    return scope === undefined ? undefined : { requirement: { kind: 'all_of', scopes: [scope] } };
  }
  if (!isMap(node)) {
    r.error(node, path, `must be ${REQUIREMENT_HELP}; got ${describe(node)}`);
    return undefined;
  }
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const draft: RouteDraft = {};
  const groupKey = new Map<string, string>();
  let ok = true;
  let unknownKey = false;
  for (const { key, keyNode, value } of list) {
    const spec = ROUTE_KEYS[key];
    const keyPath = childPath(path, key);
    if (spec === undefined) {
      r.error(keyNode, keyPath, `${unknownKeyMessage(key, Object.keys(ROUTE_KEYS))}; a route is ${REQUIREMENT_HELP}`);
      ok = false;
      unknownKey = true;
      continue;
    }
    if (spec.group !== undefined) {
      const earlier = groupKey.get(spec.group);
      if (earlier !== undefined) {
        r.error(keyNode, keyPath, `cannot be combined with ${earlier}: a route has exactly one of scope, auth, any_of, all_of`);
        ok = false;
        continue;
      }
      groupKey.set(spec.group, key);
    }
    const part = spec.read(value, keyPath, r);
    if (part === undefined) ok = false;
    else Object.assign(draft, part);
  }
  // After an unknown key (likely a misspelt requirement) "missing requirement" would only repeat the problem.
  if (!groupKey.has('requirement') && !unknownKey) {
    r.error(node, path, `missing requirement: must be ${REQUIREMENT_HELP}`);
    ok = false;
  }
  return ok ? draft : undefined;
};

interface ParsedRouteKey {
  readonly methods: readonly HttpMethod[];
  readonly anyMethod: boolean;
  readonly path: string;
}

/** `METHODS PATH`: returns the parsed key or the problems with it. */
function parseRouteKey(key: string): ParsedRouteKey | { readonly errors: string[] } {
  const m = /^([^ ]+) +([^ ]+)$/.exec(key);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { errors: ['route key must be "METHODS PATH", e.g. "GET /users/:id" or "GET,POST /reports"'] };
  }
  const errors: string[] = [];
  const methodText = m[1];
  let methods: HttpMethod[] = [];
  let anyMethod = false;
  if (methodText === '*') {
    methods = [...HTTP_METHODS];
    anyMethod = true;
  } else {
    for (const name of methodText.split(',')) {
      if (name === '') errors.push('empty method in method list');
      else if (name === '*') errors.push('* stands for every method and cannot be combined with others');
      else if (!(HTTP_METHODS as readonly string[]).includes(name)) {
        const upper = (HTTP_METHODS as readonly string[]).includes(name.toUpperCase());
        errors.push(`unknown method ${name}${upper ? ` (methods are upper-case: ${name.toUpperCase()})` : ''}`);
      } else if (methods.includes(name as HttpMethod)) errors.push(`duplicate method ${name}`);
      else methods.push(name as HttpMethod);
    }
  }
  const parsed = parseTemplate(m[2]);
  if ('error' in parsed) errors.push(parsed.error);
  if (errors.length > 0 || 'error' in parsed) return { errors };
  return { methods, anyMethod, path: parsed.template };
}

function readRoutes(node: YNode, path: string, r: Reporter, file: string): RouteConfig[] | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  if (isMap(node) && node.items.length === 0) {
    r.error(node, path, 'must map at least one route: with no routes every request is denied');
    return undefined;
  }
  const routes: RouteConfig[] = [];
  const keyNodes: Node[] = [];
  let ok = true;
  for (const { key, keyNode, value } of list) {
    const keyPath = childPath(path, key);
    const parsed = parseRouteKey(key);
    if ('errors' in parsed) for (const e of parsed.errors) r.error(keyNode, keyPath, e);
    const draft = readRouteValue(value, keyPath, r);
    if ('errors' in parsed || draft?.requirement === undefined) {
      ok = false;
      continue;
    }
    if (draft.respond !== undefined) {
      if (draft.requirement.kind === 'none') r.error(value, keyPath, `respond: ${draft.respond} describes the caller's token, so the route cannot be { auth: none }`);
      if (parsed.methods.some((m) => m !== 'GET' && m !== 'HEAD')) r.error(keyNode, keyPath, `respond: ${draft.respond} answers GET (and HEAD) only`);
    }
    routes.push({ key, ...parsed, requirement: draft.requirement, mode: draft.mode, respond: draft.respond, position: { file, ...r.position(keyNode) } });
    keyNodes.push(keyNode);
  }
  const defs: Array<RouteDefinition<number>> = routes.map((rt, i) => ({ template: rt.path, methods: rt.methods, data: i }));
  for (const c of findRouteConflicts(defs)) {
    const later = routes[c.index];
    const earlier = routes[c.otherIndex];
    if (later === undefined || earlier === undefined) continue;
    // Our own wording: the router's message numbers routes by array index, which means nothing in a YAML file.
    const shared = later.methods.filter((m) => earlier.methods.includes(m)).join(',');
    r.error(
      keyNodes[c.index],
      childPath(path, later.key),
      `cannot be told apart from ${JSON.stringify(earlier.key)} (line ${earlier.position.line}): same path shape, both serve ${shared}`,
    );
    ok = false;
  }
  return ok ? routes : undefined;
}

// ───────────────────────────── scope catalogue ─────────────────────────────

const SCOPE_FIELDS = {
  description: { read: str({ nonEmpty: true }) },
  display_name: { read: str({ nonEmpty: true }) },
  required: { read: bool },
  discoverable: { read: bool },
  default: { read: oneOf(['on', 'off'] as const) },
  destructive: { read: bool },
  deprecated: { read: bool },
  replaced_by: { read: readScope },
} satisfies Record<string, Field<unknown>>;

/** `scopes:` — scope name → its description and flags. Keys are data (scope names), like routes. */
function readCatalogue(node: YNode, path: string, r: Reporter, file: string): ScopeInfo[] | undefined {
  const list = entries(node, path, r);
  if (list === undefined) return undefined;
  const out: ScopeInfo[] = [];
  for (const { key, keyNode, value } of list) {
    const keyPath = childPath(path, key);
    if (!SCOPE_TOKEN.test(key)) {
      r.error(keyNode, keyPath, `${JSON.stringify(key)} is not a valid scope (RFC 6749 §3.3: printable ASCII, no spaces, quotes or backslashes)`);
      continue;
    }
    // `read:x:` with nothing after it is a scope with no details.
    const f = isNothing(value) ? {} : readFields(value, keyPath, r, SCOPE_FIELDS);
    if (f === undefined) continue;
    if (f.replaced_by !== undefined && f.deprecated !== true) {
      r.error(findValue(value, 'replaced_by'), childPath(keyPath, 'replaced_by'), 'only a deprecated scope has a replacement: add deprecated: true');
    }
    out.push({
      name: key,
      description: f.description,
      displayName: f.display_name,
      required: f.required ?? false,
      discoverable: f.discoverable ?? true,
      defaultOn: f.default === undefined ? undefined : f.default === 'on',
      destructive: f.destructive ?? false,
      deprecated: f.deprecated ?? false,
      replacedBy: f.replaced_by,
      position: { file, ...r.position(keyNode) },
    });
  }
  return out;
}

const readResourceIdentifier: Reader<string> = str({
  check: (v) => {
    const url = httpUrl(v);
    if (typeof url === 'string') return url;
    if (v.includes('?')) return 'must not contain a query (RFC 9728 §1.2)';
    return undefined;
  },
});

const RESOURCE_FIELDS = {
  identifier: { read: readResourceIdentifier, required: true },
  name: { read: str({ nonEmpty: true }) },
  documentation: { read: str({ check: (v) => (typeof httpUrl(v) === 'string' ? (httpUrl(v) as string) : undefined) }) },
  authorization_servers: { read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }) },
} satisfies Record<string, Field<unknown>>;

/** Scopes named by a requirement (none for auth: none / auth: token). */
function requirementScopes(req: Requirement): readonly string[] {
  return req.kind === 'all_of' || req.kind === 'any_of' ? req.scopes : [];
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** `org:read`, `read:pets`, `orgs.readonly`, `repo_read`: scopes whose name says they only read. */
const READ_STYLE = /(^|[:._/-])read(only)?($|[:._/-])/i;

/**
 * Cross-checks that need the routes and the catalogue together, and the
 * least-privilege lint (warnings: `check` prints them, hot reload logs them).
 */
function checkCatalogue(routes: readonly RouteConfig[], routeKeyNodes: ReadonlyMap<string, YNode>, catalogue: readonly ScopeInfo[] | undefined, catalogueNode: YNode, r: Reporter): void {
  const byName = new Map((catalogue ?? []).map((c) => [c.name, c]));
  const used = new Set<string>();
  for (const route of routes) {
    const at = routeKeyNodes.get(route.key);
    const path = childPath('routes', route.key);
    const scopes = requirementScopes(route.requirement);
    for (const scope of scopes) {
      used.add(scope);
      const info = byName.get(scope);
      if (catalogue !== undefined && info === undefined) {
        r.error(at, path, `scope ${JSON.stringify(scope)} is not in the scopes catalogue`);
      } else if (info?.deprecated === true) {
        r.warning(at, path, `requires the deprecated scope ${JSON.stringify(scope)}${info.replacedBy === undefined ? '' : `; require ${JSON.stringify(info.replacedBy)} (tokens with the old scope are still accepted)`}`);
      }
    }
    if (scopes.length > 0) {
      const writes = route.methods.filter((m) => WRITE_METHODS.has(m));
      if (writes.length > 0 && !route.anyMethod && scopes.every((s) => READ_STYLE.test(s))) {
        r.warning(at, path, `${writes.join(',')} is protected only by read scope${scopes.length > 1 ? 's' : ''} (${scopes.join(', ')}): a read-only token can change data`);
      }
      if (route.methods.includes('GET')) {
        const destructive = scopes.filter((s) => byName.get(s)?.destructive === true);
        if (destructive.length > 0 && route.requirement.kind === 'all_of') {
          r.warning(at, path, `GET requires the destructive scope ${destructive.join(', ')}: reading should not need a scope that can destroy`);
        }
      }
    }
    if (route.anyMethod) {
      r.warning(at, path, `"*" allows every method (including DELETE) under one requirement; list the methods the API serves`);
    }
  }
  if (catalogue === undefined) return;
  for (const info of catalogue) {
    const at = findKeyNode(catalogueNode, info.name);
    const path = childPath('scopes', info.name);
    // Without deprecated: true, readCatalogue already reported replaced_by.
    if (info.replacedBy !== undefined && info.deprecated) {
      const target = byName.get(info.replacedBy);
      if (target === undefined) r.error(findValue(findValue(catalogueNode, info.name), 'replaced_by'), childPath(path, 'replaced_by'), `${JSON.stringify(info.replacedBy)} is not in the scopes catalogue`);
      else if (target.deprecated) r.error(findValue(findValue(catalogueNode, info.name), 'replaced_by'), childPath(path, 'replaced_by'), `${JSON.stringify(info.replacedBy)} is itself deprecated: name the current scope`);
    }
    if (info.deprecated && info.required) r.error(at, path, 'a deprecated scope cannot be required of every request');
    const aliasUsed = info.deprecated && info.replacedBy !== undefined && used.has(info.replacedBy);
    if (!used.has(info.name) && !info.required && !aliasUsed) {
      r.warning(at, path, 'no route requires this scope');
    }
  }
}

function findKeyNode(node: YNode, key: string): YNode {
  if (!isMap(node)) return undefined;
  const pair = (node.items as Array<Pair<YNode, YNode>>).find((p) => isScalar(p.key) && p.key.value === key);
  return pair?.key ?? undefined;
}

// ───────────────────────────── the whole file ─────────────────────────────

const R = INTEGER_RANGES;

const ISSUER_FIELDS = {
  issuer: { read: str({ nonEmpty: true }), required: true },
  jwks_uri: { read: readJwksUri, required: true },
  audiences: { read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }), required: true },
  algorithms: { read: listOf(readAlgorithm, { nonEmpty: true, unique: true }) },
} satisfies Record<string, Field<unknown>>;

const JWKS_FIELDS = {
  max_age_s: { read: int(R.auth.jwks.maxAgeS) },
  cooldown_s: { read: int(R.auth.jwks.cooldownS) },
  timeout_ms: { read: int(R.auth.jwks.timeoutMs) },
  max_bytes: { read: int(R.auth.jwks.maxBytes) },
} satisfies Record<string, Field<unknown>>;

const readRealm = str({
  nonEmpty: true,
  // It is sent inside a quoted-string in WWW-Authenticate; `"`, `\` and controls would break the header.
  check: (s) => (/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/.test(s) ? undefined : 'must be printable ASCII without " or \\'),
});

const AUTH_FIELDS = {
  issuers: { read: listOf(mapping(ISSUER_FIELDS), { nonEmpty: true }), required: true },
  clock_skew_s: { read: int(R.auth.clockSkewS) },
  scope_claims: { read: listOf(oneOf<ScopeClaim>(['scope', 'scp']), { nonEmpty: true, unique: true }) },
  scope_matching: { read: oneOf<ScopeMatching>(['exact', 'hierarchical']) },
  jwks: { read: mapping(JWKS_FIELDS) },
  max_token_bytes: { read: int(R.auth.maxTokenBytes) },
  token_cache_size: { read: int(R.auth.tokenCacheSize) },
  realm: { read: readRealm },
} satisfies Record<string, Field<unknown>>;

const UPSTREAM_FIELDS = {
  url: { read: readUpstreamUrl, required: true },
  timeout_ms: { read: int(R.upstream.timeoutMs) },
  connect_timeout_ms: { read: int(R.upstream.connectTimeoutMs) },
  connections: { read: int(R.upstream.connections) },
  keep_alive_timeout_ms: { read: int(R.upstream.keepAliveTimeoutMs) },
} satisfies Record<string, Field<unknown>>;

const IDENTITY_FIELDS = {
  subject: { read: readHeaderName },
  scopes: { read: readHeaderName },
} satisfies Record<string, Field<unknown>>;

const LIMIT_FIELDS = {
  max_header_bytes: { read: int(R.limits.maxHeaderBytes) },
  max_header_count: { read: int(R.limits.maxHeaderCount) },
  max_path_bytes: { read: int(R.limits.maxPathBytes) },
  max_path_segments: { read: int(R.limits.maxPathSegments) },
  headers_timeout_ms: { read: int(R.limits.headersTimeoutMs) },
  request_timeout_ms: { read: int(R.limits.requestTimeoutMs) },
  keep_alive_timeout_ms: { read: int(R.limits.keepAliveTimeoutMs) },
  drain_timeout_ms: { read: int(R.limits.drainTimeoutMs) },
  max_connections: { read: int(R.limits.maxConnections) },
} satisfies Record<string, Field<unknown>>;

/** Routes are read separately (their keys are data, not field names); this entry only reserves the key. */
const TOP_FIELDS = {
  version: { read: int([1, 1]) },
  listen: { read: readListen },
  admin_listen: { read: readListen },
  upstream: { read: mapping(UPSTREAM_FIELDS), required: true },
  auth: { read: mapping(AUTH_FIELDS), required: true },
  identity_headers: { read: mapping(IDENTITY_FIELDS) },
  unmatched: { read: oneOf(['deny'] as const) },
  mode: { read: oneOf(['enforce', 'shadow'] as const) },
  limits: { read: mapping(LIMIT_FIELDS) },
  // Like routes, the catalogue's keys are data: read separately.
  scopes: { read: () => undefined },
  resource: { read: mapping(RESOURCE_FIELDS) },
  routes: { read: () => undefined, required: true },
} satisfies Record<string, Field<unknown>>;

function findValue(node: YNode, key: string): YNode {
  if (!isMap(node)) return undefined;
  for (const pair of node.items as Array<Pair<YNode, YNode>>) {
    if (isScalar(pair.key) && pair.key.value === key) return pair.value;
  }
  return undefined;
}

function validateText(text: string, file: string, hash: string): LoadResult {
  const issues: ConfigIssue[] = [];
  const lc = new LineCounter();
  // uniqueKeys: false — duplicates are reported by entries() with their key path.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const r = createReporter(file, lc, issues, { line: 1, col: 1 });
  const lines = text.split(/\r?\n/);

  const linesWithYamlError = new Set<number>();
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    const at = line === 0 ? { line: 1, col: 1 } : { line, col };
    // One syntax mistake often yields several parser errors on its line; the first says what went wrong.
    if (linesWithYamlError.has(at.line)) continue;
    linesWithYamlError.add(at.line);
    const srcLine = lines[at.line - 1] ?? '';
    // `* /x: ...` reads as a YAML alias; the fix is not obvious from the YAML message.
    const hint = srcLine.trimStart().startsWith('*') ? ' (a route key starting with * must be quoted: "* /path")' : '';
    issues.push({ file, ...at, path: '', message: `YAML: ${e.message}${hint}`, severity: 'error' });
  }
  for (const w of doc.warnings) {
    const { line, col } = lc.linePos(w.pos[0]);
    issues.push({ file, line: Math.max(line, 1), col: Math.max(col, 1), path: '', message: `YAML: ${w.message}`, severity: 'warning' });
  }

  let config: Config | undefined;
  // A syntax error leaves a tree that no longer says what the author meant; validating it would only add noise.
  if (doc.errors.length === 0) {
    const root = doc.contents as YNode;
    if (root == null || isNothing(root)) {
      r.error(root, '', 'config is empty: expected a mapping with at least upstream, auth and routes');
    } else {
      config = build(root, r, file, hash);
    }
  }

  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  const hasError = issues.some((i) => i.severity === 'error');
  return { config: hasError ? undefined : config && deepFreeze(config), issues };
}

function build(root: Node, r: Reporter, file: string, hash: string): Config | undefined {
  const top = readFields(root, '', r, TOP_FIELDS);
  if (top === undefined) return undefined;
  const routesNode = findValue(root, 'routes');
  const routes = isMap(root) && (root.items as Array<Pair<YNode, YNode>>).some((p) => isScalar(p.key) && p.key.value === 'routes')
    ? readRoutes(routesNode, 'routes', r, file)
    : undefined;

  const D = DEFAULTS;
  const u = top.upstream ?? {};
  const upstream: UpstreamConfig = {
    url: u.url ?? '',
    timeoutMs: u.timeout_ms ?? D.upstream.timeoutMs,
    connectTimeoutMs: u.connect_timeout_ms ?? D.upstream.connectTimeoutMs,
    connections: u.connections ?? D.upstream.connections,
    keepAliveTimeoutMs: u.keep_alive_timeout_ms ?? D.upstream.keepAliveTimeoutMs,
  };

  const a = top.auth ?? {};
  const issuers: IssuerConfig[] = (a.issuers ?? []).map((i) => ({
    issuer: i.issuer ?? '',
    jwksUri: i.jwks_uri ?? '',
    audiences: i.audiences ?? [],
    algorithms: i.algorithms ?? [...D.auth.algorithms],
  }));
  checkUniqueIssuers(findValue(findValue(root, 'auth'), 'issuers'), r);
  const j = a.jwks ?? {};
  const jwks: JwksConfig = {
    maxAgeS: j.max_age_s ?? D.auth.jwks.maxAgeS,
    cooldownS: j.cooldown_s ?? D.auth.jwks.cooldownS,
    timeoutMs: j.timeout_ms ?? D.auth.jwks.timeoutMs,
    maxBytes: j.max_bytes ?? D.auth.jwks.maxBytes,
  };
  const auth: AuthConfig = {
    issuers,
    clockSkewS: a.clock_skew_s ?? D.auth.clockSkewS,
    scopeClaims: a.scope_claims ?? [...D.auth.scopeClaims],
    scopeMatching: a.scope_matching ?? D.auth.scopeMatching,
    jwks,
    maxTokenBytes: a.max_token_bytes ?? D.auth.maxTokenBytes,
    tokenCacheSize: a.token_cache_size ?? D.auth.tokenCacheSize,
    realm: a.realm ?? D.auth.realm,
  };

  const ih = top.identity_headers ?? {};
  const identityHeaders: IdentityHeaders = {
    ...(ih.subject !== undefined ? { subject: ih.subject } : {}),
    ...(ih.scopes !== undefined ? { scopes: ih.scopes } : {}),
  };
  if (ih.subject !== undefined && ih.scopes !== undefined && foldName(ih.subject) === foldName(ih.scopes)) {
    const node = findValue(findValue(root, 'identity_headers'), 'scopes');
    r.error(node, 'identity_headers.scopes', 'must differ from identity_headers.subject');
  }

  const catalogueNode = findValue(root, 'scopes');
  const hasCatalogue = findKeyNode(root, 'scopes') !== undefined;
  const catalogue = hasCatalogue ? readCatalogue(catalogueNode, 'scopes', r, file) : undefined;
  if (routes !== undefined) {
    const keyNodes = new Map(routes.map((rt) => [rt.key, findKeyNode(routesNode, rt.key)]));
    checkCatalogue(routes, keyNodes, catalogue, catalogueNode, r);
  }
  const res = top.resource;
  const resource: ResourceConfig | undefined =
    res?.identifier === undefined
      ? undefined
      : {
          identifier: res.identifier,
          name: res.name,
          documentation: res.documentation,
          authorizationServers: res.authorization_servers ?? issuers.map((i) => i.issuer),
        };

  const l = top.limits ?? {};
  const limits: ServerLimits = {
    maxHeaderBytes: l.max_header_bytes ?? D.limits.maxHeaderBytes,
    maxHeaderCount: l.max_header_count ?? D.limits.maxHeaderCount,
    maxPathBytes: l.max_path_bytes ?? D.limits.maxPathBytes,
    maxPathSegments: l.max_path_segments ?? D.limits.maxPathSegments,
    headersTimeoutMs: l.headers_timeout_ms ?? D.limits.headersTimeoutMs,
    requestTimeoutMs: l.request_timeout_ms ?? D.limits.requestTimeoutMs,
    keepAliveTimeoutMs: l.keep_alive_timeout_ms ?? D.limits.keepAliveTimeoutMs,
    drainTimeoutMs: l.drain_timeout_ms ?? D.limits.drainTimeoutMs,
    maxConnections: l.max_connections ?? D.limits.maxConnections,
  };
  // Node's http.Server refuses to start when headersTimeout exceeds a non-zero requestTimeout.
  if (limits.requestTimeoutMs !== 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    const limitsNode = findValue(root, 'limits');
    const at = findValue(limitsNode, 'headers_timeout_ms') ?? findValue(limitsNode, 'request_timeout_ms');
    r.error(at, 'limits.headers_timeout_ms', `must not exceed limits.request_timeout_ms (${limits.requestTimeoutMs})`);
  }

  return {
    source: { file: resolvePath(file), hash },
    listen: top.listen ?? { ...D.listen },
    adminListen: top.admin_listen ?? { ...D.adminListen },
    upstream,
    auth,
    identityHeaders,
    unmatched: 'deny',
    mode: top.mode ?? D.mode,
    limits,
    routes: routes ?? [],
    catalogue,
    resource,
  };
}

function checkUniqueIssuers(issuersNode: YNode, r: Reporter): void {
  if (!isSeq(issuersNode)) return;
  const seen = new Set<string>();
  issuersNode.items.forEach((item, i) => {
    const node = findValue(item as YNode, 'issuer');
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') return;
    if (seen.has(node.value)) r.error(node, `auth.issuers[${i}].issuer`, `duplicate issuer ${JSON.stringify(node.value)}: each issuer is listed once`);
    seen.add(node.value);
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
