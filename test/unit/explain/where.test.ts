/** scopegate explain on a route with `where:` conditions: each condition, its decoded parameter and its outcome, as plan() decided. */
import t from 'tap';
import { explainRequest } from '../../../src/explain/explain.js';
import { formatExplanation } from '../../../src/explain/format.js';
import { testConfig } from '../../helpers/config.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey } from '../../helpers/keys.js';
import { claims, signToken } from '../../helpers/tokens.js';

const ISSUER = 'https://idp.where.test/';
const AUD = 'https://api.example.com';

t.test('explain shows each condition and its outcome', async (t) => {
  const key = generateKey('rsa');
  const jwks = await startJwksServer({ keys: [key.jwk] });
  t.teardown(() => jwks.close());
  const config = testConfig({
    issuer: ISSUER,
    jwksUri: jwks.jwksUri,
    routes: ['GET /orgs/:orgId/teams/:team: { scope: projects:read, where: { orgId: { claim: org_id }, team: { claim: { path: [ext, teams] } } } }'],
  });
  const token = signToken(key, claims(ISSUER, AUD, { scope: 'projects:read', org_id: 'acme corp', ext: { teams: ['blue'] } }));

  const allowed = await explainRequest(config, { method: 'GET', target: '/orgs/acme%20corp/teams/blue', token });
  t.same(allowed.problems, []);
  t.equal(allowed.decision?.allow, true);
  t.same(allowed.requirement?.conditions.map((c) => [c.param, c.claim, c.value, c.holds]), [
    ['orgId', 'org_id', 'acme corp', true],
    ['team', 'ext.teams', 'blue', true],
  ]);

  const denied = await explainRequest(config, { method: 'GET', target: '/orgs/globex/teams/blue', token });
  const decision = denied.decision;
  t.equal(decision !== undefined && !decision.allow ? decision.reason : undefined, 'claim_mismatch');
  t.same(denied.requirement?.conditions.map((c) => [c.param, c.holds, c.why]), [
    ['orgId', false, 'differs from the claim'],
    ['team', true, 'is an element of the claim'],
  ]);
  const text = formatExplanation(denied);
  t.match(text, /where orgId.*"globex" against claim org_id: ✗ differs from the claim/);
});
