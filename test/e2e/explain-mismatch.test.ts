/**
 * `explain --token` names the presented and expected `iss` / `aud` of a refused token,
 * and says when `iss` differs only by a trailing slash, as the access line does
 * (telemetry/diagnosis.ts). A real JWKS server on 127.0.0.1 and really signed tokens.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/commands/explain.js';
import { testConfigYaml } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, signToken } from '../helpers/tokens.js';

const ISSUER = 'https://idp.explain-mismatch.test/';
const AUD = 'https://api.scopegate.test';

t.test('issuer and audience mismatches: presented, expected, and the trailing-slash note', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-explain-mismatch-'));
  t.teardown(async () => {
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = join(dir, 'scopegate.yaml');
  writeFileSync(config, testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, audiences: [AUD], routes: ['GET /reports/:id: reports:read'] }));

  const explain = async (token: string): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await run(['--config', config, 'GET', '/reports/1', '--token', token], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } });
    return { code, out };
  };
  const sign = (iss: string, aud: string | string[]): string => signToken(key, claims(iss, aud, { scope: 'reports:read' }));

  const slash = await explain(sign(ISSUER.slice(0, -1), AUD));
  t.equal(slash.code, 1, 'denied');
  t.match(slash.out, /result +ERR_AUTH_TOKEN_ISSUER: /);
  t.match(slash.out, /\n +presented iss +"https:\/\/idp\.explain-mismatch\.test"\n +expected +"https:\/\/idp\.explain-mismatch\.test\/"\n +differs only by a trailing slash\n/);

  const other = await explain(sign('https://elsewhere.test/', AUD));
  t.match(other.out, /presented iss +"https:\/\/elsewhere\.test\/"\n +expected +"https:\/\/idp\.explain-mismatch\.test\/"\n/);
  t.notMatch(other.out, /trailing slash/, 'no note when the values differ otherwise');

  const aud = await explain(sign(ISSUER, ['https://a.test', 'https://b.test']));
  t.match(aud.out, /result +ERR_AUTH_TOKEN_AUDIENCE: /);
  t.match(aud.out, /presented aud +\["https:\/\/a\.test","https:\/\/b\.test"\]\n +expected +"https:\/\/api\.scopegate\.test"\n/);
  t.notMatch(aud.out, /trailing slash/);

  const audSlash = await explain(sign(ISSUER, `${AUD}/`));
  t.match(audSlash.out, /presented aud +"https:\/\/api\.scopegate\.test\/"\n +expected +"https:\/\/api\.scopegate\.test"\n +differs only by a trailing slash/);

  const valid = await explain(sign(ISSUER, AUD));
  t.equal(valid.code, 0, 'positive control: the same key and claims with the right iss and aud are allowed');
  t.notMatch(valid.out, /presented/);
});
