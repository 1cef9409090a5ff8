import t from 'tap';
import { mapSecurity, type SchemeInfo, type SecurityContext } from '../../../src/openapi/security.js';

const schemes = new Map<string, SchemeInfo>([
  ['oauth', { oauth: true, label: 'oauth2' }],
  ['other', { oauth: true, label: 'oauth2' }],
  ['oidc', { oauth: true, label: 'openIdConnect' }],
  ['key', { oauth: false, label: 'apiKey in header' }],
  ['basic', { oauth: false, label: 'http basic' }],
]);
const ctx: SecurityContext = { schemes, undeclared: 'token' };
const req = (security: unknown, c: SecurityContext = ctx) => mapSecurity(security, c).requirement;

t.test('empty security list is public', async (t) => {
  t.same(req([]), { kind: 'none' });
});

t.test('an alternative {} among others makes the operation public, with a note', async (t) => {
  const m = mapSecurity([{ oauth: ['a'] }, {}], ctx);
  t.same(m.requirement, { kind: 'none' });
  t.match(m.notes.join(' '), /public/);
  t.match(m.issues[0]?.message, /include \{\}/);
  t.same(req([{}]), { kind: 'none' }, 'a lone {} is public too');
});

t.test('scopes of one requirement are all_of; one scope is a bare scope', async (t) => {
  t.same(req([{ oauth: ['a', 'b'] }]), { kind: 'all_of', scopes: ['a', 'b'] });
  t.same(req([{ oauth: ['a'] }]), { kind: 'all_of', scopes: ['a'] });
  t.same(req([{ oauth: ['a', 'a'] }]), { kind: 'all_of', scopes: ['a'] }, 'duplicates folded');
  t.same(req([{ oauth: ['a'], other: ['b'] }]), { kind: 'all_of', scopes: ['a', 'b'] }, 'two OAuth schemes in one requirement: union');
  t.same(req([{ oidc: ['openid', 'profile'] }]), { kind: 'all_of', scopes: ['openid', 'profile'] }, 'openIdConnect scopes count');
});

t.test('alternatives of one scope each are any_of', async (t) => {
  t.same(req([{ oauth: ['a'] }, { oauth: ['b'] }, { oidc: ['c'] }]), { kind: 'any_of', scopes: ['a', 'b', 'c'] });
  t.same(req([{ oauth: ['a'] }, { other: ['a'] }]), { kind: 'all_of', scopes: ['a'] }, 'the same scope via two schemes is one alternative');
});

t.test('absorption: (x AND y) OR x is x', async (t) => {
  t.same(req([{ oauth: ['x', 'y'] }, { oauth: ['x'] }]), { kind: 'all_of', scopes: ['x'] });
  t.same(req([{ oauth: ['x', 'y'] }, { oauth: ['y', 'x'] }]), { kind: 'all_of', scopes: ['x', 'y'] });
  t.same(req([{ oauth: ['x', 'y'] }, { oauth: ['x'] }, { oauth: ['z'] }]), { kind: 'any_of', scopes: ['x', 'z'] });
});

t.test('an inexpressible OR of ANDs enforces the first alternative (stricter) and says so', async (t) => {
  const m = mapSecurity([{ oauth: ['x', 'y'] }, { oauth: ['z'] }], ctx);
  t.same(m.requirement, { kind: 'all_of', scopes: ['x', 'y'] });
  t.match(m.issues.map((i) => i.message).join('\n'), /\(x AND y\) OR z cannot be expressed.*first alternative.*not honoured/);
  t.match(m.notes.join('\n'), /only x AND y is enforced/);
  t.same(req([{ oauth: ['z'] }, { oauth: ['x', 'y'] }]), { kind: 'all_of', scopes: ['z'] }, 'first in spec order');
});

t.test('OAuth with no scopes is any token, exact even beside scoped alternatives', async (t) => {
  t.same(req([{ oauth: [] }]), { kind: 'token' });
  t.same(req([{ oauth: ['a'] }, { oauth: [] }]), { kind: 'token' });
});

