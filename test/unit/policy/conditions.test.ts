/** policy/conditions.ts: `where:` against a reference reading of the rule. */
import t from 'tap';
import type { VerifiedToken } from '../../../src/auth/types.js';
import { bothConditions, compileConditions, conditionClaims } from '../../../src/policy/conditions.js';

const token = (claims: Record<string, unknown> | undefined): VerifiedToken =>
  ({ issuer: 'i', subject: 's', clientId: undefined, expiresAt: 0, scopes: [], scopeSet: new Set(), scopeHeader: '', keyId: 'k', issuedAt: undefined, ...(claims === undefined ? {} : { claims }) }) as VerifiedToken;

t.test('string equality, array membership, decoded parameters', async (t) => {
  const c = compileConditions([{ param: 'org', claim: 'org_id' }]);
  if (c === undefined) return t.fail('compiled');
  t.ok(c.holds(token({ org_id: 'acme' }), ['org'], ['acme']));
  t.notOk(c.holds(token({ org_id: 'acme' }), ['org'], ['other']));
  t.ok(c.holds(token({ org_id: ['x', 'acme'] }), ['org'], ['acme']), 'element of an array');
  t.notOk(c.holds(token({ org_id: ['x', 1] }), ['org'], ['x']), 'an array with a non-string is another type');
  t.ok(c.holds(token({ org_id: 'acme corp' }), ['org'], ['acme%20corp']), 'percent-decoded');
  t.notOk(c.holds(token({ org_id: 'acme%20corp' }), ['org'], ['acme%20corp']), 'compared decoded, not raw');
  t.notOk(c.holds(token({ org_id: 'ACME' }), ['org'], ['acme']), 'case-sensitive');
  for (const v of [undefined, 5, null, { a: 'acme' }, true]) t.notOk(c.holds(token({ org_id: v }), ['org'], ['acme']), `claim ${JSON.stringify(v)}`);
  t.notOk(c.holds(token(undefined), ['org'], ['acme']), 'a token without kept claims (introspected) holds nothing');
  t.notOk(c.holds(token({ org_id: 'acme' }), [], []), 'parameter absent');
  t.notOk(c.holds(token({ org_id: '\uFFFD' }), ['org'], ['%FF']), 'undecodable parameter');
});

t.test('paths, every entry must hold, trace says why', async (t) => {
  const c = compileConditions([
    { param: 'org', claim: { path: ['ext', 'orgs'] } },
    { param: 'user', claim: 'sub' },
  ]);
  if (c === undefined) return t.fail('compiled');
  const tok = token({ ext: { orgs: ['a', 'b'] }, sub: 'u1' });
  t.ok(c.holds(tok, ['org', 'user'], ['b', 'u1']));
  t.notOk(c.holds(tok, ['org', 'user'], ['b', 'u2']));
  t.same(
    c.trace(tok, ['org', 'user'], ['c', 'u1']).map((o) => [o.param, o.claim, o.value, o.holds]),
    [
      ['org', 'ext.orgs', 'c', false],
      ['user', 'sub', 'u1', true],
    ],
  );
  t.equal(compileConditions(undefined), undefined);
  t.equal(bothConditions(c, undefined), c);
  t.equal(bothConditions(c, compileConditions([{ param: 'org', claim: 'x' }]))?.conditions.length, 3);
  t.same(conditionClaims([{ where: [{ param: 'a', claim: { path: ['ext', 'orgs'] } }, { param: 'b', claim: 'sub' }] }, {}] as never), ['ext', 'sub']);
});
