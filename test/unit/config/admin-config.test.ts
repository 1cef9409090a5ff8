/** `admin.recent_denials` (README, "Admin page"): default, range, unknown keys. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { DEFAULTS } from '../../../src/config/schema.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { testConfigYaml } from '../../helpers/config.js';

const yaml = (admin: string): string => testConfigYaml({ issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks', routes: ['GET /a: a'], extra: admin });

t.test('default 200; 0 and 10000 accepted; beyond, or an unknown key, an error with its position', async (t) => {
  t.equal(loadConfigText(yaml(''), 'c.yaml').config?.admin.recentDenials, 200);
  t.equal(DEFAULTS.admin.recentDenials, 200);
  for (const n of [0, 10_000]) t.equal(loadConfigText(yaml(`admin:\n  recent_denials: ${n}`), 'c.yaml').config?.admin.recentDenials, n);
  const text = yaml('admin:\n  recent_denials: 10001');
  const line = text.split('\n').findIndex((l) => l.includes('recent_denials')) + 1;
  const over = loadConfigText(text, 'c.yaml');
  t.equal(over.config, undefined);
  t.match(over.issues.map(formatConfigIssue), [new RegExp(`^c\\.yaml:${line}:19: admin\\.recent_denials: must be between 0 and 10000`)]);
  const typo = loadConfigText(yaml('admin:\n  recent_denial: 5'), 'c.yaml');
  t.match(typo.issues.map(formatConfigIssue).join('\n'), /admin\.recent_denial: unknown key.*did you mean recent_denials/);
});
