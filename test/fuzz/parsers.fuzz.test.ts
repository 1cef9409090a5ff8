/**
 * Fuzz: the credential parsers never crash on arbitrary bytes.
 *  - extractBearer (src/auth/bearer.ts) on arbitrary raw header lists: one of its three
 *    result kinds, a token only from the first Authorization value, never a throw;
 *  - hasAccessTokenQuery on arbitrary queries: a boolean, never a throw, and any query
 *    that literally carries `access_token=` is caught;
 *  - the verifier (src/auth/verify.ts: size check, JWT pre-parser, fast-jwt) on arbitrary
 *    strings and on mutations of a valid token: a result, never a throw or rejection,
 *    and never `ok` for anything but the exact tokens that were signed (EdDSA, ES256, RS256).
 */
import t from 'tap';
import fc from 'fast-check';
import { extractBearer, hasAccessTokenQuery } from '../../src/auth/bearer.js';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, signToken, testAuthConfig, b64url, segment } from '../helpers/tokens.js';
import { params, RUNS } from './runs.js';

const ISSUER = 'https://idp.fuzz.test/';
const AUD = 'https://api.example.com';

const headerName = fc.oneof(fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'Host', 'X-A', 'Authorisation', 'Authorization '), fc.string({ maxLength: 16 }));
const headerValue = fc.oneof(
  fc.constantFrom('Bearer abc', 'bearer abc.def.ghi', 'Bearer', 'Bearer ', 'Bearer  x', 'Bearer\tx', 'Basic dTpw', '', 'BEARER a=', 'Bearer a b', 'Bearer ==='),
  fc.string({ maxLength: 80 }).map((s) => 'Bearer ' + s),
  fc.string({ maxLength: 80, unit: 'binary' }),
);
const rawHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }).map((pairs) => pairs.flat());

t.test(`extractBearer never throws and only returns its result kinds (${RUNS} runs)`, async (t) => {
  fc.assert(
    fc.property(rawHeaders, fc.boolean(), (raw, odd) => {
      const list = odd ? [...raw, 'Authorization'] : raw; // an odd-length list (trailing name)
      const r = extractBearer(list);
      const auths = [];
      for (let i = 0; i + 1 < list.length; i += 2) if ((list[i] as string).toLowerCase() === 'authorization') auths.push(list[i + 1] as string);
      switch (r.kind) {
        case 'token':
          // The first Authorization header is read; decide() refuses two before extractBearer runs.
          return auths.length >= 1 && r.token.length > 0 && (auths[0] as string).endsWith(r.token) && /^bearer /i.test(auths[0] as string);
        case 'missing':
          return auths.length === 0 || !/^bearer([ \t]|$)/i.test(auths[0] as string);
        case 'invalid':
          return auths.length >= 1 && /^bearer([ \t]|$)/i.test(auths[0] as string);
        default:
          return false;
      }
    }),
    params(),
  );
  t.pass();
});

t.test(`hasAccessTokenQuery never throws, and finds every literal access_token (${RUNS} runs)`, async (t) => {
  const part = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('access_token', 'access%5Ftoken', 'ACCESS_TOKEN', '%', '%25', '=', '&', ';', '[', ']', '.', '+', '%00'));
  fc.assert(
    fc.property(fc.array(part, { maxLength: 12 }), fc.boolean(), (parts, withQ) => {
      const q = (withQ ? '?' : '') + parts.join('');
      const r = hasAccessTokenQuery(q);
      if (typeof r !== 'boolean') return false;
      const names = q.replace(/^\?/, '').split(/[&;]/).map((p) => p.split('=')[0]);
      if (names.includes('access_token')) return r === true;
      return true;
    }),
    params(),
  );
  t.pass();
});

