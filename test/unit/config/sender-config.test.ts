/** auth.dpop, auth.mtls, require_sender_constrained and a route's sender_constrained, through the real loader. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { testConfigYaml } from '../../helpers/config.js';

function load(auth: string, route = 'GET /a: a:read'): { config: ReturnType<typeof loadConfigText>['config']; errors: string[] } {
  const text = testConfigYaml({ issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks', routes: [route], authExtra: auth });
  const { config, issues } = loadConfigText(text, 'test.yaml');
  return { config, errors: issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`) };
}

t.test('defaults: off unless written; a written dpop section gets its defaults', async (t) => {
  const off = load('');
  t.equal(off.config?.auth.dpop, undefined);
  t.equal(off.config?.auth.mtls, undefined);
  t.equal(off.config?.auth.requireSenderConstrained, false);
  const on = load('  dpop:\n    origins: [https://api.example.com]\n  mtls: {}\n  require_sender_constrained: true');
  t.same(on.errors, []);
  t.same(on.config?.auth.dpop, { origins: ['https://api.example.com'], algorithms: ['ES256', 'EdDSA', 'RS256'], maxAgeS: 60 });
  t.same(on.config?.auth.mtls, { certHeader: 'x-forwarded-client-cert', certHeaderFormat: 'xfcc' });
  t.equal(on.config?.auth.requireSenderConstrained, true);
});

t.test('config errors: an origin with a path, query or userinfo; none and HS* algorithms; a reserved cert header', async (t) => {
  for (const origin of ['https://api.example.com/v1', 'https://api.example.com?x=1', 'ftp://api.example.com', 'https://u@api.example.com', 'api.example.com']) {
    const { errors } = load(`  dpop:\n    origins: [${JSON.stringify(origin)}]`);
    t.match(errors.join('\n'), /auth\.dpop\.origins\[0\]: must be an origin/, origin);
  }
  for (const alg of ['none', 'HS256']) {
    const { errors } = load(`  dpop:\n    origins: [https://api.example.com]\n    algorithms: [ES256, ${alg}]`);
    t.match(errors.join('\n'), /auth\.dpop\.algorithms\[1\]/, alg);
  }
  t.match(load('  mtls:\n    cert_header: authorization').errors.join('\n'), /auth\.mtls\.cert_header: .*reserved/);
  t.match(load('  mtls:\n    cert_header_format: der').errors.join('\n'), /must be one of xfcc, pem/);
});

t.test('route sender_constrained: read, and refused on a public route', async (t) => {
  // With a binding method configured: without one the route could never be satisfied (the test below).
  const ok = load('  mtls: {}', 'GET /a: { scope: a:read, sender_constrained: true }');
  t.same(ok.errors, []);
  t.equal(ok.config?.routes[0]?.senderConstrained, true);
  t.equal(load('').config?.routes[0]?.senderConstrained, undefined, 'absent: false');
  t.match(load('', 'GET /a: { auth: none, sender_constrained: true }').errors.join('\n'), /sender_constrained: true needs a token/);
  t.match(load('', 'GET /a: { scope: a:read, sender_constrained: yes }').errors.join('\n'), /must be true or false/);
});

t.test('a sender-constrained requirement with neither auth.dpop nor auth.mtls is an error at the setting', async (t) => {
  const why = /neither auth\.dpop nor auth\.mtls is configured, so no token can ever satisfy it/;
  const route = load('', 'GET /a: { scope: a:read, sender_constrained: true }');
  t.equal(route.config, undefined, 'not loaded');
  t.equal(route.errors.length, 1);
  t.match(route.errors[0], /^routes\."GET \/a": sender_constrained: true, but/);
  t.match(route.errors[0], why);
  const global = load('  require_sender_constrained: true', 'GET /a: { scope: a:read, sender_constrained: true }');
  t.same(global.errors.length, 1, 'one error for the global setting, not one more per route');
  t.match(global.errors[0], /^auth\.require_sender_constrained: is true, but/);
  // Positive controls: either binding method makes the same settings valid.
  t.same(load('  require_sender_constrained: true\n  mtls: {}').errors, []);
  t.same(load('  require_sender_constrained: true\n  dpop:\n    origins: [https://api.example.com]').errors, []);
  t.same(load('  require_sender_constrained: false').errors, [], 'false needs nothing');
});
