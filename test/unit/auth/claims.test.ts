import t from 'tap';
import { buildVerifiedToken, checkRegisteredClaims, grantedScopes, readRegisteredClaims, type RegisteredClaims } from '../../../src/auth/claims.js';
import { TokenError } from '../../../src/errors.js';

const both = ['scope', 'scp'] as const;

t.test('scope string and scp array/string, merged in configured order', async (t) => {
  t.same(grantedScopes({ scope: 'a b c' }, both), ['a', 'b', 'c']);
  t.same(grantedScopes({ scope: '  a   b  ' }, both), ['a', 'b'], 'repeated, leading and trailing spaces');
  t.same(grantedScopes({ scope: '' }, both), []);
  t.same(grantedScopes({ scp: ['x', 'y'] }, both), ['x', 'y']);
  t.same(grantedScopes({ scp: 'x  y' }, both), ['x', 'y']);
  t.same(grantedScopes({ scope: 'a b', scp: ['b', 'c'] }, both), ['a', 'b', 'c'], 'merged, de-duplicated');
  t.same(grantedScopes({ scope: 'a b', scp: ['b', 'c'] }, ['scp', 'scope']), ['b', 'c', 'a'], 'order follows config');
  t.same(grantedScopes({ scope: 'a', scp: ['c'] }, ['scope']), ['a'], 'unconfigured claim ignored');
  t.same(grantedScopes({ scope: 'A a' }, both), ['A', 'a'], 'case-sensitive');
  t.same(grantedScopes({ scope: 'a a a' }, both), ['a']);
  t.same(grantedScopes({}, both), []);
});

t.test('wrong types and characters are BAD_CLAIM, never "no scopes"', async (t) => {
  for (const payload of [
    { scope: 1 },
    { scope: ['a'] },
    { scope: null },
    { scope: { a: 1 } },
    { scp: 1 },
    { scp: ['a', 1] },
    { scp: [null] },
    { scp: { 0: 'a' } },
    { scope: 'a\r\nX-Evil: 1' },
    { scope: 'a"b' },
    { scope: 'a\\b' },
    { scope: 'a\tb' },
    { scp: ['caf\u00e9'] },
  ]) {
    const r = grantedScopes(payload, both);
    t.ok(r instanceof TokenError && r.code === 'ERR_AUTH_TOKEN_BAD_CLAIM', JSON.stringify(payload));
  }
});

t.test('buildVerifiedToken parses once and freezes', async (t) => {
  const payload = { iss: 'i', sub: 'u', azp: 'app', exp: 2e9, scope: 'b a b', nested: { x: [1] } };
  const v = buildVerifiedToken('i', 'i#k', payload, both);
  if (v instanceof TokenError) throw v;
  t.same(v.scopes, ['b', 'a']);
  t.equal(v.scopeHeader, 'b a');
  t.ok(v.scopeSet.has('a') && v.scopeSet.size === 2);
  t.equal(v.subject, 'u');
  t.equal(v.clientId, 'app', 'azp when no client_id');
  t.equal(v.expiresAt, 2e9);
  t.equal(v.keyId, 'i#k');
  t.ok(Object.isFrozen(v) && Object.isFrozen(v.scopes), 'frozen');
  t.notOk('claims' in v, 'the payload is not kept (memory per cached token)');
  const again = buildVerifiedToken('i', 'k2', { exp: 3, scp: ['b', 'a'] }, both);
  if (again instanceof TokenError) throw again;
  t.equal(again.scopeSet, v.scopeSet, 'tokens with the same scopes share one interned Set');
  const c = buildVerifiedToken('i', 'k', { exp: 1, client_id: 'cid', azp: 'app' }, both);
  t.equal((c as { clientId: string }).clientId, 'cid', 'client_id wins over azp');
  t.equal((c as { subject: unknown }).subject, undefined);
  for (const bad of [{ exp: 1, sub: 1 }, { exp: 1, sub: 'a\nb' }, { exp: 1, sub: 'x'.repeat(256) }, { exp: 1, client_id: 5 }, { exp: 1, azp: [] }]) {
    const r = buildVerifiedToken('i', 'k', bad, both);
    t.ok(r instanceof TokenError && r.code === 'ERR_AUTH_TOKEN_BAD_CLAIM', JSON.stringify(bad));
  }
});

