/**
 * OpenAPI security requirements → one scopegate route requirement.
 *
 * OpenAPI (§4.8.10 Operation `security`, §4.8.30 Security Requirement Object):
 * `security` is a list of alternatives (OR); inside one requirement object
 * every named scheme must be satisfied, with every scope listed for it (AND).
 * scopegate has one level: a scope, all_of, any_of, any token, or public.
 *
 * Rules, applied in this order. The result is always exact or STRICTER than the
 * spec (fail closed): it may refuse a request the spec allows, never admit one
 * the spec refuses.
 *
 *  1. `security: []` (nothing required) → `{ auth: none }`.
 *  2. An alternative `{}` (nothing required) makes the whole operation public:
 *     `{ auth: none }`, with a comment saying so.
 *  3. An alternative naming a scheme missing from components.securitySchemes,
 *     or a scope that is not a valid RFC 6749 scope-token, cannot be enforced
 *     and is dropped (dropping an alternative only narrows the OR). If every
 *     alternative is dropped, the operation is skipped: unmapped, so denied.
 *  4. Inside an alternative, only `oauth2` and `openIdConnect` schemes yield
 *     scopes; their scopes are unioned. Other schemes (apiKey, http basic or
 *     bearer, mutualTLS) cannot be checked by scopegate, which only verifies
 *     bearer JWTs from the configured issuers.
 *  5. An OAuth alternative with no scopes (`{oauth: []}`) → any valid token;
 *     since it is one side of an OR, the operation is `{ auth: token }` (exact).
 *  6. Non-OAuth-only alternatives beside OAuth ones are dropped (stricter:
 *     their clients carry no JWT and are refused). When every alternative is
 *     non-OAuth, the operation becomes `{ auth: token }` with a warning that
 *     the original scheme is not enforced.
 *  7. Alternatives are deduplicated and absorbed: (x AND y) OR x = x.
 *  8. One alternative → its scope (one) or all_of (several): exact.
 *     Several alternatives of one scope each → any_of: exact.
 *  9. Otherwise the OR of ANDs is inexpressible, e.g. (x AND y) OR z. The first
 *     remaining alternative (spec order) is enforced as all_of: it implies the
 *     spec's requirement, so it is stricter; the other alternatives are not
 *     honoured, said in a warning and in a comment on the route.
 *
 * An operation that declares no `security` inherits the document's. When the
 * document declares none either, OpenAPI reads that as "no requirement"; the
 * importer defaults to `{ auth: token }` (fail closed: specs often leave auth
 * undocumented), and `undeclared: 'none'` follows the letter of the spec.
 */

import { isObject, oneLine, quote } from './spec.js';

/** RFC 6749 §3.3 scope-token, as the config loader checks it. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isValidScope(s: string): boolean {
  return SCOPE_TOKEN.test(s);
}

export type RouteRequirement =
  | { readonly kind: 'none' }
  | { readonly kind: 'token' }
  | { readonly kind: 'all_of'; readonly scopes: readonly string[] }
  | { readonly kind: 'any_of'; readonly scopes: readonly string[] };

/** What a security scheme is, as far as scopegate cares. */
export interface SchemeInfo {
  /** oauth2 and openIdConnect carry scopes; everything else cannot be enforced. */
  readonly oauth: boolean;
  /** For messages: `apiKey`, `http basic`, `oauth2`, … */
  readonly label: string;
}

/**
 * A message about the operation. `group` set: the same fact for many operations
 * (e.g. one scheme that is never enforced), merged into one warning by the caller.
 */
export interface SecurityIssue {
  readonly message: string;
  readonly group?: string;
}

export interface MappedSecurity {
  /** undefined: the operation cannot be enforced at all and must be skipped. */
  readonly requirement: RouteRequirement | undefined;
  /** Short notes, one comment line each above the route. */
  readonly notes: readonly string[];
  /** A very short note for the end of the route's line (for what many routes share). */
  readonly inline?: string;
  readonly issues: readonly SecurityIssue[];
}

export interface SecurityContext {
  readonly schemes: ReadonlyMap<string, SchemeInfo>;
  /** What an operation with no security anywhere gets. Default 'token'. */
  readonly undeclared: 'token' | 'none';
}