t.test('the verifier never throws, and never accepts anything but the signed token', async (t) => {
  const key = generateKey('ed25519');
  const p256 = generateKey('p256');
  const rsa = generateKey('rsa');
  const jwks = await startJwksServer({ keys: [jwkOf(key), jwkOf(p256), jwkOf(rsa)] });
  t.teardown(() => jwks.close());
  // Long cooldown: an unknown kid may refetch once, not on every case.
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISSUER, jwksUri: jwks.jwksUri, algorithms: ['EdDSA', 'ES256', 'RS256'] }], { jwks: { cooldownS: 3600 } }));
  t.teardown(() => v.close());
  await v.start();
  const valids = [key, p256, rsa].map((k) => signToken(k, claims(ISSUER, AUD, { scope: 'a b' })));
  const validSet = new Set(valids);
  for (const tok of valids) t.equal((await v.verify(tok)).ok, true, 'positive control');
  const valid = valids[0] as string;

  const check = async (s: string): Promise<boolean> => {
    let r;
    try {
      r = await v.verify(s);
    } catch (err) {
      throw new Error(`verify threw/rejected on ${JSON.stringify(s.slice(0, 80))}: ${String(err)}`);
    }
    if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') return false;
    return r.ok ? validSet.has(s) : typeof r.error?.code === 'string';
  };

  const started = Date.now();
  const jsonish = fc.oneof(fc.json(), fc.jsonValue().map((j) => JSON.stringify(j)), fc.constantFrom('{"alg":"EdDSA"}', `{"alg":"EdDSA","kid":"${key.kid}"}`, '{"alg":"none"}', '{"alg":"HS256"}', '{"alg":"EdDSA","crit":["b64"],"b64":false}', '{"alg":"EdDSA","jwk":{}}', '{"__proto__":{"alg":"EdDSA"}}'));
  const structured = fc.tuple(jsonish, jsonish, fc.oneof(fc.string({ maxLength: 90 }), fc.uint8Array({ maxLength: 64 }).map((b) => b64url(b)))).map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s}`);
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' }), structured), check),
    params(),
  );
  t.comment(`arbitrary strings: ${RUNS} runs in ${Date.now() - started} ms`);

  const mutStarted = Date.now();
  const mutationOf = (tok: string, kid: string): fc.Arbitrary<string> => {
    const [h, p, s] = tok.split('.') as [string, string, string];
    const sigLen = Buffer.from(s, 'base64url').length;
    return fc.oneof(
      // flip one character anywhere
      fc.tuple(fc.nat({ max: tok.length - 1 }), fc.constantFrom(...'AQgw-_.=+/ a0'.split(''))).map(([i, c]) => tok.slice(0, i) + c + tok.slice(i + 1)),
      // swap in another payload (scope escalation), keep header and signature
      fc.dictionary(fc.constantFrom('scope', 'iss', 'aud', 'exp', 'sub', 'nbf'), fc.jsonValue(), { maxKeys: 4 }).map((extra) => `${h}.${segment({ ...claims(ISSUER, AUD), ...extra })}.${s}`),
      // other alg / kid in the header, same payload and signature (alg confusion)
      fc.constantFrom('none', 'HS256', 'ES256', 'RS256', 'PS256', 'EdDSA', 'eddsa', 'NONE', 'ES512').map((alg) => `${segment({ alg, kid })}.${p}.${s}`),
      // truncate / extend
      fc.nat({ max: tok.length }).map((n) => tok.slice(0, n)),
      fc.string({ maxLength: 8 }).map((x) => tok + x),
      fc.constant(`${h}.${p}.`),
      // zero and all-0xFF signatures of the right and wrong sizes (CVE-2022-21449 class)
      fc.constantFrom(sigLen, sigLen - 1, sigLen + 1, 0, 1).chain((n) => fc.constantFrom(0x00, 0xff, 0x01).map((b) => `${h}.${p}.${b64url(Buffer.alloc(Math.max(0, n), b))}`)),
      // signature bytes replaced by random bytes of the right size
      fc.uint8Array({ minLength: sigLen, maxLength: sigLen }).map((b) => `${h}.${p}.${b64url(b)}`),
    );
  };
  const mutation = fc.oneof(mutationOf(valids[0] as string, key.kid), mutationOf(valids[1] as string, p256.kid), mutationOf(valids[2] as string, rsa.kid));
  await fc.assert(fc.asyncProperty(mutation, check), params());
  t.comment(`mutated tokens: ${RUNS} runs in ${Date.now() - mutStarted} ms`);
});
