/** `scopegate explain OPTIONS … --origin … --request-method …`: a CORS preflight, explained. */
import t from 'tap';
import { explainRequest } from '../../../src/explain/explain.js';
import { formatExplanation } from '../../../src/explain/format.js';
import { testConfig } from '../../helpers/config.js';

const config = testConfig({
  issuer: 'https://idp.test/',
  jwksUri: 'http://127.0.0.1:9/jwks',
  routes: ['GET /orgs: org:read', 'POST /orgs: org:write'],
  extra: 'cors:\n  allowed_origins: [https://app.example.com]',
});

t.test('an allowed preflight: 204 answered by scopegate with its headers', async (t) => {
  const e = await explainRequest(config, { method: 'OPTIONS', target: '/orgs', origin: 'https://app.example.com', requestMethod: 'POST' });
  t.equal(e.outcome.allow, true);
  if (!e.outcome.allow) return;
  const response = e.outcome.answered?.response;
  t.equal(response?.status, 204);
  t.same(Object.fromEntries(response?.headers ?? []), {
    'access-control-allow-origin': 'https://app.example.com',
    vary: 'Origin',
    'access-control-expose-headers': 'www-authenticate',
    'access-control-allow-methods': 'GET, HEAD, POST',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': '600',
  });
  t.match(formatExplanation(e, { color: false }), /CORS preflight/);
});

t.test('another origin: the 403 deny, without CORS headers', async (t) => {
  const e = await explainRequest(config, { method: 'OPTIONS', target: '/orgs', origin: 'https://evil.example', requestMethod: 'GET' });
  t.equal(e.outcome.allow, false);
  if (e.outcome.allow) return;
  t.equal(e.outcome.response.status, 403);
  t.equal(e.outcome.deny.code, 'ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED');
  t.notOk(e.outcome.response.headers.some(([k]) => k.startsWith('access-control-')));
});

t.test('an unrouted method: 405 with the CORS headers of the allowed origin', async (t) => {
  const e = await explainRequest(config, { method: 'OPTIONS', target: '/orgs', origin: 'https://app.example.com', requestMethod: 'PUT' });
  t.equal(e.outcome.allow, false);
  if (e.outcome.allow) return;
  t.equal(e.outcome.response.status, 405);
  t.ok(e.outcome.response.headers.some(([k, v]) => k === 'access-control-allow-origin' && v === 'https://app.example.com'));
});