type Alternative =
  | { readonly kind: 'public' }
  | { readonly kind: 'token' } // OAuth scheme, no scopes
  | { readonly kind: 'foreign'; readonly schemes: readonly string[] } // only non-OAuth schemes
  | { readonly kind: 'scopes'; readonly scopes: readonly string[]; readonly foreign: readonly string[] }
  | { readonly kind: 'invalid'; readonly why: string };

function describeAlternative(req: unknown): string {
  if (!isObject(req)) return oneLine(JSON.stringify(req) ?? String(req));
  const parts = Object.entries(req).map(([name, scopes]) =>
    Array.isArray(scopes) && scopes.length > 0 ? `${name}[${scopes.map((s) => String(s)).join(' ')}]` : name,
  );
  return parts.length === 0 ? '{}' : oneLine(parts.join(' AND '));
}

function classify(req: unknown, ctx: SecurityContext): Alternative {
  if (!isObject(req)) return { kind: 'invalid', why: `security requirement ${describeAlternative(req)} is not a mapping` };
  const names = Object.keys(req);
  if (names.length === 0) return { kind: 'public' };
  const scopes: string[] = [];
  const foreign: string[] = [];
  let oauth = false;
  for (const name of names) {
    const scheme = ctx.schemes.get(name);
    if (scheme === undefined) return { kind: 'invalid', why: `security scheme ${quote(name)} is not defined in components.securitySchemes` };
    const list: unknown = req[name];
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
      return { kind: 'invalid', why: `the scopes of ${quote(name)} are not a list of strings` };
    }
    if (!scheme.oauth) {
      // OpenAPI 3.1 allows role names here for non-OAuth schemes; they are not OAuth scopes.
      foreign.push(name);
      continue;
    }
    oauth = true;
    for (const s of list as string[]) {
      if (!isValidScope(s)) return { kind: 'invalid', why: `scope ${quote(s)} is not a valid OAuth scope (RFC 6749 §3.3)` };
      if (!scopes.includes(s)) scopes.push(s);
    }
  }
  if (!oauth) return { kind: 'foreign', schemes: foreign };
  if (scopes.length === 0) return { kind: 'token' };
  return { kind: 'scopes', scopes, foreign };
}

function schemeList(names: readonly string[], ctx: SecurityContext): string {
  return names.map((n) => `${oneLine(n)} (${ctx.schemes.get(n)?.label ?? '?'})`).join(', ');
}

