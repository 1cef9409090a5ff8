/** `admin.recent_denials` (README, "Admin page"): default, range, unknown keys. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { DEFAULTS } from '../../../src/config/schema.js';
import { formatConfigIssue } from '../../../src/errors.js';

const BASE = `upstream:
  url: http://127.0.0.1:3000
auth:
  issuers:
    - issuer: https://idp.example.com/
      jwks_uri: https://idp.example.com/jwks
      audiences: [api]
routes:
  GET /a: a
`;

t.test('default 200; 0 and 10000 accepted; beyond, or an unknown key, an error with its position', async (t) => {
  t.equal(loadConfigText(BASE, 'c.yaml').config?.admin.recentDenials, 200);
  t.equal(DEFAULTS.admin.recentDenials, 200);
  for (const n of [0, 10_000]) t.equal(loadConfigText(`${BASE}admin:\n  recent_denials: ${n}\n`, 'c.yaml').config?.admin.recentDenials, n);
  const over = loadConfigText(`${BASE}admin:\n  recent_denials: 10001\n`, 'c.yaml');
  t.equal(over.config, undefined);
  t.match(over.issues.map(formatConfigIssue), [/^c\.yaml:11:19: admin\.recent_denials: must be between 0 and 10000/]);
  const typo = loadConfigText(`${BASE}admin:\n  recent_denial: 5\n`, 'c.yaml');
  t.match(typo.issues.map(formatConfigIssue).join('\n'), /admin\.recent_denial: unknown key.*did you mean recent_denials/);
});
