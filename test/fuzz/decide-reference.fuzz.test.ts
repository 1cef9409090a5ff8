/**
 * Fuzz: decide() never allows a request that a slow, obviously-correct reference
 * decision denies, and when it allows, it allows the same route, on the same
 * path (as a once-decoding upstream would read it) with the same query.
 *
 * The reference (below, self-contained, no import from src/routes or src/policy):
 *  1. path: origin-form only; no `#`; every raw char in RFC 3986 pchar minus `;`
 *     (plus `%`); split on `/`, no empty interior segment; each segment strictly
 *     percent-decoded to bytes, bytes must be valid UTF-8 (TextDecoder fatal:
 *     rejects overlongs and surrogates), the decoded text must hold no `/`, `\`,
 *     `;`, control character, nor a still-encoded `%2F %5C %2E %3B` (double
 *     encoding); then RFC 3986 §5.2.4 dot-segment removal on the decoded texts,
 *     refusing to climb above the root; target ≤ 8192 bytes, ≤ 64 segments;
 *  2. more than one Host → deny;
 *  3. routes: linear scan; a template matches segment by segment (literal equal,
 *     `:param` non-empty, final `*` at least one more segment); among the routes
 *     that match and serve the method (listed, `*`, or GET for HEAD), the most
 *     specific wins (static < param < wildcard, left to right; exact method before
 *     HEAD→GET); none → deny;
 *  4. query with a parameter named `access_token` (after one decode) → deny;
 *  5. public route → allow; else exactly one Authorization header, `Bearer <t>`,
 *     `t` one of the tokens we signed (scopes known) → check the requirement.
 */
import t from 'tap';
import fc from 'fast-check';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { createDecider } from '../../src/policy/decide.js';
import type { Decision } from '../../src/policy/decision.js';
import { testConfig } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, signToken } from '../helpers/tokens.js';
import { params, RUNS } from './runs.js';

const ISSUER = 'https://idp.fuzz.test/';
const AUD = 'https://api.example.com';

type Req = { kind: 'none' } | { kind: 'token' } | { kind: 'all_of'; scopes: string[] } | { kind: 'any_of'; scopes: string[] };
interface RefRoute { key: string; methods: string[]; any: boolean; template: string; segs: string[]; req: Req }

