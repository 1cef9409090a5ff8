/**
 * The generated config as YAML text. Built as a `yaml` Document so every key
 * and value is quoted exactly when YAML needs it (a scope like `write:pets`
 * stays plain, `#x` or `a: b` get quotes), and comments are attached to nodes:
 * the library prefixes every comment line with `#`, and every text taken from
 * the spec has already been flattened to one line (spec.ts oneLine).
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { DEFAULTS } from '../config/schema.js';
import type { RouteRequirement } from './security.js';

export interface EmittedRoute {
  /** `GET /pet/:petId` */
  readonly key: string;
  readonly requirement: RouteRequirement;
  /** One comment line each, written above the route. */
  readonly notes: readonly string[];
  /** Written after the route on its line (operationId). */
  readonly trailing: string | undefined;
}

export interface EmitInput {
  readonly header: readonly string[];
  readonly upstreamUrl: string;
  readonly upstreamComment: string;
  readonly issuerComment: readonly string[];
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string; readonly comment?: string }>;
  readonly routes: readonly EmittedRoute[];
}

/** Placeholder issuer: obviously not real (RFC 2606 example.com), so `check` passes and nobody mistakes it for theirs. */
export const PLACEHOLDER_ISSUER = {
  issuer: 'https://idp.example.com/',
  jwks_uri: 'https://idp.example.com/.well-known/jwks.json',
  audience: 'https://api.example.com',
} as const;

function key(name: string, opts: { comment?: string | readonly string[]; space?: boolean } = {}): Scalar {
  const k = new Scalar(name);
  const c = opts.comment;
  if (c !== undefined && c.length > 0) k.commentBefore = typeof c === 'string' ? c : c.map((l) => ` ${l}`).join('\n');
  if (opts.space === true) k.spaceBefore = true;
  return k;
}

function flowSeq(items: readonly string[]): YAMLSeq {
  const s = new YAMLSeq();
  for (const i of items) s.add(new Scalar(i));
  s.flow = true;
  return s;
}

function requirementNode(req: RouteRequirement): Scalar | YAMLMap {
  if (req.kind === 'all_of' && req.scopes.length === 1) return new Scalar(req.scopes[0]);
  const m = new YAMLMap();
  m.flow = true;
  if (req.kind === 'none' || req.kind === 'token') m.add(new Pair(new Scalar('auth'), new Scalar(req.kind)));
  else m.add(new Pair(new Scalar(req.kind), flowSeq(req.scopes)));
  return m;
}

export type EmittedScope = EmitInput['scopes'][number];

/** One `routes:` entry: its notes as comment lines above, the trailing text as a comment on its line. */
export function routePair(r: EmittedRoute): Pair {
  const value = requirementNode(r.requirement);
  if (r.trailing !== undefined) value.comment = ` ${r.trailing}`;
  return new Pair(key(r.key, { comment: r.notes }), value);
}

/** One `scopes:` catalogue entry. */
export function scopePair(s: EmittedScope): Pair {
  const entry = new YAMLMap();
  entry.add(new Pair(key('description'), new Scalar(s.description)));
  return new Pair(key(s.name, s.comment === undefined ? {} : { comment: [s.comment] }), entry);
}

const listenText = (a: { host: string; port: number }): string => `${a.host}:${a.port}`;

export function emitConfig(input: EmitInput): string {
  const doc = new Document();
  const root = new YAMLMap();

  root.add(new Pair(key('version'), new Scalar(1)));
  root.add(new Pair(key('listen', { comment: ' clients connect here (a bare port or host:port)' }), new Scalar(listenText(DEFAULTS.listen))));
  root.add(new Pair(key('admin_listen'), Object.assign(new Scalar(listenText(DEFAULTS.adminListen)), { comment: ' /healthz /readyz /metrics' })));

  const upstream = new YAMLMap();
  const url = new Scalar(input.upstreamUrl);
  url.comment = ` ${input.upstreamComment}`;
  upstream.add(new Pair(key('url'), url));
  root.add(new Pair(key('upstream', { space: true }), upstream));

  const issuer = new YAMLMap();
  issuer.add(new Pair(key('issuer'), new Scalar(PLACEHOLDER_ISSUER.issuer)));
  issuer.add(new Pair(key('jwks_uri'), new Scalar(PLACEHOLDER_ISSUER.jwks_uri)));
  issuer.add(new Pair(key('audiences'), flowSeq([PLACEHOLDER_ISSUER.audience])));
  issuer.add(new Pair(key('algorithms'), flowSeq(DEFAULTS.auth.algorithms)));
  const issuers = new YAMLSeq();
  issuers.add(issuer);
  const auth = new YAMLMap();
  auth.add(new Pair(key('issuers', { comment: input.issuerComment }), issuers));
  root.add(new Pair(key('auth', { space: true }), auth));

  if (input.scopes.length > 0) {
    const scopes = new YAMLMap();
    for (const s of input.scopes) scopes.add(scopePair(s));
    root.add(new Pair(
      key('scopes', { space: true, comment: [
        'Scope catalogue: every scope of the spec\'s OAuth 2 flows, with its description.',
        'Every scope a route below requires must be listed here.',
      ] }),
      scopes,
    ));
  }

  const routes = new YAMLMap();
  for (const r of input.routes) routes.add(routePair(r));
  root.add(new Pair(
    key('routes', { space: true, comment: [
      '`METHOD /path/:param: requirement`, sorted by path then method. A requirement is a scope,',
      '{ all_of: [...] } (every one), { any_of: [...] } (at least one), { auth: token } (any valid token)',
      'or { auth: none } (public). An unlisted path or method is denied (404 / 405), never forwarded.',
    ] }),
    routes,
  ));

  doc.contents = root;
  doc.commentBefore = input.header.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  // lineWidth 0: never fold a long scope list or description onto a second line.
  return doc.toString({ lineWidth: 0 });
}
