/**
 * Route requirements compiled once at load time into predicates over a
 * verified token's scope set. Nothing here splits or parses strings per request.
 */
import type { Requirement, ScopeInfo, ScopeMatching } from '../config/schema.js';

/** What the scope catalogue adds to every route's requirement. */
export interface CatalogueRules {
  /** Scopes every token-protected request must carry (catalogue `required: true`). */
  readonly required: readonly string[];
  /** Scope → the deprecated scopes whose replaced_by names it (accepted in its place). */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
}

export const NO_CATALOGUE: CatalogueRules = Object.freeze({ required: Object.freeze([]), aliases: new Map() });

export function catalogueRules(catalogue: readonly ScopeInfo[] | undefined): CatalogueRules {
  if (catalogue === undefined) return NO_CATALOGUE;
  const aliases = new Map<string, string[]>();
  for (const s of catalogue) {
    if (s.deprecated && s.replacedBy !== undefined) aliases.set(s.replacedBy, [...(aliases.get(s.replacedBy) ?? []), s.name]);
  }
  return { required: catalogue.filter((s) => s.required).map((s) => s.name), aliases };
}

export interface CompiledRequirement {
  readonly kind: Requirement['kind'];
  /** Scopes the client should ask for (the route's, then the catalogue's required ones): the 403 `scope` attribute. */
  readonly scopes: readonly string[];
  /** For any_of: how many of `scopes` (from the start) are alternatives; the rest are always required. */
  readonly alternatives: number;
  /**
   * Deprecated scopes this requirement accepts in place of their replacements.
   * Empty for most routes; when not, `satisfiedByCurrent` tells whether a token
   * passed without them (so their use can be counted).
   */
  readonly deprecatedAliases: readonly string[];
  /** Like satisfiedBy, but without accepting deprecated aliases. */
  satisfiedByCurrent(granted: ReadonlySet<string>): boolean;
  /** Whether a token is read at all (false only for `auth: none`). */
  readonly needsToken: boolean;
  /** True when the granted set satisfies the requirement. */
  satisfiedBy(granted: ReadonlySet<string>): boolean;
  /** Human text for 403 descriptions and `check` output. */
  readonly text: string;
}

/**
 * Every scope that satisfies `required` under the matching rule.
 * exact: only itself. hierarchical (README, Scope matching): each whole-segment prefix
 * (`a:b:c` is satisfied by `a`, `a:b`, `a:b:c`) — never a longer scope, never a
 * partial segment (`a:b` does not satisfy `a:bc` because we only cut at `:`).
 */
export function satisfyingScopes(required: string, matching: ScopeMatching): readonly string[] {
  if (matching === 'exact') return [required];
  const out: string[] = [];
  let at = required.indexOf(':');
  while (at > 0) {
    out.push(required.slice(0, at));
    at = required.indexOf(':', at + 1);
  }
  out.push(required);
  return out;
}

type Check = (granted: ReadonlySet<string>) => boolean;

/** One required scope → a predicate; one accepted scope needs a single Set lookup. */
function compileOne(required: string, matching: ScopeMatching, aliases: readonly string[]): Check {
  const accepted = [...satisfyingScopes(required, matching), ...aliases];
  if (accepted.length === 1) {
    const only = accepted[0] as string;
    return (granted) => granted.has(only);
  }
  return (granted) => {
    for (let i = 0; i < accepted.length; i++) if (granted.has(accepted[i] as string)) return true;
    return false;
  };
}

function allOf(checks: readonly Check[]): Check {
  if (checks.length === 0) return ALWAYS;
  if (checks.length === 1) return checks[0] as Check;
  return (granted) => {
    for (let i = 0; i < checks.length; i++) if (!(checks[i] as Check)(granted)) return false;
    return true;
  };
}

function anyOf(checks: readonly Check[]): Check {
  return (granted) => {
    for (let i = 0; i < checks.length; i++) if ((checks[i] as Check)(granted)) return true;
    return false;
  };
}

const ALWAYS: Check = () => true;

function describeRequirement(requirement: Requirement, required: readonly string[]): string {
  const base =
    requirement.kind === 'none'
      ? 'public (no token)'
      : requirement.kind === 'token'
        ? 'any valid token'
        : requirement.kind === 'any_of'
          ? `any of: ${requirement.scopes.join(', ')}`
          : requirement.scopes.length === 1
            ? (requirement.scopes[0] as string)
            : `all of: ${requirement.scopes.join(', ')}`;
  return required.length === 0 || requirement.kind === 'none' ? base : `${base} + required: ${required.join(', ')}`;
}

export function compileRequirement(requirement: Requirement, matching: ScopeMatching, catalogue: CatalogueRules = NO_CATALOGUE): CompiledRequirement {
  const text = describeRequirement(requirement, catalogue.required);
  if (requirement.kind === 'none') {
    return Object.freeze({ kind: 'none', scopes: [], alternatives: 0, needsToken: false, satisfiedBy: ALWAYS, satisfiedByCurrent: ALWAYS, deprecatedAliases: [], text });
  }
  const routeScopes = requirement.kind === 'token' ? [] : requirement.scopes;
  const aliasesOf = (scope: string): readonly string[] => catalogue.aliases.get(scope) ?? [];
  const build = (withAliases: boolean): Check => {
    const one = (scope: string): Check => compileOne(scope, matching, withAliases ? aliasesOf(scope) : []);
    const own = requirement.kind === 'any_of' ? anyOf(routeScopes.map(one)) : allOf(routeScopes.map(one));
    return allOf([...(routeScopes.length === 0 ? [] : [own]), ...catalogue.required.map(one)]);
  };
  const deprecatedAliases = [...routeScopes, ...catalogue.required].flatMap(aliasesOf);
  const satisfiedByCurrent = build(false);
  return Object.freeze({
    kind: requirement.kind,
    scopes: Object.freeze([...routeScopes, ...catalogue.required.filter((s) => !routeScopes.includes(s))]),
    alternatives: requirement.kind === 'any_of' ? routeScopes.length : 0,
    needsToken: true,
    satisfiedBy: deprecatedAliases.length === 0 ? satisfiedByCurrent : build(true),
    satisfiedByCurrent,
    deprecatedAliases: Object.freeze(deprecatedAliases),
    text,
  });
}
