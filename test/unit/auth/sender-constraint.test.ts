import t from 'tap';
import {
  bindingFor,
  headerValues,
  readConfirmation,
  senderChallenges,
  SENDER_DESCRIPTIONS,
  type AuthScheme,
  type Confirmation,
  type SenderSetup,
} from '../../../src/auth/sender-constraint.js';

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const X5T = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2';

const jkt = readConfirmation({ jkt: JKT })!;
const x5t = readConfirmation({ 'x5t#S256': X5T })!;
const both = readConfirmation({ jkt: JKT, 'x5t#S256': X5T })!;
const BOTH: SenderSetup = { dpop: true, mtls: true };
const NONE: SenderSetup = { dpop: false, mtls: false };

t.test('readConfirmation: the cnf methods scopegate checks, fail closed on the rest', async (t) => {
  t.equal(readConfirmation(undefined), undefined, 'no cnf');
  t.same(jkt, { jkt: JKT, x5tS256: undefined, unsupported: false });
  t.same(x5t, { jkt: undefined, x5tS256: X5T, unsupported: false });
  t.same(both, { jkt: JKT, x5tS256: X5T, unsupported: false });
  const unsupported = [
    null, 'jkt', 42, [JKT], {}, { jkt: 42 }, { jkt: `${JKT}=` }, { jkt: JKT.slice(1) }, { 'x5t#S256': 'not+base64url/xxxxxxxxxxxxxxxxxxxxxxxxxxxx' },
    { jwk: { kty: 'EC' } }, { kid: 'k1' }, { jkt: JKT, jwk: { kty: 'EC' } }, { x5t: X5T },
  ];
  for (const cnf of unsupported) t.equal(readConfirmation(cnf)?.unsupported, true, JSON.stringify(cnf));
});

t.test('bindingFor: every scheme × cnf × setup × required', async (t) => {
  type Row = [AuthScheme, Confirmation | undefined, SenderSetup, boolean, string];
  const rows: Row[] = [
    // unbound tokens
    ['Bearer', undefined, BOTH, false, 'unbound'],
    ['Bearer', undefined, NONE, false, 'unbound'],
    ['Bearer', undefined, BOTH, true, 'ERR_AUTH_SENDER_REQUIRED'],
    ['Bearer', undefined, NONE, true, 'ERR_AUTH_SENDER_REQUIRED'],
    ['DPoP', undefined, BOTH, false, 'ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN'],
    ['DPoP', undefined, NONE, false, 'ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN'],
    ['DPoP', undefined, BOTH, true, 'ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN'],
    // DPoP-bound
    ['DPoP', jkt, BOTH, false, 'dpop'],
    ['DPoP', jkt, BOTH, true, 'dpop'],
    ['DPoP', jkt, { dpop: true, mtls: false }, false, 'dpop'],
    ['Bearer', jkt, BOTH, false, 'ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN'],
    ['Bearer', jkt, BOTH, true, 'ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN'],
    ['DPoP', jkt, { dpop: false, mtls: true }, false, 'ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED'],
    ['Bearer', jkt, NONE, false, 'ERR_AUTH_SENDER_DPOP_NOT_CONFIGURED'],
    // certificate-bound
    ['Bearer', x5t, BOTH, false, 'mtls'],
    ['Bearer', x5t, BOTH, true, 'mtls'],
    ['Bearer', x5t, { dpop: false, mtls: true }, true, 'mtls'],
    ['Bearer', x5t, { dpop: true, mtls: false }, false, 'ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED'],
    ['DPoP', x5t, BOTH, false, 'ERR_AUTH_SENDER_DPOP_FOR_UNBOUND_TOKEN'],
    // bound both ways: both checks
    ['DPoP', both, BOTH, false, 'dpop+mtls'],
    ['Bearer', both, BOTH, false, 'ERR_AUTH_SENDER_BEARER_FOR_DPOP_TOKEN'],
    ['DPoP', both, { dpop: true, mtls: false }, false, 'ERR_AUTH_SENDER_MTLS_NOT_CONFIGURED'],
    // a cnf nobody can check
    ['Bearer', readConfirmation({ kid: 'k' }), BOTH, false, 'ERR_AUTH_SENDER_CNF_UNSUPPORTED'],
    ['DPoP', readConfirmation({ jwk: {} }), BOTH, false, 'ERR_AUTH_SENDER_CNF_UNSUPPORTED'],
  ];
  for (const [scheme, cnf, setup, required, want] of rows) {
    const d = bindingFor(scheme, cnf, setup, required);
    const got = d.kind === 'refuse' ? d.code : d.kind === 'unbound' ? 'unbound' : [d.dpop && 'dpop', d.mtls && 'mtls'].filter(Boolean).join('+');
    t.equal(got, want, `${scheme} ${JSON.stringify(cnf)} ${JSON.stringify(setup)} required=${required}`);
    if (d.kind === 'refuse') t.equal(d.description, SENDER_DESCRIPTIONS[d.code]);
    t.ok(Object.isFrozen(d), 'decisions are shared frozen values');
  }
});

t.test('challenges (RFC 9449 §7.1): proof failures and binding failures', async (t) => {
  t.same(senderChallenges(['ES256', 'EdDSA', 'RS256']), {
    proof: 'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256"',
    binding: 'DPoP algs="ES256 EdDSA RS256"',
  });
  t.same(senderChallenges(undefined), { proof: undefined, binding: undefined }, 'no DPoP: the usual Bearer invalid_token challenge');
});

t.test('headerValues: every line of a header, any case, in order', async (t) => {
  const raw = ['Host', 'a', 'DPoP', 'p1', 'dpop', 'p2', 'X-DPoP', 'no', 'DPOP', ''];
  t.same(headerValues(raw, 'dpop'), ['p1', 'p2', '']);
  t.same(headerValues(['Host', 'a'], 'dpop'), []);
  t.same(headerValues(['DPoP'], 'dpop'), [], 'a dangling name without a value is ignored');
});
