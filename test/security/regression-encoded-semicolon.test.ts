/**
 * Regression: percent-encoded `;` (`%3B`, `%3b`) and its double encoding
 * (`%253B`) were decoded-as-data and forwarded. An upstream that percent-decodes
 * *before* stripping `;` path parameters (Apache Shiro CVE-2020-1957 and
 * CVE-2020-13933; Spring's StrictHttpFirewall refuses `%3B` for this reason)
 * reads `/public/..%3B/admin/x` as `/public/..;/admin/x` → `/public/../admin/x`
 * → `/admin/x`, a path scopegate had authorized as the public `/public/*`.
 * Fixed in src/routes/normalize.ts (decodeSegment, hasDoubleEncodedSeparator):
 * `%3B` is ERR_PATH_PARAMETER, `%253B` ERR_PATH_ENCODED_SEPARATOR — both 400.
 */
import t from 'tap';
import { canonicalizeTarget } from '../../src/routes/normalize.js';
import { PathError } from '../../src/errors.js';
import { get, startWorld } from './fixture.js';

const CASES: readonly [string, string][] = [
  ['/public/..%3B/admin/x', 'ERR_PATH_PARAMETER'],
  ['/public/..%3b/admin/x', 'ERR_PATH_PARAMETER'],
  ['/public/a%3Bjsessionid=1', 'ERR_PATH_PARAMETER'],
  ['/admin%3B/x', 'ERR_PATH_PARAMETER'],
  ['/public/..%253B/admin/x', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/public/..%253b/admin/x', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/public/%25%33%42', 'ERR_PATH_ENCODED_SEPARATOR'], // decodes to %3B… via %25 3 B: double-encoded ;
];

t.test('canonicalizer refuses encoded and double-encoded ";"', async (t) => {
  for (const [target, code] of CASES) {
    const r = canonicalizeTarget(target);
    t.ok(r instanceof PathError, target);
    t.equal((r as PathError).code, code, target);
  }
  // Query `;` is untouched (forwarded as is, never matched).
  t.same(canonicalizeTarget('/public/a?x=%3B;y'), { path: '/public/a', query: '?x=%3B;y' });
});

t.test('the real sidecar answers 400 and the upstream sees nothing', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  for (const [target] of CASES) {
    const r = await w.probe(get(target));
    t.equal(r.first?.status, 400, target);
    t.equal(r.first?.json?.error, 'invalid_request', target);
    t.equal(r.delta.length, 0, `${target}: upstream saw nothing`);
  }
  const ok = await w.probe(get('/public/a%3A'));
  t.equal(ok.first?.status, 200, 'positive control: other encoded sub-delims still pass');
  t.equal(ok.delta[0]?.url, '/public/a%3A');
});
