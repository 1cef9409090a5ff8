/**
 * The token step's routing (a compact JWS to the JWT verifier, anything else to the
 * introspector when configured) and the client secret's sources, against a real loopback
 * introspection endpoint.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ClientSecretError, createAuthVerifier, readClientSecret } from '../../../src/auth/introspect-verifier.js';
import { basicCredentials } from '../../../src/auth/introspect-call.js';
import type { IntrospectionConfig } from '../../../src/config/schema.js';
import { configFromYaml } from '../../helpers/config.js';
import { startIntrospectionServer } from '../../helpers/introspection-server.js';
import { generateKey } from '../../helpers/keys.js';
import { claims, signToken } from '../../helpers/tokens.js';

function introspection(overrides: Partial<IntrospectionConfig>): IntrospectionConfig {
  return {
    endpoint: 'http://127.0.0.1:9/introspect',
    clientId: 'scopegate',
    clientSecretFile: undefined,
    clientSecretEnv: undefined,
    issuer: undefined,
    audiences: undefined,
    cacheTtlS: 60,
    negativeCacheTtlS: 5,
    timeoutMs: 1000,
    maxInFlight: 4,
    ...overrides,
  };
}

t.test('readClientSecret: a file (trailing whitespace trimmed) or a variable; never empty', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-secret-'));
  const file = join(dir, 'secret');
  writeFileSync(file, ' s3cret:+ \n\n');
  t.equal(readClientSecret(introspection({ clientSecretFile: file })), ' s3cret:+', 'leading whitespace is part of the secret');
  t.equal(readClientSecret(introspection({ clientSecretEnv: 'GATE' }), { GATE: 'from-env\n' }), 'from-env');
  t.throws(() => readClientSecret(introspection({ clientSecretFile: join(dir, 'missing') })), new ClientSecretError(`auth.introspection: cannot read client_secret_file ${join(dir, 'missing')} (ENOENT)`));
  t.throws(() => readClientSecret(introspection({ clientSecretEnv: 'GATE' }), {}), new ClientSecretError('auth.introspection: client_secret_env GATE is unset or empty'));
  writeFileSync(file, '\n');
  t.throws(() => readClientSecret(introspection({ clientSecretFile: file })), { message: /is unset or empty$/ }, 'a file of whitespace is no secret');
});

t.test('routing: a JWS to the JWT verifier, an opaque token to the endpoint', async (t) => {
  const server = await startIntrospectionServer();
  t.teardown(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-secret-'));
  writeFileSync(join(dir, 'secret'), 'first\n');
  const yaml = (extra: string) => `upstream:\n  url: http://127.0.0.1:3000\nauth:\n${extra}routes:\n  GET /a: a\n`;
  const intro = `  introspection:\n    endpoint: ${server.endpoint}\n    client_id: scopegate\n    client_secret_file: ${join(dir, 'secret')}\n`;
  const config = configFromYaml(yaml(intro));
  t.same(config.auth.issuers, [], 'an introspection-only config has no issuers');

  server.answer = () => ({ active: true, scope: 'a', sub: 'u1' });
  const calls: string[] = [];
  const v = createAuthVerifier(config.auth, { onIntrospection: (result) => calls.push(result) });
  t.teardown(() => v.close());
  t.ok(v.ready(), 'no keys to load: ready at once');
  const opaque = await v.verify('opaque-token-1');
  t.ok(opaque.ok && opaque.token.subject === 'u1');
  t.equal(server.calls.at(-1)?.headers.authorization, basicCredentials('scopegate', 'first'));
  t.same(calls, ['active']);

  const jwt = signToken(generateKey('p256'), claims('https://idp.example.com/', 'api', { scope: 'a' }));
  const refused = await v.verify(jwt);
  // No issuer allows any algorithm: refused before its payload is read.
  t.equal(refused.ok ? 'ok' : refused.error.code, 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'a JWT is never introspected');
  t.equal(server.calls.length, 1);

  // A new generation re-reads the secret.
  writeFileSync(join(dir, 'secret'), 'second\n');
  const next = createAuthVerifier(config.auth, {}, v);
  t.teardown(() => next.close());
  await next.verify('opaque-token-2');
  t.equal(server.calls.at(-1)?.headers.authorization, basicCredentials('scopegate', 'second'));

  const jwtOnly = createAuthVerifier(configFromYaml(yaml('  issuers:\n    - { issuer: i, jwks_uri: "http://127.0.0.1:9/j", audiences: [a] }\n')).auth);
  t.teardown(() => jwtOnly.close());
  const r = await jwtOnly.verify('opaque-token-3');
  t.ok(!r.ok && r.error.code === 'ERR_AUTH_TOKEN_MALFORMED', 'without introspection an opaque token is malformed, as before');
  t.equal(server.calls.length, 2);
});