t.test('readRegisteredClaims: presence and types before the signature, first failure wins', async (t) => {
  const now = 1_700_000_000_000;
  const skew = 30_000;
  const s = now / 1000;
  const base = { exp: s + 60, aud: 'a' };
  t.same(readRegisteredClaims(base, now, skew), { exp: s + 60, nbf: undefined, iat: undefined, aud: 'a' });
  t.same(readRegisteredClaims({ ...base, nbf: s, iat: s, aud: ['a', 'b'] }, now, skew), { exp: s + 60, nbf: s, iat: s, aud: ['a', 'b'] });
  t.same(readRegisteredClaims({ ...base, iat: s + 29 }, now, skew), { exp: s + 60, nbf: undefined, iat: s + 29, aud: 'a' }, 'iat within skew');
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ aud: 'a' }, 'ERR_AUTH_TOKEN_MISSING_EXP', 'The token has no exp claim'],
    [{ exp: undefined, aud: 'a' }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number'],
    [{ exp: '1', aud: 'a' }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number'],
    [{ exp: 8.64e12 + 1, aud: 'a' }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number'],
    [{ ...base, nbf: null }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The nbf claim is not a number'],
    [{ ...base, iat: -1e13 }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The iat claim is not a number'],
    [{ ...base, nbf: 'x', iat: 'y' }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The nbf claim is not a number'],
    [{ ...base, iat: s + 31 }, 'ERR_AUTH_TOKEN_NOT_YET_VALID', 'The token iat is in the future'],
    [{ exp: s + 60 }, 'ERR_AUTH_TOKEN_AUDIENCE', 'The token has no aud claim'],
    [{ ...base, aud: [] }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings'],
    [{ ...base, aud: ['a', 1] }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings'],
    [{ ...base, aud: { a: 1 } }, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings'],
  ];
  for (const [payload, code, message] of cases) {
    const r = readRegisteredClaims(payload, now, skew);
    t.same(r instanceof TokenError ? [r.code, r.message] : r, [code, message], JSON.stringify(payload));
  }
});

t.test('checkRegisteredClaims: exp and nbf with skew, aud against the issuer', async (t) => {
  const now = 1_700_000_000_000;
  const skew = 30_000;
  const s = now / 1000;
  const c = (over: Partial<RegisteredClaims>): RegisteredClaims => ({ exp: s + 60, nbf: undefined, iat: undefined, aud: 'a', ...over });
  const code = (r: TokenError | undefined) => r?.code ?? 'ok';
  t.equal(code(checkRegisteredClaims(c({}), ['a'], now, skew)), 'ok');
  t.equal(code(checkRegisteredClaims(c({ exp: s - 29 }), ['a'], now, skew)), 'ok', 'expired within skew');
  t.equal(code(checkRegisteredClaims(c({ exp: s - 30 }), ['a'], now, skew)), 'ERR_AUTH_TOKEN_EXPIRED', 'exp + skew is already too late');
  t.equal(code(checkRegisteredClaims(c({ nbf: s + 30 }), ['a'], now, skew)), 'ok', 'nbf at the edge of skew');
  t.equal(code(checkRegisteredClaims(c({ nbf: s + 31 }), ['a'], now, skew)), 'ERR_AUTH_TOKEN_NOT_YET_VALID');
  t.equal(code(checkRegisteredClaims(c({ aud: 'b' }), ['a'], now, skew)), 'ERR_AUTH_TOKEN_AUDIENCE');
  t.equal(code(checkRegisteredClaims(c({ aud: ['b', 'a'] }), ['a'], now, skew)), 'ok', 'one of the list is enough');
  t.equal(code(checkRegisteredClaims(c({ aud: ['b', 'c'] }), ['a', 'd'], now, skew)), 'ERR_AUTH_TOKEN_AUDIENCE');
  t.equal(code(checkRegisteredClaims(c({ exp: s - 60, aud: 'b' }), ['a'], now, skew)), 'ERR_AUTH_TOKEN_EXPIRED', 'exp is checked before aud');
  const r = checkRegisteredClaims(c({ exp: s - 60 }), ['a'], now, skew);
  t.equal(r?.message, 'The token has expired');
});