/** `effective`: the operation's `security` if it has one, else the document's; undefined when neither declares any. */
export function mapSecurity(effective: unknown, ctx: SecurityContext): MappedSecurity {
  const notes: string[] = [];
  const issues: SecurityIssue[] = [];
  if (effective === undefined) {
    if (ctx.undeclared === 'none') {
      return {
        requirement: { kind: 'none' },
        notes,
        inline: 'no security in the spec',
        issues: [{ message: 'declares no security', group: 'no security declared (neither on the operation nor for the document): public, as OpenAPI reads it (undeclared: none)' }],
      };
    }
    return {
      requirement: { kind: 'token' },
      notes,
      inline: 'no security in the spec: any valid token (fail closed)',
      issues: [{ message: 'declares no security', group: 'no security declared (neither on the operation nor for the document): mapped to { auth: token } (fail closed); write security: [] in the spec for public operations' }],
    };
  }
  if (!Array.isArray(effective)) {
    return { requirement: undefined, notes, issues: [{ message: '"security" is not a list: operation skipped (fail closed)' }] };
  }
  if (effective.length === 0) return { requirement: { kind: 'none' }, notes: ['security: [] in the spec: public'], issues };

  const alternatives = effective.map((req) => ({ req, alt: classify(req, ctx) }));

  // Rule 2: an empty alternative makes the operation public, whatever else is listed.
  if (alternatives.some((a) => a.alt.kind === 'public')) {
    if (alternatives.length > 1) {
      notes.push('public: the spec lists {} (no requirement) among its security alternatives');
      issues.push({ message: `security alternatives ${alternatives.map((a) => describeAlternative(a.req)).join(' OR ')} include {}: the operation is public ({ auth: none })` });
    }
    return { requirement: { kind: 'none' }, notes, issues };
  }

  // Rule 3: drop what cannot be enforced.
  const valid: Array<Exclude<Alternative, { kind: 'invalid' | 'public' }>> = [];
  for (const { alt } of alternatives) {
    if (alt.kind === 'invalid') {
      issues.push({ message: `${alt.why}: that security alternative is dropped (fail closed)` });
    } else if (alt.kind !== 'public') {
      valid.push(alt);
    }
  }
  if (valid.length === 0) {
    issues.push({ message: 'no security alternative can be enforced: operation skipped (unmapped, so denied)' });
    return { requirement: undefined, notes, issues };
  }

  const foreignOnly = valid.filter((a): a is Extract<Alternative, { kind: 'foreign' }> => a.kind === 'foreign');
  const oauthAlts = valid.filter((a) => a.kind !== 'foreign');

  // Rule 6, all non-OAuth: the best scopegate can do is require a valid token.
  if (oauthAlts.length === 0) {
    const names = [...new Set(foreignOnly.flatMap((a) => a.schemes))];
    notes.push(`spec requires ${schemeList(names, ctx)}: not enforced, any valid token instead`);
    for (const n of names) {
      issues.push({
        message: n,
        group: `security scheme ${schemeList([n], ctx)} is not enforced: scopegate only verifies bearer JWTs, so these operations require any valid token instead`,
      });
    }
    return { requirement: { kind: 'token' }, notes, issues };
  }
  if (foreignOnly.length > 0) {
    const names = [...new Set(foreignOnly.flatMap((a) => a.schemes))];
    notes.push(`alternative ${schemeList(names, ctx)} not honoured: its clients carry no bearer JWT`);
    for (const n of names) {
      issues.push({
        message: n,
        group: `security alternative ${schemeList([n], ctx)} is not honoured beside OAuth alternatives: clients using it are refused (scopegate only verifies bearer JWTs)`,
      });
    }
  }
  for (const a of oauthAlts) {
    if (a.kind === 'scopes' && a.foreign.length > 0) {
      notes.push(`${schemeList(a.foreign, ctx)} required alongside the scopes is not checked by scopegate`);
      for (const n of a.foreign) {
        issues.push({
          message: n,
          group: `security scheme ${schemeList([n], ctx)}, required together with OAuth scopes, is not checked by scopegate (only the scopes are)`,
        });
      }
    }
  }

  // Rule 5: token-only OAuth alternative: any valid token satisfies the OR.
  if (oauthAlts.some((a) => a.kind === 'token')) {
    if (oauthAlts.length > 1) notes.push('one OAuth alternative needs no scope: any valid token');
    return { requirement: { kind: 'token' }, notes, issues };
  }

  // Rule 7: dedupe and absorb supersets (keep spec order).
  const sets = oauthAlts.map((a) => (a.kind === 'scopes' ? a.scopes : []));
  const kept = sets.filter((s, i) =>
    !sets.some((other, j) => j !== i && other.every((x) => s.includes(x)) && (other.length < s.length || j < i)),
  );

  // Rule 8.
  if (kept.length === 1) {
    const only = kept[0] as readonly string[];
    return { requirement: { kind: 'all_of', scopes: only }, notes, issues };
  }
  if (kept.every((s) => s.length === 1)) {
    return { requirement: { kind: 'any_of', scopes: kept.map((s) => s[0] as string) }, notes, issues };
  }

  // Rule 9: inexpressible OR of ANDs: enforce the first alternative.
  const first = kept[0] as readonly string[];
  const spec = kept.map((s) => (s.length === 1 ? s[0] : `(${s.join(' AND ')})`)).join(' OR ');
  notes.push(`spec allows ${spec}; only ${first.join(' AND ')} is enforced (stricter), the other alternatives are not honoured`);
  issues.push({ message: `security ${spec} cannot be expressed by scopegate (one level of any_of / all_of): enforcing the first alternative, all_of [${first.join(', ')}]; the other alternatives are not honoured (fail closed)` });
  return { requirement: { kind: 'all_of', scopes: first }, notes, issues };
}
