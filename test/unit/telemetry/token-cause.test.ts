/** The cause table: every token error code has one bounded cause; other codes have none. */
import t from 'tap';
import { TOKEN_CAUSES, tokenCause } from '../../../src/telemetry/token-cause.js';
import { trailingSlashOnly, loggedPath, MAX_LOGGED_CHARS, mismatchFragment } from '../../../src/telemetry/diagnosis.js';

t.test('token error codes map to the documented causes', async (t) => {
  const expected: Record<string, string> = {
    ERR_AUTH_TOKEN_EXPIRED: 'expired',
    ERR_AUTH_TOKEN_NOT_YET_VALID: 'not_yet_valid',
    ERR_AUTH_TOKEN_SIGNATURE: 'bad_signature',
    ERR_AUTH_TOKEN_KEY_UNKNOWN: 'unknown_key',
    ERR_AUTH_TOKEN_ISSUER: 'issuer',
    ERR_AUTH_TOKEN_AUDIENCE: 'audience',
    ERR_AUTH_TOKEN_MALFORMED: 'malformed',
    ERR_AUTH_TOKEN_TOO_LARGE: 'malformed',
    ERR_AUTH_TOKEN_HEADER_FORBIDDEN: 'malformed',
    ERR_AUTH_TOKEN_MISSING_EXP: 'malformed',
    ERR_AUTH_TOKEN_BAD_CLAIM: 'malformed',
    ERR_AUTH_TOKEN_ALG_NOT_ALLOWED: 'algorithm',
    ERR_AUTH_TOKEN_KEY_MISMATCH: 'algorithm',
    ERR_AUTH_TOKEN_INACTIVE: 'inactive',
  };
  for (const [code, cause] of Object.entries(expected)) t.equal(tokenCause(code), cause, code);
  // sender_constraint is no token error: the deny of a binding that cannot be checked carries it itself.
  t.same(new Set([...Object.values(expected), 'sender_constraint']), new Set(TOKEN_CAUSES), 'every cause is reachable and the set is closed');
  for (const code of ['ERR_AUTH_INSUFFICIENT_SCOPE', 'ERR_AUTH_TOKEN_MISSING', 'ERR_ROUTE_NOT_FOUND', 'toString', '__proto__', undefined]) {
    t.equal(tokenCause(code), undefined, `${String(code)}: no cause`);
  }
});

t.test('trailing-slash-only mismatches and logged paths', async (t) => {
  t.ok(trailingSlashOnly('https://idp/', ['https://idp']));
  t.ok(trailingSlashOnly('https://idp', ['https://idp/']));
  t.ok(trailingSlashOnly(['x', 'https://idp'], ['https://idp/']));
  t.notOk(trailingSlashOnly('https://idp/', ['https://idp/']), 'equal is no mismatch');
  t.notOk(trailingSlashOnly('https://other/', ['https://idp/']));
  t.notOk(trailingSlashOnly(42, ['https://idp/']));
  t.equal(loggedPath('/a/b?access_token=secret'), '/a/b', 'the query never reaches the log');
  t.equal(loggedPath(`/${'x'.repeat(1000)}`).length, MAX_LOGGED_CHARS + 1, 'cut, with an ellipsis');
  const fragment = JSON.parse(`{${mismatchFragment({ claim: 'iss', presented: 'y'.repeat(1000), expected: ['https://idp/'] }).slice(1)}}`) as { mismatch: { presented: string } };
  t.equal(fragment.mismatch.presented.length, MAX_LOGGED_CHARS + 1, 'a presented value is cut too');
});