t.test('non-OAuth-only requirements become any token, with a grouped warning naming the scheme', async (t) => {
  const m = mapSecurity([{ key: [] }], ctx);
  t.same(m.requirement, { kind: 'token' });
  t.match(m.issues[0]?.group, /key \(apiKey in header\) is not enforced/);
  t.same(req([{ key: [], basic: [] }]), { kind: 'token' });
  t.same(req([{ key: [] }, { basic: [] }]), { kind: 'token' });
});

t.test('non-OAuth alternatives beside OAuth ones are dropped (their clients carry no JWT)', async (t) => {
  const m = mapSecurity([{ key: [] }, { oauth: ['w', 'r'] }], ctx);
  t.same(m.requirement, { kind: 'all_of', scopes: ['w', 'r'] });
  t.match(m.issues[0]?.group, /not honoured beside OAuth/);
});

t.test('a non-OAuth scheme required together with scopes: scopes enforced, scheme noted', async (t) => {
  const m = mapSecurity([{ oauth: ['a'], key: [] }], ctx);
  t.same(m.requirement, { kind: 'all_of', scopes: ['a'] });
  t.match(m.issues[0]?.group, /required together with OAuth scopes, is not checked/);
});

t.test('unenforceable alternatives are dropped; none left means skip', async (t) => {
  t.same(req([{ nope: [] }, { oauth: ['a'] }]), { kind: 'all_of', scopes: ['a'] }, 'undefined scheme dropped');
  t.same(req([{ oauth: ['bad scope'] }, { oauth: ['a'] }]), { kind: 'all_of', scopes: ['a'] }, 'invalid scope: alternative dropped');
  t.equal(req([{ nope: [] }]), undefined, 'nothing left: skipped');
  t.equal(req([{ oauth: 'a' }]), undefined, 'scopes not a list');
  t.equal(req(['oauth']), undefined, 'requirement not a mapping');
  t.equal(req({ oauth: ['a'] }), undefined, 'security not a list');
  const m = mapSecurity([{ oauth: ['has"quote'] }], ctx);
  t.match(m.issues.map((i) => i.message).join('\n'), /"has\\"quote" is not a valid OAuth scope/);
});

t.test('undeclared security: token by default (fail closed), public on request', async (t) => {
  const m = mapSecurity(undefined, ctx);
  t.same(m.requirement, { kind: 'token' });
  t.match(m.inline, /fail closed/);
  t.same(req(undefined, { schemes, undeclared: 'none' }), { kind: 'none' });
});

t.test('the result never admits a token the spec refuses (exhaustive over small cases)', async (t) => {
  // Brute force: every security list of up to 3 alternatives over scopes {a,b,c} (plus {} and a foreign
  // scheme); every granted scope set. If scopegate's requirement allows a grant, some OAuth alternative
  // must allow it too, except when the spec is public or the requirement is "any token" from a
  // no-scope OAuth alternative or only foreign schemes (stated, accepted looseness).
  const universe = ['a', 'b', 'c'];
  const subsets: string[][] = [];
  for (let m = 0; m < 8; m++) subsets.push(universe.filter((_, i) => (m >> i) & 1));
  const alts: Array<Record<string, string[]>> = [...subsets.filter((s) => s.length > 0).map((s) => ({ oauth: s })), { key: [] }];
  let checked = 0;
  const lists: Array<Array<Record<string, string[]>>> = [];
  for (const x of alts) {
    lists.push([x]);
    for (const y of alts) {
      lists.push([x, y]);
      for (const z of alts) lists.push([x, y, z]);
    }
  }
  const looser: string[] = [];
  for (const list of lists) {
    const r = req(list);
    if (r === undefined) continue;
    if (r.kind === 'token') {
      if (!list.every((a) => a.key !== undefined)) looser.push(`${JSON.stringify(list)} → any token`);
      continue;
    }
    for (const grant of subsets) {
      const specAllows = list.some((alt) => alt.oauth !== undefined && alt.oauth.every((s) => grant.includes(s)));
      const gateAllows = r.kind === 'none' ? true : r.kind === 'all_of' ? r.scopes.every((s) => grant.includes(s)) : r.scopes.some((s) => grant.includes(s));
      if (gateAllows && !specAllows) looser.push(`${JSON.stringify(list)} → ${JSON.stringify(r)} admits [${grant.join(' ')}]`);
      checked++;
    }
  }
  t.same(looser, [], 'no mapping admits a grant the spec refuses');
  t.ok(checked > 1000);
});
