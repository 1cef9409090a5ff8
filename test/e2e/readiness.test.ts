/**
 * Readiness per issuer through the real process: an issuer whose JWKS cannot be
 * reached and is marked `readiness: optional` does not hold /readyz at 503, and
 * the healthy issuer's tokens are served; left unmarked (required), it does.
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.healthy.test/';
const DOWN = 'https://idp.down.test/';

/** A second issuer whose JWKS refuses connections (port 9 on loopback: nothing listens). */
function withDownIssuer(readiness: string | undefined) {
  return (yaml: string): string =>
    yaml.replace(
      '  scope_matching:',
      `    - issuer: ${DOWN}\n      jwks_uri: http://127.0.0.1:9/jwks\n      audiences: [https://api.example.com]\n${readiness === undefined ? '' : `      readiness: ${readiness}\n`}  scope_matching:`,
    );
}

t.test('an optional issuer that is down: ready, and the healthy issuer is served', async (t) => {
  const { sidecar, token } = await startStack(t, { issuer: ISSUER, routes: ['GET /r: r:read'], patchYaml: withDownIssuer('optional') });
  t.equal((await send(sidecar.adminUrl, '/readyz')).status, 200);
  t.match((await send(sidecar.adminUrl, '/metrics')).body, /scopegate_ready 1/);
  t.equal((await send(sidecar.url, '/r', { headers: { authorization: `Bearer ${token('r:read')}` } })).status, 200);
  t.match((await send(sidecar.adminUrl, '/metrics')).body, /scopegate_jwks_keys\{issuer="https:\/\/idp\.down\.test\/"\} 0/, 'the metrics still show the down issuer');
});

t.test('the same issuer unmarked (required): 503 as before', async (t) => {
  const { sidecar, token } = await startStack(t, { issuer: ISSUER, routes: ['GET /r: r:read'], patchYaml: withDownIssuer(undefined) });
  t.equal((await send(sidecar.adminUrl, '/readyz')).status, 503);
  t.equal((await send(sidecar.url, '/r', { headers: { authorization: `Bearer ${token('r:read')}` } })).status, 200, "the healthy issuer's tokens are still served");
});
