/**
 * Route requirements compiled once at load time into predicates over a
 * verified token's scope set. Nothing here splits or parses strings per request.
 */
import type { Requirement, ScopeMatching } from '../config/schema.js';

export interface CompiledRequirement {
  readonly kind: Requirement['kind'];
  /** Required scopes as written (empty for none/token): the 403 `scope` attribute. */
  readonly scopes: readonly string[];
  /** Whether a token is read at all (false only for `auth: none`). */
  readonly needsToken: boolean;
  /** True when the granted set satisfies the requirement. */
  satisfiedBy(granted: ReadonlySet<string>): boolean;
  /** Human text for 403 descriptions and `check` output. */
  readonly text: string;
}

/**
 * Every scope that satisfies `required` under the matching rule.
 * exact: only itself. hierarchical (DESIGN.md §3): each whole-segment prefix
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

/** One required scope → a predicate; exact matching needs a single Set lookup. */
function compileOne(required: string, matching: ScopeMatching): (granted: ReadonlySet<string>) => boolean {
  const accepted = satisfyingScopes(required, matching);
  if (accepted.length === 1) {
    const only = accepted[0] as string;
    return (granted) => granted.has(only);
  }
  return (granted) => {
    for (let i = 0; i < accepted.length; i++) if (granted.has(accepted[i] as string)) return true;
    return false;
  };
}

const ALWAYS = (): boolean => true;

export function compileRequirement(requirement: Requirement, matching: ScopeMatching): CompiledRequirement {
  switch (requirement.kind) {
    case 'none':
      return Object.freeze({ kind: 'none', scopes: [], needsToken: false, satisfiedBy: ALWAYS, text: 'public (no token)' });
    case 'token':
      return Object.freeze({ kind: 'token', scopes: [], needsToken: true, satisfiedBy: ALWAYS, text: 'any valid token' });
    case 'all_of': {
      const checks = requirement.scopes.map((s) => compileOne(s, matching));
      const single = checks.length === 1 ? (checks[0] as (g: ReadonlySet<string>) => boolean) : undefined;
      return Object.freeze({
        kind: 'all_of',
        scopes: Object.freeze([...requirement.scopes]),
        needsToken: true,
        satisfiedBy:
          single ??
          ((granted: ReadonlySet<string>) => {
            for (let i = 0; i < checks.length; i++) if (!(checks[i] as (g: ReadonlySet<string>) => boolean)(granted)) return false;
            return true;
          }),
        text: requirement.scopes.length === 1 ? (requirement.scopes[0] as string) : `all of: ${requirement.scopes.join(', ')}`,
      });
    }
    case 'any_of': {
      const checks = requirement.scopes.map((s) => compileOne(s, matching));
      return Object.freeze({
        kind: 'any_of',
        scopes: Object.freeze([...requirement.scopes]),
        needsToken: true,
        satisfiedBy: (granted: ReadonlySet<string>) => {
          for (let i = 0; i < checks.length; i++) if ((checks[i] as (g: ReadonlySet<string>) => boolean)(granted)) return true;
          return false;
        },
        text: `any of: ${requirement.scopes.join(', ')}`,
      });
    }
  }
}