const ROUTE_LINES: [string, Req][] = [
  ['GET,POST /public/*: { auth: none }', { kind: 'none' }],
  ['GET /api/items/:id: items:read', { kind: 'all_of', scopes: ['items:read'] }],
  ['GET /api/items/secret: admin', { kind: 'all_of', scopes: ['admin'] }],
  ['DELETE /api/items/:id: { all_of: [items:write, items:admin] }', { kind: 'all_of', scopes: ['items:write', 'items:admin'] }],
  ['POST /api/items: items:write', { kind: 'all_of', scopes: ['items:write'] }],
  ['GET /api/me: { auth: token }', { kind: 'token' }],
  ['GET /admin/*: admin', { kind: 'all_of', scopes: ['admin'] }],
  ['"* /reports/:id/:part": { any_of: [reports:read, admin] }', { kind: 'any_of', scopes: ['reports:read', 'admin'] }],
  ['GET /a/:x/c: s1', { kind: 'all_of', scopes: ['s1'] }],
  ['GET /a/b/:y: s2', { kind: 'all_of', scopes: ['s2'] }],
  ['GET /a/*: s3', { kind: 'all_of', scopes: ['s3'] }],
  ['GET,HEAD /h/:x: s1', { kind: 'all_of', scopes: ['s1'] }],
  ['HEAD /h/x: s2', { kind: 'all_of', scopes: ['s2'] }],
  ['GET /: { auth: none }', { kind: 'none' }],
  // A protected twin under a public wildcard: `/public/internal/` needs admin too (trailing-slash twins).
  ['GET /public/internal: admin', { kind: 'all_of', scopes: ['admin'] }],
];
const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const REF_ROUTES: RefRoute[] = ROUTE_LINES.map(([line, req]) => {
  const key = line.slice(0, line.indexOf(': ')).replace(/"/g, '');
  const [m, template] = key.split(' ') as [string, string];
  return { key, methods: m === '*' ? ALL_METHODS : m.split(','), any: m === '*', template, segs: template === '/' ? [''] : template.slice(1).split('/'), req };
});

// ---- the reference ----
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function refPath(target: string): { texts: string[]; query: string } | null {
  if (!target.startsWith('/') || target.includes('#')) return null;
  if (Buffer.byteLength(target) > 8192) return null;
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  const segs = path.slice(1).split('/');
  const texts: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as string;
    if (seg === '' && i < segs.length - 1) return null;
    const bytes: number[] = [];
    for (let j = 0; j < seg.length; j++) {
      const c = seg[j] as string;
      if (!PCHAR.test(c)) return null;
      if (c === '%') {
        const hex = seg.slice(j + 1, j + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
        bytes.push(parseInt(hex, 16));
        j += 2;
      } else bytes.push(c.charCodeAt(0));
    }
    let text: string;
    try {
      text = UTF8.decode(new Uint8Array(bytes));
    } catch {
      return null;
    }
    if (/[/\\;\u0000-\u001f\u007f]/.test(text) || /%(2f|5c|2e|3b)/i.test(text)) return null;
    texts.push(text);
  }
  const out: string[] = [];
  for (let i = 0; i < texts.length; i++) {
    const last = i === texts.length - 1;
    const s = texts[i] as string;
    if (s === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push('');
    } else if (s === '.') {
      if (last) out.push('');
    } else out.push(s);
  }
  if (out.length === 0) out.push('');
  if (out.length > 64) return null;
  return { texts: out, query };
}

function refMatch(route: RefRoute, texts: string[]): boolean {
  for (let i = 0; i < route.segs.length; i++) {
    const s = route.segs[i] as string;
    if (s === '*' && i === route.segs.length - 1) return texts.length > i;
    const v = texts[i];
    if (v === undefined) return false;
    if (s.startsWith(':')) {
      if (v === '') return false;
    } else if (s !== v) return false;
  }
  return texts.length === route.segs.length;
}

function rank(route: RefRoute): number[] {
  return route.segs.map((s, i) => (s === '*' && i === route.segs.length - 1 ? 2 : s.startsWith(':') ? 1 : 0));
}
function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

type RefDecision = { allow: false } | { allow: true; route: string; texts: string[]; query: string };

function reference(method: string, target: string, raw: string[], scopesOf: Map<string, string[]>): RefDecision {
  const p = refPath(target);
  if (p === null) return { allow: false };
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'host') hosts++;
  if (hosts > 1) return { allow: false };
  const route = refRoute(method, p.texts);
  if (route === undefined) return { allow: false };
  const names = p.query.replace(/^\?/, '').split(/[&;]/).map((kv) => kv.split('=')[0] as string);
  if (names.some((n) => { try { return decodeURIComponent(n) === 'access_token'; } catch { return n === 'access_token'; } })) return { allow: false };
  const allow: RefDecision = { allow: true, route: route.template, texts: p.texts, query: p.query };
  // Trailing-slash twins (routes_trailing_slash: merge, the default): `/a/b/` must also satisfy the route of `/a/b`.
  const twin = p.texts.length > 1 && p.texts[p.texts.length - 1] === '' ? refRoute(method, p.texts.slice(0, -1)) : undefined;
  if (twin !== undefined && twin !== route && !refSatisfied(twin, raw, scopesOf)) return { allow: false };
  return refSatisfied(route, raw, scopesOf) ? allow : { allow: false };
}

