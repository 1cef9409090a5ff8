import t from 'tap';
import { createRecentDenials, observingDenials } from '../../../src/admin/recent-denials.js';
import type { VerifiedToken } from '../../../src/auth/types.js';
import { deny } from '../../../src/policy/denials.js';
import type { RequestRecord } from '../../../src/telemetry/access.js';

const token = (scopes: string[]): VerifiedToken => ({
  issuer: 'https://idp.test/',
  subject: 'user-42',
  clientId: 'orders-app',
  expiresAt: 2e9,
  scopes,
  scopeSet: new Set(scopes),
  scopeHeader: scopes.join(' '),
  keyId: 'k',
  issuedAt: undefined,
  jwtId: 'jti-1',
});

function denied(path: string, extra: Partial<RequestRecord> = {}): RequestRecord {
  const d = deny('ERR_AUTH_TOKEN_EXPIRED', '/orders');
  return { method: 'GET', route: '/orders', status: d.status, reason: d.reason, code: d.code, decisionSeconds: 0, upstreamMs: undefined, totalMs: 1, target: path, deny: d, ...extra };
}
const allowed: RequestRecord = { method: 'GET', route: '/orders', status: 200, reason: 'allowed', code: undefined, decisionSeconds: 0, upstreamMs: 1, totalMs: 1, target: '/orders' };

t.test('a ring: newest first, the oldest dropped past capacity, allowed requests only counted', async (t) => {
  const ring = createRecentDenials(3, ['client_id']);
  t.same(ring.list(), [], 'empty at start');
  for (let i = 1; i <= 5; i++) {
    ring.observe(denied(`/orders?n=${i}&access_token=secret`, { route: `/r${i}` }));
    ring.observe(allowed);
  }
  const list = ring.list();
  t.same(list.map((d) => d.route), ['/r5', '/r4', '/r3']);
  t.equal(list[0]?.path, '/orders', 'the query (which can carry a token) is dropped');
  t.equal(list[0]?.cause, 'expired');
  t.equal(list[0]?.code, 'ERR_AUTH_TOKEN_EXPIRED');
  t.same(ring.counts(), { invalid_token: 5, allowed: 5 });
  t.equal(ring.capacity, 3);
});

t.test('identity as logging.fields allows: sub only when listed, client_id only when listed', async (t) => {
  const d = deny('ERR_AUTH_INSUFFICIENT_SCOPE', '/orders', { requiredScopes: ['orders:write'] });
  const record = denied('/orders', { status: 403, reason: 'insufficient_scope', code: d.code, deny: d, token: token(['orders:read']) });
  const plain = createRecentDenials(4, ['client_id', 'jti']);
  plain.observe(record);
  t.match(plain.list()[0], { client_id: 'orders-app', sub: null, missing_scopes: ['orders:write'], cause: null });
  const withSub = createRecentDenials(4, ['sub']);
  withSub.observe(record);
  t.match(withSub.list()[0], { client_id: null, sub: 'user-42' });
});

t.test('paths are cut like the access log; a raw-socket answer has no path; capacity 0 keeps none but counts', async (t) => {
  const ring = createRecentDenials(2, []);
  ring.observe(denied(`/${'a'.repeat(1000)}`));
  t.equal(ring.list()[0]?.path, `/${'a'.repeat(255)}…`);
  ring.observe({ method: 'GET', route: undefined, status: 400, reason: 'bad_request', code: 'ERR_REQUEST_MALFORMED', decisionSeconds: 0, upstreamMs: undefined, totalMs: 0 });
  t.match(ring.list()[0], { path: null, route: null, code: 'ERR_REQUEST_MALFORMED', reason: 'bad_request' });
  const none = createRecentDenials(0, []);
  none.observe(denied('/x'));
  t.same(none.list(), []);
  t.same(none.counts(), { invalid_token: 1 });
});

t.test('observingDenials records first, then observes', async (t) => {
  const seen: string[] = [];
  const ring = createRecentDenials(1, []);
  const record = observingDenials(() => seen.push('recorded'), ring);
  record(denied('/x'));
  t.same(seen, ['recorded']);
  t.equal(ring.list().length, 1);
});
