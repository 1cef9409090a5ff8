/** `cors:` as the loader reads it: defaults, and every error with its position. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { testConfigYaml } from '../../helpers/config.js';

function load(cors: string, routes = ['GET /orgs: org:read']) {
  return loadConfigText(testConfigYaml({ issuer: 'https://idp.test/', jwksUri: 'https://idp.test/jwks', routes, extra: cors }), 'c.yaml');
}
function errors(cors: string, routes?: string[]): string[] {
  return load(cors, routes).issues.filter((i) => i.severity === 'error').map((i) => `${i.path}: ${i.message}`);
}

t.test('defaults', async (t) => {
  const { config } = load('cors:\n  allowed_origins: [https://app.example.com]');
  t.same(config?.cors, {
    allowedOrigins: ['https://app.example.com'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['www-authenticate'],
    allowCredentials: false,
    maxAgeS: 600,
    forwardPreflight: false,
  });
  t.equal(load('').config?.cors, undefined, 'no section: no CORS');
});

t.test('errors', async (t) => {
  t.match(errors("cors:\n  allowed_origins: ['*']\n  allow_credentials: true"), [/cors.allow_credentials: cannot be true with allowed_origins \['\*'\]/]);
  t.match(errors('cors:\n  allowed_origins: [https://app.example.com/]'), [/cors.allowed_origins\[0\]: must be an origin/]);
  t.match(errors('cors:\n  allowed_origins: [app.example.com]'), [/must be an origin/]);
  t.match(errors('cors:\n  allowed_origin: [https://a.example]'), [/cors.allowed_origin: unknown key/, /needs allowed_origins/]);
  t.match(errors('cors:\n  allowed_origins: [https://a.example]\n  forward_preflight: true'), [/exclude each other/]);
  t.match(errors("cors:\n  allowed_origins: ['*', https://a.example]"), [/'\*' must be the only origin/]);
  t.same(errors('cors:\n  forward_preflight: true'), []);
});

t.test('websocket: true only on a GET route that is forwarded', async (t) => {
  t.same(errors('', ['GET /ws: { scope: chat, websocket: true }']), []);
  t.match(errors('', ['POST /ws: { scope: chat, websocket: true }']), [/websocket: true needs a GET route/]);
  t.match(errors('', ['GET /ws: { scope: chat, websocket: yes }']), [/must be true or false/]);
});
