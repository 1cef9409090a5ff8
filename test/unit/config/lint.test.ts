/** lint.ts: checks across values (issuers, identity headers, timeouts). */
import t from 'tap';
import { checkIdentityHeaders, checkTimeouts, checkUniqueIssuers } from '../../../src/config/lint.js';
import { DEFAULTS } from '../../../src/config/schema.js';
import { findValue } from '../../../src/config/yaml-reader.js';
import { readYaml } from './read-yaml.js';

t.test('an issuer listed twice is an error at the second', async (t) => {
  const { issues } = readYaml('- issuer: a\n- issuer: b\n- issuer: a\n', (node, _p, r) => checkUniqueIssuers(node, r));
  t.same(issues, ['3:11 auth.issuers[2].issuer: duplicate issuer "a": each issuer is listed once']);
});

t.test('identity headers that fold to one name collide', async (t) => {
  const check = (subject: string, scopes: string) =>
    readYaml(`subject: ${subject}\nscopes: ${scopes}\n`, (node, _p, r) => checkIdentityHeaders({ subject, scopes }, node, r)).issues;
  t.same(check('x-a', 'x_A'), ['2:9 identity_headers.scopes: must differ from identity_headers.subject']);
  t.same(check('x-a', 'x-b'), []);
});

t.test('headers_timeout_ms may not exceed a non-zero request_timeout_ms', async (t) => {
  const check = (text: string, limits: Partial<typeof DEFAULTS.limits>) =>
    readYaml(text, (node, _p, r) => checkTimeouts({ ...DEFAULTS.limits, ...limits }, findValue(node, 'limits'), r)).issues;
  t.same(check('limits:\n  headers_timeout_ms: 2000\n  request_timeout_ms: 1000\n', { headersTimeoutMs: 2000, requestTimeoutMs: 1000 }), [
    '2:23 limits.headers_timeout_ms: must not exceed limits.request_timeout_ms (1000)',
  ]);
  t.same(check('limits:\n  request_timeout_ms: 0\n', { headersTimeoutMs: 2000, requestTimeoutMs: 0 }), []);
});
