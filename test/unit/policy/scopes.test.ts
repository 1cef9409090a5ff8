import t from 'tap';
import { compileRequirement, satisfyingScopes } from '../../../src/policy/scopes.js';
import type { Requirement, ScopeMatching } from '../../../src/config/schema.js';

const set = (...s: string[]): ReadonlySet<string> => new Set(s);

t.test('satisfyingScopes: exact is only itself; hierarchical is every whole-segment prefix', async (t) => {
  t.same(satisfyingScopes('a:b:c', 'exact'), ['a:b:c']);
  t.same(satisfyingScopes('a:b:c', 'hierarchical'), ['a', 'a:b', 'a:b:c']);
  t.same(satisfyingScopes('org', 'hierarchical'), ['org']);
  // A leading colon is not a segment boundary that yields an empty prefix.
  t.same(satisfyingScopes(':x', 'hierarchical'), [':x']);
});

interface Case {
  readonly name: string;
  readonly requirement: Requirement;
  readonly matching: ScopeMatching;
  readonly granted: readonly string[];
  readonly allowed: boolean;
}

const cases: Case[] = [
  { name: 'exact: same scope', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'exact', granted: ['org:read'], allowed: true },
  { name: 'exact: longer scope with shared prefix', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'exact', granted: ['org:readonly'], allowed: false },
  { name: 'exact: parent scope does not satisfy', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'exact', granted: ['org'], allowed: false },
  { name: 'exact: case differs', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'exact', granted: ['ORG:READ', 'Org:read'], allowed: false },
  { name: 'exact: no scopes', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'exact', granted: [], allowed: false },
  { name: 'hierarchical: resource grants action', requirement: { kind: 'all_of', scopes: ['a:b:c'] }, matching: 'hierarchical', granted: ['a'], allowed: true },
  { name: 'hierarchical: action grants modifier', requirement: { kind: 'all_of', scopes: ['a:b:c'] }, matching: 'hierarchical', granted: ['a:b'], allowed: true },
  { name: 'hierarchical: narrower never grants wider', requirement: { kind: 'all_of', scopes: ['a:b'] }, matching: 'hierarchical', granted: ['a:b:c'], allowed: false },
  { name: 'hierarchical: partial segment never grants', requirement: { kind: 'all_of', scopes: ['a:bc'] }, matching: 'hierarchical', granted: ['a:b'], allowed: false },
  { name: 'hierarchical: sibling never grants', requirement: { kind: 'all_of', scopes: ['a:b'] }, matching: 'hierarchical', granted: ['a:c'], allowed: false },
  { name: 'hierarchical: string prefix that is not a segment', requirement: { kind: 'all_of', scopes: ['org:read'] }, matching: 'hierarchical', granted: ['or'], allowed: false },
  { name: 'all_of: both present', requirement: { kind: 'all_of', scopes: ['p:write', 'p:admin'] }, matching: 'exact', granted: ['p:admin', 'p:write'], allowed: true },
  { name: 'all_of: one missing', requirement: { kind: 'all_of', scopes: ['p:write', 'p:admin'] }, matching: 'exact', granted: ['p:write'], allowed: false },
  { name: 'any_of: first', requirement: { kind: 'any_of', scopes: ['r:read', 'admin'] }, matching: 'exact', granted: ['r:read'], allowed: true },
  { name: 'any_of: second', requirement: { kind: 'any_of', scopes: ['r:read', 'admin'] }, matching: 'exact', granted: ['admin'], allowed: true },
  { name: 'any_of: neither', requirement: { kind: 'any_of', scopes: ['r:read', 'admin'] }, matching: 'exact', granted: ['r:write'], allowed: false },
  { name: 'any_of hierarchical: parent of one alternative', requirement: { kind: 'any_of', scopes: ['r:read:own', 'admin'] }, matching: 'hierarchical', granted: ['r'], allowed: true },
  { name: 'token: any valid token, even without scopes', requirement: { kind: 'token' }, matching: 'exact', granted: [], allowed: true },
  { name: 'none: public', requirement: { kind: 'none' }, matching: 'exact', granted: [], allowed: true },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const compiled = compileRequirement(c.requirement, c.matching);
    t.equal(compiled.satisfiedBy(set(...c.granted)), c.allowed);
  });
}

t.test('compiled requirements expose what a 403 must name', async (t) => {
  const all = compileRequirement({ kind: 'all_of', scopes: ['p:write', 'p:admin'] }, 'exact');
  t.same(all.scopes, ['p:write', 'p:admin']);
  t.equal(all.needsToken, true);
  t.equal(compileRequirement({ kind: 'none' }, 'exact').needsToken, false);
  t.equal(compileRequirement({ kind: 'token' }, 'exact').needsToken, true);
  t.ok(Object.isFrozen(all));
});
