/** `scopegate check`'s trailing-slash twin listing (README, `scopegate check`). */
import t from 'tap';
import { formatTwinPairs } from '../../../src/commands/check.js';
import { testConfig } from '../../helpers/config.js';

const ROUTES = ['GET /docs/*: { auth: none }', 'GET /docs/internal: admin', 'GET /docs/same: { auth: none }', 'GET /api/items/:id: items:read', 'GET /api/items/:id/*: items:read'];
const base = { issuer: 'https://idp.test/', jwksUri: 'http://127.0.0.1:9/jwks', routes: ROUTES };

t.test('lists only the pairs whose requirements differ', async (t) => {
  const text = formatTwinPairs(testConfig(base));
  t.match(text, /^Trailing-slash twins with different requirements \(both requirements apply\):/);
  t.match(text, /GET +\/docs\/internal\/ +\/docs\/\* \(public \(no token\)\) \+ twin \/docs\/internal \(admin\)/);
  t.notMatch(text, /\/docs\/same\//, 'same requirement: not listed');
  t.notMatch(text, /\/api\/items/, 'same requirement: not listed');
  t.match(formatTwinPairs(testConfig({ ...base, extra: 'routes_trailing_slash: distinct' })), /routes_trailing_slash: distinct, only the first applies/);
  t.equal(formatTwinPairs(testConfig({ ...base, routes: ['GET /a: x', 'GET /b/*: y'] })), '', 'no pairs, no section');
});