/** The route the reference picks for canonical segments and a method (most specific first, HEAD → GET). */
function refRoute(method: string, texts: string[]): RefRoute | undefined {
  const candidates = REF_ROUTES.filter((r) => refMatch(r, texts))
    .map((r) => ({ r, exact: r.methods.includes(method) && (!r.any || method !== 'HEAD' || true), serves: r.methods.includes(method) || (method === 'HEAD' && r.methods.includes('GET')) }))
    .filter((c) => c.serves);
  if (candidates.length === 0) return undefined;
  candidates.sort((a, b) => cmp(rank(a.r), rank(b.r)) || (a.exact === b.exact ? 0 : a.exact ? -1 : 1));
  return candidates[0]!.r;
}

/** Whether the request's credentials satisfy one route's requirement. */
function refSatisfied(route: RefRoute, raw: string[], scopesOf: Map<string, string[]>): boolean {
  if (route.req.kind === 'none') return true;
  const auths: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'authorization') auths.push(raw[i + 1] as string);
  if (auths.length !== 1) return false;
  const m = /^bearer (.+)$/i.exec(auths[0] as string);
  const scopes = m === null ? undefined : scopesOf.get(m[1] as string);
  if (scopes === undefined) return false;
  const req = route.req;
  if (req.kind === 'token') return true;
  if (req.kind === 'all_of') return req.scopes.every((s) => scopes.includes(s));
  return req.scopes.some((s) => scopes.includes(s));
}

// ---- generators ----
const LITERALS = ['public', 'internal', 'api', 'items', 'secret', 'admin', 'me', 'reports', 'a', 'b', 'c', 'x', 'h', '1'];
const TRICKS = ['.', '..', '%2e', '%2E%2e', '.%2E', '%61', '%62', '%73ecret', '%73%65cret', '%41dmin', '%61dmin', '%2F', '%2f', '%252F', '%5C', '%3B', ';', '%00',
  '%C0%AE', '%', '%zz', '%25', '%2561', '%C3%A9', '~', ':', '@', '', 'ADMIN', 'Public', '\\', ' ', '#', '?', '*', '%3A', '%20'];
const segment = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...LITERALS) }, { weight: 3, arbitrary: fc.constantFrom(...TRICKS) }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) });
const target = fc.tuple(
  fc.constantFrom('/', '/', '/', '//', ''),
  fc.array(segment, { maxLength: 6 }),
  fc.constantFrom('', '', '', '/', '?a=1', '?access_token=x', '?x=1&access%5Ftoken=y', '?q=%2F', '#f', '?a#b'),
).map(([lead, segs, tail]) => lead + segs.join('/') + tail);
/** A path built from a route template (literals sometimes percent-encoded, dot detours inserted): mostly routable. */
const encodeSome = (lit: string): fc.Arbitrary<string> =>
  fc.constantFrom(lit, lit, lit, lit.replace(/[a-z]/, (c) => '%' + c.charCodeAt(0).toString(16)), lit.replace(/[a-z]/, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()));
const fromTemplate = fc.tuple(fc.constantFrom(...REF_ROUTES), fc.array(fc.constantFrom(...LITERALS), { minLength: 3, maxLength: 3 }), fc.nat({ max: 2 }), fc.constantFrom('', '', 'x/../', './', '%2e/', 'a/%2E%2E/'), fc.nat({ max: 3 }), fc.constantFrom('', '', '?a=1', '?access_token=x', '#f'))
  .chain(([route, vals, extra, detour, at, tail]) => {
    const parts: fc.Arbitrary<string>[] = route.segs.map((seg, i) => (seg === '*' ? fc.constant(vals.slice(0, extra).join('/')) : seg.startsWith(':') ? fc.constant(vals[i % 3] as string) : encodeSome(seg)));
    return fc.tuple(fc.constantFrom(...route.methods, 'GET', 'HEAD'), ...parts).map(([method, ...ps]) => {
      const segs = ps.filter((x, i) => x !== '' || i === ps.length - 1);
      const k = Math.min(at, segs.length);
      return [method, '/' + [...segs.slice(0, k), detour.replace(/\/$/, ''), ...segs.slice(k)].filter((x, i, a) => x !== '' || i === a.length - 1).join('/') + tail] as const;
    });
  });
const METHODS = ['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

t.test(`decide() never allows what the reference denies (${RUNS} runs)`, async (t) => {
  const key = generateKey('ed25519');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const config = testConfig({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ROUTE_LINES.map(([l]) => l), authExtra: '  token_cache_size: 1000' });
  const verifier = createTokenVerifier(config.auth);
  t.teardown(() => verifier.close());
  await verifier.start();
  const decider = createDecider(config, verifier);

  const SCOPE_SETS = [['s1', 's2', 's3', 'admin', 'items:read', 'items:write', 'items:admin', 'reports:read'], ['s1', 's2', 's3', 'admin', 'items:read', 'items:write', 'items:admin', 'reports:read'], [], ['items:read'], ['admin'], ['items:write', 'items:admin'], ['items:write'], ['reports:read'], ['s1'], ['s2'], ['s3'], ['s1', 's2', 's3', 'admin', 'items:read']];
  const scopesOf = new Map<string, string[]>();
  const tokens = SCOPE_SETS.map((s) => {
    const tok = signToken(key, claims(ISSUER, AUD, { scope: s.join(' ') || undefined }));
    scopesOf.set(tok, s);
    return tok;
  });
  const expired = signToken(key, claims(ISSUER, AUD, { scope: 'admin', exp: Math.floor(Date.now() / 1000) - 3600 }));
  const authValue = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...tokens).map((x) => `Bearer ${x}`) },
    { weight: 1, arbitrary: fc.constantFrom(...tokens).map((x) => `bearer ${x}`) },
    { weight: 1, arbitrary: fc.constantFrom(`Bearer ${expired}`, 'Bearer abc', 'Basic dTpw', 'Bearer', `Bearer  ${tokens[2]}`, `Bearer ${tokens[2]}x`) },
  );
  const headers = fc.tuple(
    fc.constantFrom(1, 1, 1, 1, 1, 1, 1, 1, 2, 0),
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'), authValue).map((a) => [a]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'), authValue), { maxLength: 2 }) },
    ),
  ).map(([hosts, auths]) => [...Array.from({ length: hosts }, () => ['Host', 'api']).flat(), ...auths.flat()]);

  let allows = 0;
  let refAllows = 0;
  let stricter = 0; // decide denied, the reference allowed: allowed to differ (decide may be stricter), reported
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.tuple(fc.constantFrom(...METHODS), target), fromTemplate, fromTemplate), headers, async ([method, tgt], raw) => {
      const d: Decision = await decider.decide(method, tgt, raw);
      const r = reference(method, tgt, raw, scopesOf);
      if (r.allow) refAllows++;
      if (!d.allow) {
        if (r.allow) stricter++;
        return true;
      }
      allows++;
      if (!r.allow) throw new Error(`decide allowed ${method} ${tgt} via ${d.route}; the reference denies`);
      if (d.route !== r.route) throw new Error(`decide chose ${d.route}, the reference ${r.route} for ${method} ${tgt}`);
      const decoded = (d.path === '/' ? [''] : d.path.slice(1).split('/')).map((s) => decodeURIComponent(s));
      if (JSON.stringify(decoded) !== JSON.stringify(r.texts)) throw new Error(`forwarded path ${d.path} decodes to ${JSON.stringify(decoded)}, reference ${JSON.stringify(r.texts)}`);
      if (d.query !== r.query) throw new Error('query differs');
      return true;
    }),
    params(),
  );
  t.ok(allows > RUNS / 20, `positive control: decide allowed ${allows} of ${RUNS} (reference: ${refAllows})`);
  t.comment(`${RUNS} runs in ${Date.now() - started} ms; decide allowed ${allows}, reference allowed ${refAllows}, decide stricter on ${stricter}`);
});
